package store_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
)

// openRaw opens d without migrating it.
func openRaw(t testing.TB, d storetest.Database) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), d.URL)
	if err != nil {
		t.Fatalf("store.Open(%q) = %v", d.URL, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tables returns the names of the tables in db.
func tables(t testing.TB, db *store.DB) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Dialect == store.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := db.Reader.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestDB_Migrate(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d storetest.Database) {
		ctx := context.Background()
		db := openRaw(t, d)

		pending, err := db.Pending(ctx)
		if err != nil {
			t.Fatalf("Pending() = %v", err)
		}
		if len(pending) < 2 || pending[0] != "assessgate 0001_init.sql" || !slices.ContainsFunc(pending, func(s string) bool { return strings.HasPrefix(s, "river 001_") }) {
			t.Errorf("Pending() on a new database = %q; want assessgate's and River's migrations", pending)
		}
		if got := tables(t, db); len(got) != 0 {
			t.Errorf("tables after Pending() = %q; want none: a check does not write", got)
		}

		applied, err := db.MigrateUp(ctx)
		if err != nil {
			t.Fatalf("MigrateUp() = %v", err)
		}
		if !slices.Equal(applied, pending) {
			t.Errorf("MigrateUp() applied %q; want what Pending() listed, %q", applied, pending)
		}
		for _, want := range []string{"assessgate_migrations", "orders", "river_job", "river_leader"} {
			if !slices.Contains(tables(t, db), want) {
				t.Errorf("no table %s after MigrateUp()", want)
			}
		}

		// Idempotent.
		if applied, err := db.MigrateUp(ctx); err != nil || len(applied) != 0 {
			t.Errorf("MigrateUp() again = %q, %v; want nothing applied", applied, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Errorf("Migrate() again = %v", err)
		}
		if pending, err := db.Pending(ctx); err != nil || len(pending) != 0 {
			t.Errorf("Pending() after migrating = %q, %v; want none", pending, err)
		}
	})
}

// TestDB_Migrate_Concurrent migrates one Postgres database from several
// pools at once, as replicas started together with --migrate do: every
// migration is applied exactly once, and none fails.
func TestDB_Migrate_Concurrent(t *testing.T) {
	d, ok := storetest.Postgres(t)
	if !ok {
		storetest.RequireInCI(t, storetest.EnvPostgres)
		t.Skipf("Postgres only (SQLite has one process per file): %s is not set", storetest.EnvPostgres)
	}
	ctx := context.Background()
	want, err := openRaw(t, d).Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	dbs := make([]*store.DB, n)
	for i := range dbs {
		dbs[i] = openRaw(t, d)
	}
	applied := make([][]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			applied[i], errs[i] = db.MigrateUp(ctx)
		})
	}
	close(start)
	wg.Wait()
	var all []string
	for i := range n {
		if errs[i] != nil {
			t.Errorf("MigrateUp #%d = %v", i, errs[i])
		}
		all = append(all, applied[i]...)
	}
	slices.Sort(all)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("migrations applied by %d concurrent MigrateUp calls = %q; want each of %q once", n, all, want)
	}
}

// TestMigrations_BothDialects checks that every migration exists for both
// databases, so that neither falls behind the other.
func TestMigrations_BothDialects(t *testing.T) {
	names := func(dialect store.Dialect) []string {
		entries, err := os.ReadDir(filepath.Join("migrations", string(dialect)))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if lite, pg := names(store.SQLite), names(store.Postgres); !slices.Equal(lite, pg) {
		t.Errorf("migrations/sqlite = %q, migrations/postgres = %q; want the same names", lite, pg)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		dsn, path string
	}{
		{"sqlite:" + filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db")},
		{"sqlite://" + filepath.Join(dir, "b.db"), filepath.Join(dir, "b.db")},
		{"file:" + filepath.Join(dir, "c.db") + "?mode=rwc", filepath.Join(dir, "c.db")},
	} {
		db, err := store.Open(context.Background(), tt.dsn)
		if err != nil {
			t.Errorf("Open(%q) = %v", tt.dsn, err)
			continue
		}
		if db.Dialect != store.SQLite || db.Path != tt.path {
			t.Errorf("Open(%q) = %s at %q; want sqlite at %q", tt.dsn, db.Dialect, db.Path, tt.path)
		}
		db.Close()
	}
	for _, dsn := range []string{"", "sqlite:", "mysql://u@h/db", "assessgate.db"} {
		if db, err := store.Open(context.Background(), dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error; want one", dsn)
		}
	}
	if d, ok := storetest.Postgres(t); ok {
		// Both of Postgres's URL schemes.
		for _, dsn := range []string{d.URL, "postgresql" + strings.TrimPrefix(d.URL, "postgres")} {
			db, err := store.Open(context.Background(), dsn)
			if err != nil || db.Dialect != store.Postgres {
				t.Errorf("Open(%q) = %v; want Postgres", dsn, err)
				continue
			}
			db.Close()
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/assessgate", "postgres://app:xxxxx@db:5432/assessgate"},
		{"postgres://app@db/assessgate", "postgres://app@db/assessgate"},
		{"sqlite:assessgate.db", "sqlite:assessgate.db"},
	} {
		if got := store.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
