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
	// requires is a table the migration changes but does not create,
	// named in its first line "-- requires table NAME": where the table
	// does not exist, the migration is recorded as applied without being
	// run. River's tables are made after assessgate's migrations, so a
	// migration of River's rows has nothing to change on a new database.
	requires string
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
		m := migration{version: v, name: e.Name(), sql: string(b)}
		first, _, _ := strings.Cut(m.sql, "\n")
		if table, ok := strings.CutPrefix(strings.TrimSpace(first), "-- requires table "); ok {
			m.requires = strings.TrimSpace(table)
		}
		ms = append(ms, m)
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

// Pending returns the assessgate and River migrations not yet applied, named
// as MigrateUp names them. It only reads: on a database that was never
// migrated every migration is pending, and nothing is created.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
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
		pending = append(pending, riverName(v))
	}
	return pending, nil
}

// Migrate applies every pending migration; see MigrateUp.
func (db *DB) Migrate(ctx context.Context) error {
	_, err := db.MigrateUp(ctx)
	return err
}

// MigrateUp applies every pending migration, each in its own transaction:
// assessgate's own, then River's. It returns the names of those it applied
// ("assessgate 0001_init.sql", "river 001_create_river_migration"), none on
// an up-to-date database. On Postgres it is safe to run from several
// replicas at once: they take turns on an advisory lock, and all but the
// first find nothing left to do.
func (db *DB) MigrateUp(ctx context.Context) ([]string, error) {
	if db.Dialect == Postgres {
		// River's migrator takes no lock of its own, and two concurrent
		// CREATE TABLE IF NOT EXISTS can both fail on Postgres's catalogue:
		// hold one lock for the whole run. It is a transaction-level lock on a
		// transaction of its own, so it ends with that transaction whatever
		// happens, and never stays behind on a pooled connection.
		lock, err := db.Writer.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("begin migration lock: %w", err)
		}
		defer lock.Rollback()
		if _, err := lock.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
	}
	if err := db.ensureVersionTable(ctx); err != nil {
		return nil, err
	}
	ms, err := db.migrations()
	if err != nil {
		return nil, err
	}
	var done []string
	for _, m := range ms {
		applied, err := db.apply(ctx, m)
		if err != nil {
			return done, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if applied {
			done = append(done, "assessgate "+m.name)
		}
	}
	migrator, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return done, err
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return done, fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range res.Versions {
		done = append(done, riverName(v))
	}
	return done, nil
}

// migrateLockKey is the Postgres advisory lock that serialises migrators.
const migrateLockKey = 7346001

func riverName(v rivermigrate.MigrateVersion) string {
	return fmt.Sprintf("river %03d_%s", v.Version, v.Name)
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

// appliedVersions returns the versions of assessgate's migrations applied so
// far: none when the version table does not exist yet.
func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	exists, err := db.tableExists(ctx, "assessgate_migrations")
	if err != nil || !exists {
		return map[int]bool{}, err
	}
	rows, err := db.Reader.QueryContext(ctx, "SELECT version FROM assessgate_migrations")
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
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

// tableExists reports whether a table exists, in the current schema on
// Postgres.
func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	q := "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1)"
	if db.Dialect == Postgres {
		q = "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1)"
	}
	var exists bool
	if err := db.Reader.QueryRowContext(ctx, q, name).Scan(&exists); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return exists, nil
}

// apply applies m unless it was applied before, and reports whether it did.
// On Postgres the caller holds the migration lock.
func (db *DB) apply(ctx context.Context, m migration) (bool, error) {
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM assessgate_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	run := true
	if m.requires != "" {
		if run, err = db.tableExists(ctx, m.requires); err != nil {
			return false, err
		}
	}
	if run {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO assessgate_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, nowMillis()); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}
