package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// GroupCommit configures how concurrent webhooks share transactions, and
// how the jobs' writes (Store.Write) share theirs.
//
// A durable commit costs a disk flush (SQLite synchronous=FULL, Postgres
// synchronous_commit=on), which takes far longer than the statements of one
// webhook: one transaction per webhook caps intake at the flushes per second
// of the disk. Group commit stores the webhooks that arrive while a
// transaction is being written in the next one, each in a savepoint of its
// own, and answers every one of them after that transaction commits. A 200
// still means that the webhook's data is on disk.
type GroupCommit struct {
	// MaxItems bounds the webhooks in one transaction; 1 turns group commit
	// off (one transaction per webhook). The default, 64, keeps a batch's
	// savepoints within the 64 subtransactions Postgres caches per
	// transaction; beyond that every reader pays for the overflow.
	MaxItems int
	// MaxWait is how long a transaction waits for more webhooks once the
	// queue is empty and it holds fewer than MaxItems. The default, zero,
	// waits for none: the webhooks that arrive while one transaction
	// commits make up the next, so batches grow with the load by
	// themselves, and a lone webhook is not delayed.
	MaxWait time.Duration
	// Committers is how many transactions may be open at once. SQLite has
	// one writer, so it is always 1 there; on Postgres the default, 4 (also
	// the most), lets one batch execute while others wait for their flush.
	// On Postgres the webhooks' transactions have a pool of connections of
	// their own and never take in jobs' writes (Store.Write), which have
	// committers of their own: a job's write that waits for a lock holds up
	// the jobs' batch, never a webhook. SQLite has no such waits and one
	// writer, so there webhooks and jobs' writes share transactions, and
	// commits.
	Committers int
}

// DefaultGroupCommit returns the defaults for a database.
func DefaultGroupCommit(d Dialect) GroupCommit {
	g := GroupCommit{MaxItems: 64, Committers: 1}
	if d == Postgres {
		g.Committers = 4
	}
	return g
}

// GroupCommitStats counts the work of group commit since the store was made.
type GroupCommitStats struct {
	// Transactions is the number of transactions begun for webhooks.
	Transactions int64
	// Items is the number of webhooks and other writes that went into
	// them (one retried after a deadlock counts twice).
	Items int64
	// Largest is the most items one transaction held.
	Largest int64
	// Retried counts webhooks moved to a later transaction after Postgres
	// broke a deadlock or a serialization conflict in their savepoint.
	Retried int64
	// Redone counts batches written again one webhook at a time after
	// writing them a table at a time failed (see Store.intakeBatch).
	Redone int64
}

// A committer runs the writes that arrive concurrently in shared
// transactions: group commit. It knows nothing of what it writes beyond
// what it is handed. Its contract:
//
//   - do queues a write for the next transaction and returns once that
//     transaction has committed: with the write's own error (and its
//     writes rolled back), or an unavailable error if the commit failed,
//     when nothing of the transaction is stored.
//   - A transaction holds up to MaxItems writes, sorted by their batch's
//     key, so that all transactions write rows in one order.
//   - The writes its batch says may go together are written together
//     (groupBatch.together) when there are several; if that fails, the
//     transaction is rolled back and begun again with every write alone.
//   - Other writes, and all of them after such a failure, run alone, each
//     in a savepoint of its own, so that one write's failure rolls back its
//     own writes only.
//   - Before the commit, the batch's committing step sees the writes that
//     succeeded; its error fails the whole transaction.
//   - A write that Postgres failed to break a deadlock or a serialization
//     conflict is run again in a later transaction, up to maxTries times
//     in all.
//
// It starts a goroutine when fewer than Committers run; they exit when the
// queue is empty, so none outlives the work.
type committer struct {
	cfg     GroupCommit
	pool    *sql.DB // where its transactions run
	dialect Dialect
	logger  *slog.Logger
	batch   groupBatch

	mu      sync.Mutex
	queue   []*pendingWrite
	running int           // transactions in progress or being filled
	more    chan struct{} // signalled when the queue reaches MaxItems

	transactions, items, largest, retried, redone atomic.Int64
}

// A groupWrite is one write for a committer.
type groupWrite interface {
	// alone writes it in tx, in a savepoint the committer set: its error
	// rolls back its own writes only. It must write through tx only, with
	// the ctx it is given (which its caller's cancellation does not reach,
	// as it would every write of the shared transaction), and may run
	// again in a later transaction.
	alone(ctx context.Context, tx *sql.Tx) error
}

// writeFunc is a groupWrite that is a function.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

func (f writeFunc) alone(ctx context.Context, tx *sql.Tx) error { return f(ctx, tx) }

// groupBatch is what a committer is handed to order, write together, and
// finish the writes of a transaction.
type groupBatch interface {
	// key returns where w goes in its transaction (writes are sorted by
	// it), and whether w may be written together with others.
	key(w groupWrite) (k groupKey, together bool)
	// together writes ws (two or more, sorted) in tx at once and returns
	// each one's own error (nothing of such a write is stored), or an error
	// for which tx is rolled back and every write written alone instead.
	together(ctx context.Context, tx *sql.Tx, ws []groupWrite) ([]error, error)
	// committing runs in tx before the commit with the writes that
	// succeeded, in sorted order; its error fails the transaction.
	committing(ctx context.Context, tx *sql.Tx, ws []groupWrite) error
}

// groupKey orders the writes of a transaction: by its first, then its
// second string.
type groupKey [2]string

// pendingWrite is one write waiting for its transaction.
type pendingWrite struct {
	ctx      context.Context
	w        groupWrite
	key      groupKey
	together bool
	tries    int

	err  error
	done chan struct{}
}

// maxTries bounds how often a write is run again in a later transaction
// after a deadlock or serialization failure.
const maxTries = 3

// newGroupCommitter returns a committer whose transactions run in pool, on
// a database of dialect d; zero fields of cfg take the defaults of
// DefaultGroupCommit.
func newGroupCommitter(cfg GroupCommit, pool *sql.DB, d Dialect, logger *slog.Logger, batch groupBatch) *committer {
	def := DefaultGroupCommit(d)
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = def.MaxItems
	}
	if cfg.Committers <= 0 {
		cfg.Committers = def.Committers
	}
	if d == SQLite {
		cfg.Committers = 1
	}
	// More would only wait for one of the pool's connections.
	cfg.Committers = min(cfg.Committers, groupCommitConns)
	if cfg.MaxWait < 0 {
		cfg.MaxWait = 0
	}
	return &committer{cfg: cfg, pool: pool, dialect: d, logger: logger, batch: batch, more: make(chan struct{}, 1)}
}

// do runs w in the next transaction and returns once that transaction is
// committed: w's error if w failed (its writes rolled back), an
// unavailable error if the commit failed or ctx ended first (w may still
// be committed then; the caller is gone and is told nothing was stored).
func (c *committer) do(ctx context.Context, w groupWrite) error {
	p := c.pending(ctx, w)
	c.enqueue(p)
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return unavailable(fmt.Errorf("group commit: %w", ctx.Err()))
	}
}

// pending returns w, for ctx, ready to be queued.
func (c *committer) pending(ctx context.Context, w groupWrite) *pendingWrite {
	k, together := c.batch.key(w)
	return &pendingWrite{ctx: ctx, w: w, key: k, together: together, done: make(chan struct{})}
}

// write runs fn in the next transaction, alone: see do.
func (c *committer) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return c.do(ctx, writeFunc(fn))
}

func (c *committer) enqueue(ps ...*pendingWrite) {
	c.mu.Lock()
	c.queue = append(c.queue, ps...)
	start := c.running < c.cfg.Committers
	if start {
		c.running++
	}
	full := len(c.queue) >= c.cfg.MaxItems
	c.mu.Unlock()
	if full {
		select {
		case c.more <- struct{}{}:
		default:
		}
	}
	if start {
		go c.run()
	}
}

// run commits batches until the queue is empty.
func (c *committer) run() {
	for {
		batch := c.take()
		if batch == nil {
			return
		}
		c.commit(batch)
	}
}

// take removes up to MaxItems writes from the queue, waiting up to MaxWait
// for more when there are fewer. It returns nil, and counts this committer
// out, when the queue is empty.
func (c *committer) take() []*pendingWrite {
	c.mu.Lock()
	if n := len(c.queue); n > 0 && n < c.cfg.MaxItems && c.cfg.MaxWait > 0 {
		c.mu.Unlock()
		t := time.NewTimer(c.cfg.MaxWait)
		select {
		case <-t.C:
		case <-c.more:
		}
		t.Stop()
		c.mu.Lock()
	}
	n := min(len(c.queue), c.cfg.MaxItems)
	if n == 0 {
		c.running--
		c.mu.Unlock()
		return nil
	}
	batch := make([]*pendingWrite, 0, n)
	for _, p := range c.queue[:n] {
		if p.ctx.Err() != nil {
			// The caller has gone before anything was written.
			p.err = unavailable(fmt.Errorf("group commit: %w", p.ctx.Err()))
			close(p.done)
			continue
		}
		batch = append(batch, p)
	}
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.mu.Unlock()
	return batch
}

// commit stores a batch in one transaction: the writes that may go
// together together when there are several, the others, or all of them if
// that fails, each alone in a savepoint of its own. Every write is
// answered after the commit: with its own outcome if the commit succeeded,
// and with an unavailable error if it did not, since then nothing of the
// batch is stored.
func (c *committer) commit(batch []*pendingWrite) {
	if len(batch) == 0 {
		return
	}
	// All transactions write rows in the same order, which keeps
	// concurrent batches on Postgres (other committers, other replicas)
	// from deadlocking on each other's rows in all but contrived cases.
	slices.SortStableFunc(batch, func(a, b *pendingWrite) int {
		return cmp.Or(cmp.Compare(a.key[0], b.key[0]), cmp.Compare(a.key[1], b.key[1]))
	})
	c.items.Add(int64(len(batch)))
	for {
		l := c.largest.Load()
		if int64(len(batch)) <= l || c.largest.CompareAndSwap(l, int64(len(batch))) {
			break
		}
	}
	together := 0
	for _, p := range batch {
		if p.together {
			together++
		}
	}
	if together > 1 && c.commitOnce(batch, true) {
		return
	}
	c.commitOnce(batch, false)
}

// commitOnce writes batch in one transaction and answers every write of it.
// With together, the writes that may go together are written together
// (groupBatch.together), the others alone; if that fails, the transaction
// is rolled back, nothing is answered, and commitOnce returns false for
// the batch to be written again with every write alone.
func (c *committer) commitOnce(batch []*pendingWrite, together bool) bool {
	c.transactions.Add(1)
	// Not any caller's context: one caller going away must not abort the
	// others' transaction.
	ctx := context.Background()
	fail := func(err error) bool {
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
		return true
	}
	tx, err := c.pool.BeginTx(ctx, nil)
	if err != nil {
		return fail(unavailable(fmt.Errorf("begin: %w", err)))
	}
	var (
		retry []*pendingWrite
		done  = make([]*pendingWrite, 0, len(batch))
	)
	// Between two writes, the first's savepoint is released and the
	// second's set; Postgres takes both in one round trip.
	next := "RELEASE SAVEPOINT intake; SAVEPOINT intake"
	if c.dialect == SQLite {
		next = "" // two cached statements cost SQLite less than parsing one script
	}
	first := true
	for _, p := range batch {
		if together && p.together {
			continue // below
		}
		p.err = nil
		if err := c.savepoint(ctx, tx, first, next); err != nil {
			tx.Rollback()
			return fail(unavailable(fmt.Errorf("savepoint: %w", err)))
		}
		first = false
		if err := p.w.alone(context.WithoutCancel(p.ctx), tx); err != nil {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT intake"); rerr != nil {
				// The database rolled the whole transaction back (SQLite
				// does on a full disk or an I/O error).
				tx.Rollback()
				return fail(unavailable(fmt.Errorf("%w (then: %v)", err, rerr)))
			}
			if isConflict(err) && p.tries+1 < maxTries {
				p.tries++
				retry = append(retry, p)
			} else {
				p.err = err
				done = append(done, p)
			}
		} else {
			done = append(done, p)
		}
	}
	if !first {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT intake"); err != nil {
			tx.Rollback()
			return fail(unavailable(fmt.Errorf("release savepoint: %w", err)))
		}
	}
	if together {
		var (
			ws []groupWrite
			ps []*pendingWrite
		)
		for _, p := range batch {
			if p.together {
				ws, ps = append(ws, p.w), append(ps, p)
			}
		}
		errs, err := c.batch.together(ctx, tx, ws)
		if err != nil {
			tx.Rollback()
			c.redone.Add(1)
			c.logger.Warn("group commit: writing a batch together failed; writing each of its writes alone",
				"writes", len(ws), "err", err)
			return false
		}
		for i, p := range ps {
			p.err = errs[i]
			done = append(done, p)
		}
	}
	var ok []groupWrite
	for _, p := range batch {
		if p.err == nil && !slices.Contains(retry, p) {
			ok = append(ok, p.w)
		}
	}
	if err := c.batch.committing(ctx, tx, ok); err != nil {
		tx.Rollback()
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(unavailable(fmt.Errorf("commit: %w", err)))
	}
	for _, p := range done {
		close(p.done)
	}
	if len(retry) > 0 {
		c.retried.Add(int64(len(retry)))
		c.enqueue(retry...)
	}
	return true
}

// savepoint sets the savepoint of the next write, releasing the previous
// write's first unless this is the first; next, if not empty, does both in
// one statement.
func (c *committer) savepoint(ctx context.Context, tx *sql.Tx, first bool, next string) error {
	var err error
	switch {
	case first:
		_, err = tx.ExecContext(ctx, "SAVEPOINT intake")
	case next != "":
		_, err = tx.ExecContext(ctx, next)
	default:
		if _, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT intake"); err == nil {
			_, err = tx.ExecContext(ctx, "SAVEPOINT intake")
		}
	}
	return err
}

// isConflict reports whether err is Postgres breaking a deadlock or a
// serialization conflict, after which the same writes succeed when tried
// again.
func isConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// stats returns the counters.
func (c *committer) stats() GroupCommitStats {
	return GroupCommitStats{
		Transactions: c.transactions.Load(),
		Items:        c.items.Load(),
		Largest:      c.largest.Load(),
		Retried:      c.retried.Load(),
		Redone:       c.redone.Load(),
	}
}
