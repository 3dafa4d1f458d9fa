// Package storetest gives tests fresh databases: a new SQLite file always,
// and a new Postgres database when ASSESSGATE_TEST_DATABASE_URL names a
// server to create it on.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/store"
)

// EnvPostgres names the environment variable with the Postgres URL tests
// create their databases on, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvPostgres = "ASSESSGATE_TEST_DATABASE_URL"

// Database is a fresh database for one test.
type Database struct {
	Name string // "sqlite" or "postgres": use it in subtest names
	URL  string // what ASSESSGATE_DATABASE_URL would say
}

// Databases returns a fresh SQLite database, and a fresh Postgres database
// when EnvPostgres is set. Without it, it logs once per test that Postgres
// is skipped; CI always sets it.
func Databases(t testing.TB) []Database {
	t.Helper()
	dbs := []Database{SQLite(t)}
	if pg, ok := Postgres(t); ok {
		dbs = append(dbs, pg)
	} else {
		RequireInCI(t, EnvPostgres)
		Skipped(EnvPostgres)
		t.Logf("Postgres skipped: %s is not set", EnvPostgres)
	}
	return dbs
}

// RequireInCI fails the test when it runs in CI (CI=true) without the
// environment variable env, which names a service CI must provide: CI never
// skips a test for want of a service.
func RequireInCI(t testing.TB, env string) {
	t.Helper()
	if os.Getenv("CI") == "true" && os.Getenv(env) == "" {
		t.Fatalf("CI=true but %s is not set: .ci/run must start the service", env)
	}
}

// SQLite returns a new SQLite database file in the test's temporary directory.
func SQLite(t testing.TB) Database {
	t.Helper()
	return Database{Name: "sqlite", URL: "sqlite:" + filepath.Join(t.TempDir(), "assessgate.db")}
}

// Postgres creates a new database on the server EnvPostgres names and drops
// it when the test ends. ok is false when EnvPostgres is not set.
func Postgres(t testing.TB) (db Database, ok bool) {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		return Database{}, false
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "assessgate_test_" + hex.EncodeToString(b)

	conn, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgres, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return Database{Name: "postgres", URL: u.String()}, true
}

// Open opens and migrates d, closing it when the test ends.
func Open(t testing.TB, d Database) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, d.URL)
	if err != nil {
		t.Fatalf("store.Open(%q) = %v", d.URL, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return db
}
