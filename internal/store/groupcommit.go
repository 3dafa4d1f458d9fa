package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/assessgate/assessgate/internal/orders"
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

// committer runs group commit for Store.Intake, or for Store.Write.
type committer struct {
	s    *Store
	cfg  GroupCommit
	pool *sql.DB // where its transactions run

	mu      sync.Mutex
	queue   []*pendingWrite
	running int           // transactions in progress or being filled
	more    chan struct{} // signalled when the queue reaches MaxItems

	transactions, items, largest, retried, redone atomic.Int64

	// beforeTake, if set, is called by a committer before it takes a batch
	// from the queue. Tests use it to gather a known batch.
	beforeTake atomic.Pointer[func()]
}

// pendingWrite is one webhook, or another write, waiting for its
// transaction.
type pendingWrite struct {
	ctx   context.Context
	in    *Intake                                     // a webhook, or
	fn    func(ctx context.Context, tx *sql.Tx) error // another write
	tries int

	res  *IntakeResult
	err  error
	done chan struct{}
}

// maxIntakeTries bounds how often a webhook is retried in a later
// transaction after a deadlock or serialization failure.
const maxIntakeTries = 3

func newCommitter(s *Store, cfg GroupCommit, pool *sql.DB) *committer {
	def := DefaultGroupCommit(s.db.Dialect)
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = def.MaxItems
	}
	if cfg.Committers <= 0 {
		cfg.Committers = def.Committers
	}
	if s.db.Dialect == SQLite {
		cfg.Committers = 1
	}
	// More would only wait for one of the pool's connections.
	cfg.Committers = min(cfg.Committers, groupCommitConns)
	if cfg.MaxWait < 0 {
		cfg.MaxWait = 0
	}
	return &committer{s: s, cfg: cfg, pool: pool, more: make(chan struct{}, 1)}
}

// intake queues in for the next transaction and waits for its outcome. It
// starts a committer goroutine when fewer than Committers run; committers
// exit when the queue is empty, so none outlives the work.
func (c *committer) intake(ctx context.Context, in *Intake) (*IntakeResult, error) {
	p := &pendingWrite{ctx: ctx, in: in, done: make(chan struct{})}
	c.enqueue(p)
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		// The webhook may still be committed; the caller is gone and will
		// be told nothing was stored, which a redelivery makes true.
		return nil, unavailable(fmt.Errorf("intake: %w", ctx.Err()))
	}
}

// write runs fn in the next transaction, in a savepoint of its own, and
// returns once that transaction is committed: fn's error if fn failed
// (its writes rolled back), an unavailable error if the commit failed. fn
// must write to the database only, and may be run again in a later
// transaction after a deadlock; its ctx is not cancelled with the
// caller's.
func (c *committer) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	p := &pendingWrite{ctx: ctx, fn: fn, done: make(chan struct{})}
	c.enqueue(p)
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return unavailable(fmt.Errorf("write: %w", ctx.Err()))
	}
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

// take removes up to MaxItems webhooks from the queue, waiting up to MaxWait
// for more when there are fewer. It returns nil, and counts this committer
// out, when the queue is empty.
func (c *committer) take() []*pendingWrite {
	if f := c.beforeTake.Load(); f != nil {
		(*f)()
	}
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
			p.err = unavailable(fmt.Errorf("intake: %w", p.ctx.Err()))
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

// commit stores a batch in one transaction: its webhooks a table at a time
// (Store.intakeBatch) when there are several, otherwise, or if that fails,
// each webhook as a batch of one in a savepoint of its own, so that one
// webhook's failure rolls back only its own writes.
// Every webhook is answered after the commit: with its own outcome if the
// commit succeeded, and with an unavailable error if it did not, since then
// nothing of the batch is stored.
func (c *committer) commit(batch []*pendingWrite) {
	if len(batch) == 0 {
		return
	}
	// The same order's webhooks go one after the other, and all
	// transactions write rows in the same order, which keeps concurrent
	// batches on Postgres (other committers, other replicas) from
	// deadlocking on each other's rows in all but contrived cases.
	slices.SortStableFunc(batch, func(a, b *pendingWrite) int {
		ao, ae := a.sortKey()
		bo, be := b.sortKey()
		return cmp.Or(cmp.Compare(ao, bo), cmp.Compare(ae, be))
	})
	c.items.Add(int64(len(batch)))
	for {
		l := c.largest.Load()
		if int64(len(batch)) <= l || c.largest.CompareAndSwap(l, int64(len(batch))) {
			break
		}
	}
	if webhooks(batch) > 1 && c.commitOnce(batch, true) {
		return
	}
	c.commitOnce(batch, false)
}

// webhooks returns how many of batch are webhooks.
func webhooks(batch []*pendingWrite) int {
	n := 0
	for _, p := range batch {
		if p.in != nil {
			n++
		}
	}
	return n
}

// commitOnce writes batch in one transaction and answers every write of it.
// With sets, the webhooks are written a table at a time
// (Store.intakeBatch), the other writes one by one; if that fails, the
// transaction is rolled back, nothing is answered, and commitOnce returns
// false for the batch to be written again one by one, each write in a
// savepoint of its own, so that one write's failure rolls back only its own
// rows.
func (c *committer) commitOnce(batch []*pendingWrite, sets bool) bool {
	c.transactions.Add(1)
	// Not any caller's context: one caller going away must not abort the
	// others' transaction.
	ctx := context.Background()
	fail := func(err error) bool {
		for _, p := range batch {
			p.res, p.err = nil, err
			close(p.done)
		}
		return true
	}
	tx, err := c.pool.BeginTx(ctx, nil)
	if err != nil {
		return fail(unavailable(fmt.Errorf("begin: %w", err)))
	}
	var (
		retry   []*pendingWrite
		done    = make([]*pendingWrite, 0, len(batch))
		created []*orders.Order
	)
	// Between two writes, the first's savepoint is released and the
	// second's set; Postgres takes both in one round trip.
	next := "RELEASE SAVEPOINT intake; SAVEPOINT intake"
	if c.s.db.Dialect == SQLite {
		next = "" // two cached statements cost SQLite less than parsing one script
	}
	first := true
	for _, p := range batch {
		if sets && p.in != nil {
			continue // below
		}
		p.res, p.err = nil, nil
		if err := c.savepoint(ctx, tx, first, next); err != nil {
			tx.Rollback()
			return fail(unavailable(fmt.Errorf("savepoint: %w", err)))
		}
		first = false
		var (
			res *IntakeResult
			err error
		)
		if p.in != nil {
			res, err = c.s.intakeOne(context.WithoutCancel(p.ctx), tx, p.in)
		} else {
			err = p.fn(context.WithoutCancel(p.ctx), tx)
		}
		if err != nil {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT intake"); rerr != nil {
				// The database rolled the whole transaction back (SQLite
				// does on a full disk or an I/O error).
				tx.Rollback()
				return fail(unavailable(fmt.Errorf("%w (then: %v)", err, rerr)))
			}
			if isConflict(err) && p.tries+1 < maxIntakeTries {
				p.tries++
				retry = append(retry, p)
			} else {
				p.err = err
				done = append(done, p)
			}
		} else {
			p.res = res
			done = append(done, p)
			if res != nil && res.created() {
				created = append(created, res.Order)
			}
		}
	}
	if !first {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT intake"); err != nil {
			tx.Rollback()
			return fail(unavailable(fmt.Errorf("release savepoint: %w", err)))
		}
	}
	if sets {
		var ins []*Intake
		for _, p := range batch {
			if p.in != nil {
				ins = append(ins, p.in)
			}
		}
		out, made, err := c.s.intakeBatch(ctx, tx, ins)
		if err != nil {
			tx.Rollback()
			c.redone.Add(1)
			c.s.logger.Warn("group commit: writing a batch a table at a time failed; writing it one webhook at a time",
				"webhooks", len(batch), "err", err)
			return false
		}
		created = append(created, made...)
		i := 0
		for _, p := range batch {
			if p.in != nil {
				p.res, p.err = out[i].res, out[i].err
				done = append(done, p)
				i++
			}
		}
	}
	if err := c.s.ordersCreated(ctx, tx, created); err != nil {
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

// sortKey orders the writes of a batch: webhooks by order and event id,
// after the other writes.
func (p *pendingWrite) sortKey() (orderID, eventID string) {
	if p.in == nil {
		return "", ""
	}
	orderID, _ = webhookRefs(p.in.Webhook)
	return orderID, p.in.Webhook.ID
}

// savepoint sets the savepoint of the next webhook, releasing the previous
// webhook's first unless this is the first; next, if not empty, does both in
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

// queued returns how many webhooks wait for a transaction.
func (c *committer) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}
