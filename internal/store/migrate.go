package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one forward-only schema change.
type migration struct {
	version int
	name    string
	sql     string
}

func (db *DB) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(db.Dialect))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// RiverDriver returns the River driver for the database: riversqlite on
// SQLite, riverdatabasesql on Postgres. Both work on *sql.Tx, so the store
// inserts jobs in its own transactions on either database.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.Dialect == SQLite {
		return riversqlite.New(db.Writer)
	}
	return riverdatabasesql.New(db.Writer)
}

// Pending returns the assessgate and River migrations not yet applied.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	if err := db.ensureVersionTable(ctx); err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := db.migrations()
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range ms {
		if !applied[m.version] {
			pending = append(pending, "assessgate "+m.name)
		}
	}
	migrator, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return nil, err
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range res.Versions {
		pending = append(pending, fmt.Sprintf("river %03d_%s", v.Version, v.Name))
	}
	return pending, nil
}

// Migrate applies every pending migration, each in its own transaction:
// assessgate's own, then River's. It is safe to run on an up-to-date database
// and, on Postgres, from several replicas at once.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.ensureVersionTable(ctx); err != nil {
		return err
	}
	ms, err := db.migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	migrator, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return err
	}
	if db.Dialect == Postgres {
		// River's migrator takes no lock of its own; serialise replicas that
		// migrate at the same time on an advisory lock.
		conn, err := db.Writer.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7346001)"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7346001)")
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

func (db *DB) ensureVersionTable(ctx context.Context) error {
	_, err := db.Writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS assessgate_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	return nil
}

func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := db.Writer.QueryContext(ctx, "SELECT version FROM assessgate_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

func (db *DB) apply(ctx context.Context, m migration) error {
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.Dialect == Postgres {
		// Serialises concurrent migrators until this transaction ends.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7346000)"); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM assessgate_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO assessgate_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, nowMillis()); err != nil {
		return err
	}
	return tx.Commit()
}
