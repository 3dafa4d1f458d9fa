package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/internal/orders"
)

// Hooks are called inside the transaction that stores the data that causes
// them, so the jobs they insert commit (or roll back) with that data.
type Hooks struct {
	// OrdersCreated runs once per transaction that created orders, with
	// all of them (webhooks', inline or not, and reconciliation's), before
	// the commit; an error rolls the transaction back. Intake's group commit
	// stores many webhooks in one transaction: this is where their jobs are
	// inserted in one statement rather than one each (docs/benchmarks.md).
	OrdersCreated func(ctx context.Context, tx *sql.Tx, os []*orders.Order) error
	// IntegrationCreated runs when an integration-created webhook is stored.
	IntegrationCreated func(ctx context.Context, tx *sql.Tx, integrationID string) error
	// ResultAccepted runs when a result for an order is accepted.
	ResultAccepted func(ctx context.Context, tx *sql.Tx, o *orders.Order, r *orders.Result) error
	// ResultDelivered runs when Kombo took a result.
	ResultDelivered func(ctx context.Context, tx *sql.Tx, o *orders.Order, r *orders.Result) error
	// PackagesChanged runs for each active integration when the package
	// catalogue changes.
	PackagesChanged func(ctx context.Context, tx *sql.Tx, integrationID string) error
	// OrderStarted runs when a candidate first opens a link of an order.
	OrderStarted func(ctx context.Context, tx *sql.Tx, o *orders.Order) error
	// InviteRequested runs when the vendor asks for an invitation to be sent
	// again; nil when assessgate does not e-mail invitations.
	InviteRequested func(ctx context.Context, tx *sql.Tx, o *orders.Order) error
	// OrdersErased runs when the personal data of orders was erased, with
	// their ids.
	OrdersErased func(ctx context.Context, tx *sql.Tx, orderIDs []string) error
}

// Store keeps orders and everything around them. Its methods are safe for
// concurrent use.
type Store struct {
	db     *DB
	logger *slog.Logger
	hooks  Hooks
	group  *committer       // webhooks
	writes *committer       // Write: jobs' writes; on SQLite the same as group
	keys   *keyring.Keyring // nil: personal data is stored in clear

	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns a Store on db. Hooks may be set later with SetHooks, before the
// store is used.
func New(db *DB, logger *slog.Logger) *Store {
	s := &Store{db: db, logger: logger, Now: time.Now}
	s.SetGroupCommit(DefaultGroupCommit(db.Dialect))
	return s
}

// SetGroupCommit configures group commit for Intake and Write; zero fields
// take the defaults of DefaultGroupCommit. Call it before the store is used.
func (s *Store) SetGroupCommit(g GroupCommit) {
	s.group = newCommitter(s, g, s.db.commitPool())
	s.writes = s.group
	if s.db.Dialect == Postgres {
		s.writes = newCommitter(s, g, s.db.Writer)
	}
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

// SetHooks sets the hooks called when orders and integrations are created.
func (s *Store) SetHooks(h Hooks) { s.hooks = h }

// DB returns the database the store uses.
func (s *Store) DB() *DB { return s.db }

func (s *Store) nowMillis() int64 { return s.Now().UnixMilli() }

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

// ordersCreated runs the OrdersCreated hook, if any orders were created.
func (s *Store) ordersCreated(ctx context.Context, tx *sql.Tx, os []*orders.Order) error {
	if len(os) == 0 || s.hooks.OrdersCreated == nil {
		return nil
	}
	if err := s.hooks.OrdersCreated(ctx, tx, os); err != nil {
		return unavailable(fmt.Errorf("orders created hook: %w", err))
	}
	return nil
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
// deadlock. Jobs record what they did through it.
func (s *Store) Write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
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
