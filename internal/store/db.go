// Package store keeps assessgate's orders, integrations, webhook events and
// timelines in SQLite or Postgres, together with River's job tables, so that
// the jobs an order causes are inserted in the transaction that stores it.
//
// One implementation serves both databases: both speak the same SQL for
// everything assessgate asks of them ($n placeholders, ON CONFLICT,
// RETURNING, row values), times are stored as Unix milliseconds, and only the
// migrations and the connection set-up differ. Two copies of every query
// would drift; one copy run by one conformance suite against both cannot.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/assessgate/assessgate/internal/store/stmtcache"
)

// Dialect names the database behind a DB.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database: a pool for writes (and River), and one for reads.
// On SQLite the writer is a single connection, since SQLite allows one writer
// at a time and River fails with SQLITE_BUSY otherwise; readers use their own
// connections, which WAL lets run beside the writer. On Postgres both are the
// same pool.
type DB struct {
	Dialect Dialect
	Writer  *sql.DB
	Reader  *sql.DB
	// Path is the SQLite file, empty on Postgres.
	Path string

	// commits, on Postgres, is a pool of its own for the transactions of
	// group commit, so that webhooks never wait for a connection behind
	// jobs or API reads. On SQLite they use the writer.
	commits *sql.DB

	// SQLite's checkpointer (see checkpoints).
	checkpointer  *sql.DB
	stop, stopped chan struct{}
	stopOnce      sync.Once
}

// groupCommitConns is the size of the group commit pool on Postgres: one
// connection per committer (GroupCommit.Committers).
const groupCommitConns = 4

// commitPool returns the pool of group commit's transactions.
func (db *DB) commitPool() *sql.DB {
	if db.commits != nil {
		return db.commits
	}
	return db.Writer
}

// Open opens the database that dsn names: "sqlite:PATH" (also
// "sqlite://PATH" and "file:PATH") or "postgres://…" / "postgresql://…".
// It does not apply migrations; see Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(20)
		pool.SetMaxIdleConns(20)
		commits, err := sql.Open("pgx", dsn)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		commits.SetMaxOpenConns(groupCommitConns)
		commits.SetMaxIdleConns(groupCommitConns)
		db := &DB{Dialect: Postgres, Writer: pool, Reader: pool, commits: commits}
		if err := pool.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		return db, nil
	default:
		path, ok := sqlitePath(dsn)
		if !ok {
			return nil, fmt.Errorf("database URL %q: want sqlite:PATH or postgres://…", redact(dsn))
		}
		return openSQLite(ctx, path)
	}
}

// SQLitePath returns the file of a SQLite database URL, and false for any
// other database.
func SQLitePath(dsn string) (string, bool) { return sqlitePath(dsn) }

func sqlitePath(dsn string) (string, bool) {
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(dsn, prefix) {
			p := strings.TrimPrefix(dsn, prefix)
			if i := strings.IndexByte(p, '?'); i >= 0 {
				p = p[:i]
			}
			return p, p != ""
		}
	}
	return "", false
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	// synchronous(FULL): a commit is on disk before it returns, so a 200 sent
	// after it survives power loss, not only a killed process.
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so
	// it never fails half-way on a lock upgrade.
	// secure_delete(ON): deleted and overwritten content (erased personal
	// data) is zeroed rather than left in free space until it is reused.
	// temp_store(MEMORY): the sub-journals of the intake's savepoints stay
	// in memory instead of spilling to temporary files (docs/benchmarks.md).
	params := "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_pragma=temp_store(MEMORY)"
	// The writer leaves checkpoints to a connection of their own (see
	// checkpoints), and only checkpoints itself when the WAL has grown past
	// walCheckpointPages, which the checkpointer keeps it from in practice.
	writer, err := stmtcache.Open("sqlite", "file:"+path+params+"&_txlock=immediate"+
		"&_pragma=wal_autocheckpoint("+strconv.Itoa(walCheckpointPages)+")")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader, err := stmtcache.Open("sqlite", "file:"+path+params+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader.SetMaxOpenConns(4)
	reader.SetMaxIdleConns(4)
	checkpointer, err := stmtcache.Open("sqlite", "file:"+path+params)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	checkpointer.SetMaxOpenConns(1)
	db := &DB{Dialect: SQLite, Writer: writer, Reader: reader, Path: path,
		checkpointer: checkpointer, stop: make(chan struct{}), stopped: make(chan struct{})}
	go db.checkpoints(walCheckpointEvery)
	return db, nil
}

// walCheckpointPages is the size of the WAL, in pages, past which the
// writer checkpoints it itself.
const walCheckpointPages = 4000

// walCheckpointEvery is how often the checkpointer copies what the WAL
// holds into the database file.
const walCheckpointEvery = 100 * time.Millisecond

// checkpoints copies the WAL into the database file every interval, on a
// connection of its own, until Close.
//
// SQLite's default is for the writing connection to do it after the commit
// that takes the WAL past 1,000 pages: that commit's webhooks, and every
// webhook queued behind them, then wait for the copy and the database
// file's flush; under load, that was a fifth of the writer's time. A
// passive checkpoint runs beside the writer without blocking it or the
// readers. The WAL starts over from its beginning once a checkpoint has
// copied all of it.
func (db *DB) checkpoints(interval time.Duration) {
	defer close(db.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			// Errors (SQLITE_BUSY while another checkpoint runs) change
			// nothing: the next tick tries again, and the writer's own
			// checkpoint remains behind it.
			db.checkpointer.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.checkpointer != nil {
		db.stopOnce.Do(func() {
			close(db.stop)
			<-db.stopped
			db.checkpointer.Close()
		})
	}
	err := db.Writer.Close()
	if db.Reader != db.Writer {
		if rerr := db.Reader.Close(); err == nil {
			err = rerr
		}
	}
	if db.commits != nil {
		if cerr := db.commits.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.Reader.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// redact hides a password in a database URL, for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Redact hides a password in a database URL, for logs and messages.
func Redact(dsn string) string { return redact(dsn) }
