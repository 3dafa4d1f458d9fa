package store

import (
	"context"
	"database/sql"
)

// Group commit for store_test.

// IntakeTogether queues the intakes in one step, as webhooks that all
// arrived while the previous transaction committed, so that the next
// transaction takes them together (up to MaxItems), and returns each one's
// outcome once its transaction is done.
func IntakeTogether(s *Store, ctx context.Context, ins []*Intake) ([]*IntakeResult, []error) {
	ws := make([]*intakeWrite, len(ins))
	ps := make([]*pendingWrite, len(ins))
	for i, in := range ins {
		ws[i] = &intakeWrite{s: s, in: in}
		ps[i] = s.group.pending(ctx, ws[i])
	}
	s.group.enqueue(ps...)
	res, errs := make([]*IntakeResult, len(ps)), make([]error, len(ps))
	for i, p := range ps {
		<-p.done
		res[i], errs[i] = ws[i].res, p.err
	}
	return res, errs
}

// WriteTogether is IntakeTogether for writes, as Store.Write runs them.
func WriteTogether(s *Store, ctx context.Context, fns []func(ctx context.Context, tx *sql.Tx) error) []error {
	ps := make([]*pendingWrite, len(fns))
	for i, fn := range fns {
		ps[i] = s.writes.pending(ctx, writeFunc(fn))
	}
	s.writes.enqueue(ps...)
	errs := make([]error, len(ps))
	for i, p := range ps {
		<-p.done
		errs[i] = p.err
	}
	return errs
}
