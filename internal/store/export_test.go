package store

import (
	"context"
	"database/sql"
	"os"
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

// StopCheckpoints stops SQLite's checkpoints, the checkpointer's and the
// writer's own, and empties the WAL, so that from then on it holds every
// frame (page) the writer writes: WALFrames counts them. For benchmarks;
// the database stays usable, its WAL growing.
func StopCheckpoints(db *DB) error {
	db.stopOnce.Do(func() {
		close(db.stop)
		<-db.stopped
		db.checkpointer.Close()
	})
	if _, err := db.Writer.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		return err
	}
	_, err := db.Writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// WALFrames returns the number of frames in the WAL of the SQLite database
// and its page size.
func WALFrames(db *DB) (frames, pageSize int64, err error) {
	if err := db.Writer.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, 0, err
	}
	fi, err := os.Stat(db.Path + "-wal")
	if err != nil {
		return 0, 0, err
	}
	const walHeader, frameHeader = 32, 24
	if fi.Size() <= walHeader {
		return 0, pageSize, nil
	}
	return (fi.Size() - walHeader) / (pageSize + frameHeader), pageSize, nil
}
