package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/internal/orders"
)

// Config is what a Store is made with. Only DB is required.
type Config struct {
	Logger *slog.Logger // nil: logs nothing
	// Clock is the time the store writes; nil: the wall clock.
	Clock clock.Clock
	// Keyring seals personal data; nil stores it in clear (see personal.go).
	Keyring *keyring.Keyring
	// GroupCommit is how concurrent webhooks (Intake) and jobs' writes
	// (Write) share transactions; zero fields take DefaultGroupCommit's.
	GroupCommit GroupCommit
	// Events is told what each write did, inside its transaction; nil:
	// nothing reacts (and RequestInvite is refused).
	Events Events
}

// Store keeps orders and everything around them. Its methods are safe for
// concurrent use.
type Store struct {
	db     *DB
	logger *slog.Logger
	clock  clock.Clock
	events Events
	group  *committer       // webhooks
	writes *committer       // Write: jobs' writes; on SQLite the same as group
	keys   *keyring.Keyring // nil: personal data is stored in clear
	health writeHealth      // the latest failed commit, for CheckWrites
}

// New returns a Store on db, complete: nothing is set after.
func New(db *DB, cfg Config) *Store {
	s := &Store{db: db, logger: cfg.Logger, clock: clock.Or(cfg.Clock), events: cfg.Events, keys: cfg.Keyring}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.events == nil {
		s.events = NoEvents
	}
	g := cfg.GroupCommit
	s.group = newCommitter(s, g, db.commitPool())
	s.writes = s.group
	if db.Dialect == Postgres {
		s.writes = newCommitter(s, g, db.Writer)
	}
	return s
}

// GroupCommit returns the group commit settings in effect.
func (s *Store) GroupCommit() GroupCommit { return s.group.cfg }

// GroupCommitStats returns what group commit has done so far, for webhooks
// and for Write together.
func (s *Store) GroupCommitStats() GroupCommitStats {
	a, b := s.group.stats(), GroupCommitStats{}
	if s.writes != s.group {
		b = s.writes.stats()
	}
	return GroupCommitStats{
		Transactions: a.Transactions + b.Transactions,
		Items:        a.Items + b.Items,
		Largest:      max(a.Largest, b.Largest),
		Retried:      a.Retried + b.Retried,
		Redone:       a.Redone + b.Redone,
	}
}

// Now returns the store's time.
func (s *Store) Now() time.Time { return s.clock.Now() }

// DB returns the database the store uses.
func (s *Store) DB() *DB { return s.db }

func (s *Store) nowMillis() int64 { return s.clock.Now().UnixMilli() }

func nowMillis() int64 { return time.Now().UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMillis(ms.Int64)
	return &t
}

func toNullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// inTx runs fn in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return unavailable(err)
	}
	return nil
}

// ordersCreated emits OrdersCreated, if any orders were created.
func (s *Store) ordersCreated(ctx context.Context, tx *sql.Tx, os []*orders.Order) error {
	if len(os) == 0 {
		return nil
	}
	return unavailable(s.happened(ctx, tx, OrdersCreated{Orders: os}))
}

// unavailable marks a failure to reach or write the database, which callers
// should answer with 503 rather than a 4xx.
func unavailable(err error) error {
	if orders.ErrorCode(err) != orders.EINTERNAL {
		return err
	}
	return &unavailableError{err}
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// IsUnavailable reports whether err says the database could not be reached
// or could not commit.
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// Write runs fn in a write transaction and returns once that transaction
// is committed, with fn's error (its writes rolled back) or an error for
// which IsUnavailable is true if the commit failed. Concurrent calls share
// transactions, as webhooks do, though on Postgres never with webhooks
// (GroupCommit): fn runs in a savepoint of its own, must write through tx only, with the ctx it is given (which the
// caller's cancellation does not reach, as it would every write of the
// shared transaction), and may run again in a later transaction after a
// deadlock. Jobs record what they did through it. If ctx ends first,
// Write returns while fn may still run: read what fn sets only after Write
// returned nil.
func (s *Store) Write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	defer func() { s.health.record(err) }()
	if s.writes.cfg.MaxItems > 1 {
		return s.writes.write(ctx, fn)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
