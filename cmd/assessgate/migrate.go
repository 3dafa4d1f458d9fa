package main

import (
	"context"
	"fmt"
	"io"

	"github.com/assessgate/assessgate/internal/store"
)

// runMigrate is "assessgate migrate": it brings the database schema, both
// assessgate's tables and River's, up to date and says what it applied. With
// --check it changes nothing and fails when migrations are pending, so a
// deployment can ask before it rolls out.
//
// On Postgres, several replicas share one database and "serve" does not
// migrate it unless told to (--migrate); this command is the operator's way.
// Running it while replicas serve, or twice at once, is safe.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newEnvFlags("migrate", getenv, stderr)
	dbURL := f.String("database-url", "ASSESSGATE_DATABASE_URL", "sqlite:assessgate.db", "database: sqlite:PATH or postgres://…")
	check := f.fs.Bool("check", false, "apply nothing; list pending migrations and fail if there are any")
	if err := f.Parse(args); err != nil {
		return err
	}

	db, err := store.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	where := store.Redact(*dbURL)

	if *check {
		pending, err := db.Pending(ctx)
		if err != nil {
			return fmt.Errorf("check migrations of %s: %w", where, err)
		}
		if len(pending) == 0 {
			fmt.Fprintf(stdout, "%s is up to date\n", where)
			return nil
		}
		for _, name := range pending {
			fmt.Fprintf(stdout, "pending %s\n", name)
		}
		return fmt.Errorf("%s is behind: %d migrations pending; run \"assessgate migrate\"", where, len(pending))
	}

	applied, err := db.MigrateUp(ctx)
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied %s\n", name)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", where, err)
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s is up to date\n", where)
	} else {
		fmt.Fprintf(stdout, "%s is up to date: %d migrations applied\n", where, len(applied))
	}
	return nil
}
