package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
)

// runCmd runs assessgate with args and env, and returns its stdout and error.
func runCmd(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Logf("%s: stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String(), err
}

// tableCount returns the number of tables in a database.
func tableCount(t testing.TB, dbURL string) int {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	if db.Dialect == store.Postgres {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	var n int
	if err := db.Reader.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		env := map[string]string{"ASSESSGATE_DATABASE_URL": dbURL}

		t.Run("CheckFresh", func(t *testing.T) {
			out, err := runCmd(t, env, "migrate", "--check")
			if err == nil || !strings.Contains(err.Error(), "pending") || !strings.Contains(err.Error(), "assessgate migrate") {
				t.Errorf("migrate --check on a fresh database = %v; want an error saying migrations are pending and what to run", err)
			}
			for _, want := range []string{"pending assessgate 0001_init.sql\n", "pending river 001_"} {
				if !strings.Contains(out, want) {
					t.Errorf("migrate --check printed %q; want it to contain %q", out, want)
				}
			}
			// A check does not write: not even the version table is created.
			if n := tableCount(t, dbURL); n != 0 {
				t.Errorf("tables after migrate --check = %d; want 0", n)
			}
		})

		t.Run("Apply", func(t *testing.T) {
			// The flag names the database as well as the environment does.
			out, err := runCmd(t, nil, "migrate", "--database-url", dbURL)
			if err != nil {
				t.Fatalf("migrate = %v", err)
			}
			for _, want := range []string{"applied assessgate 0001_init.sql\n", "applied river 001_", "migrations applied\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("migrate printed %q; want it to contain %q", out, want)
				}
			}
		})

		t.Run("ApplyAgain", func(t *testing.T) {
			out, err := runCmd(t, env, "migrate")
			if err != nil || strings.Contains(out, "applied") || !strings.Contains(out, "is up to date\n") {
				t.Errorf("migrate on a migrated database = %q, %v; want only that it is up to date", out, err)
			}
		})

		t.Run("CheckUpToDate", func(t *testing.T) {
			out, err := runCmd(t, env, "migrate", "--check")
			if err != nil || strings.Contains(out, "pending") || !strings.Contains(out, "is up to date\n") {
				t.Errorf("migrate --check on a migrated database = %q, %v; want that it is up to date", out, err)
			}
		})
	})
}

func TestMigrate_BadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // part of the error
	}{
		{"UnknownScheme", []string{"migrate", "--database-url", "mysql://x"}, "want sqlite:PATH or postgres://"},
		{"ExtraArgument", []string{"migrate", "now"}, "unexpected arguments: now"},
		{"UnknownFlag", []string{"migrate", "--force"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v; want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestServe_SchemaBehind shows the operator's path on Postgres: serve refuses
// a schema that is behind and names the command that fixes it; after
// "assessgate migrate" it starts without --migrate.
func TestServe_SchemaBehind(t *testing.T) {
	pg, ok := storetest.Postgres(t)
	if !ok {
		storetest.RequireInCI(t, storetest.EnvPostgres)
		storetest.Skipped(storetest.EnvPostgres)
		t.Skipf("Postgres skipped: %s is not set", storetest.EnvPostgres)
	}
	env := map[string]string{
		"ASSESSGATE_DATABASE_URL": pg.URL, "KOMBO_WEBHOOK_SECRET": testSecret, "ASSESSGATE_ADDR": "127.0.0.1:0",
	}
	_, err := runCmd(t, env, "serve")
	if err == nil || !strings.Contains(err.Error(), "schema is behind") || !strings.Contains(err.Error(), `"assessgate migrate"`) {
		t.Fatalf("serve on an empty Postgres = %v; want a refusal that says to run \"assessgate migrate\"", err)
	}
	if n := tableCount(t, pg.URL); n != 0 {
		t.Errorf("tables after the refusal = %d; want 0", n)
	}
	if _, err := runCmd(t, env, "migrate"); err != nil {
		t.Fatalf("migrate = %v", err)
	}
	a := startApp(t, pg.URL, nil, "--migrate=false")
	if status, resp := a.webhook(orderBody(t, "behind-ev", "behind-order", nil)); status != 200 {
		t.Errorf("POST order after migrate = %d %s; want 200", status, resp)
	}
}
