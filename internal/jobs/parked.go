package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// Parked work (orders.Parked): a job that cannot go on until a person or
// Kombo acts — the customer finishing the integration's setup (Kombo answers
// INTEGRATION.SETUP_INCOMPLETE or INTEGRATION.SETUP_SYNC_PENDING), or
// assessgate being started with KOMBO_API_KEY — is not retried blindly nor
// dead-lettered: it records a parked_work row (store.Park) and snoozes in
// River until the bound (Parking.MaxAge) from when it first parked. It stays
// River's job throughout, so none is lost; what wakes it early is River's
// JobRetry, in the transaction that learns the integration is usable
// (store.ParkedWake: an integration-state-changed webhook, or
// ParkedCheckWorker's periodic GET /integrations/{id}), or, for work
// waiting for the key, Service.Start with a key. A job that runs to an end
// deletes its row; one that wakes past the bound becomes a dead letter.

// DefaultParkedMaxAge is how long work stays parked before it becomes a
// dead letter (ASSESSGATE_PARKED_MAX_AGE).
const DefaultParkedMaxAge = 7 * 24 * time.Hour

// DefaultParkedCheckInterval is how often the integrations of parked work
// are read back from Kombo.
const DefaultParkedCheckInterval = 10 * time.Minute

// Parking parks jobs (see above).
type Parking struct {
	Store  *store.Store
	MaxAge time.Duration // zero: DefaultParkedMaxAge
	Clock  clock.Clock
	Logger *slog.Logger
}

// parkedError is a job's answer when it parked: River's snooze, which
// settle passes on.
type parkedError struct{ snooze error }

func (e *parkedError) Error() string { return "parked" }
func (e *parkedError) Unwrap() error { return e.snooze }

// noKey is why work parks without KOMBO_API_KEY.
func noKey(what string) orders.Parked {
	return orders.Parked{Code: orders.ParkedNoAPIKey,
		Reason: "KOMBO_API_KEY is not set: " + what + " waits until assessgate is restarted with the key"}
}

// setupPending is why work parks on Kombo's INTEGRATION.SETUP_* answer.
func setupPending(err error) orders.Parked {
	var kerr *kombo.Error
	errors.As(err, &kerr)
	reason := kerr.Message
	if reason == "" {
		reason = "the integration's setup is not complete"
	}
	return orders.Parked{Code: kerr.Code, Reason: reason, LogURL: kerr.LogURL}
}

// park parks job for p's reason and returns the job's answer: a snooze
// until the bound or, past it, a cancel after telling deadLetter (which may
// be nil).
func (pk *Parking) park(ctx context.Context, job *rivertype.JobRow, p orders.Parked, deadLetter func(ctx context.Context, reason string, err error)) error {
	if pk == nil {
		return fmt.Errorf("%s: %s (and no Parking to wait with)", p.Code, p.Reason)
	}
	p.JobID, p.Kind = job.ID, job.Kind
	var refs jobRefs
	_ = json.Unmarshal(job.EncodedArgs, &refs)
	p.OrderID, p.IntegrationID = refs.OrderID, refs.IntegrationID
	stored, err := pk.Store.Park(ctx, &p)
	if err != nil {
		return err
	}
	maxAge := pk.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultParkedMaxAge
	}
	age := clock.Or(pk.Clock).Now().Sub(stored.ParkedAt)
	if age >= maxAge {
		cause := fmt.Errorf("parked longer than %s (ASSESSGATE_PARKED_MAX_AGE): %s: %s", maxAge, p.Code, p.Reason)
		if p.LogURL != "" {
			cause = fmt.Errorf("%w (log %s)", cause, p.LogURL)
		}
		if err := pk.Store.Unpark(ctx, job.ID); err != nil {
			return err
		}
		if deadLetter != nil {
			deadLetter(ctx, "parked longer than "+maxAge.String(), cause)
		}
		return river.JobCancel(cause)
	}
	pk.Logger.Info("job parked", "job_id", job.ID, "kind", job.Kind, "order_id", p.OrderID,
		"integration_id", p.IntegrationID, "code", p.Code, "parked_for", age.Round(time.Second))
	return &parkedError{river.JobSnooze(maxAge - age)}
}

// settle is the end of a job that may have parked before: unless it parked
// again (err is park's), its parked row, if any, goes. A job parked before
// has been snoozed, or, if its replica died before River recorded the
// snooze, runs again as a later attempt. It returns River's answer.
func (pk *Parking) settle(ctx context.Context, job *rivertype.JobRow, err error) error {
	var pe *parkedError
	if errors.As(err, &pe) {
		return pe.snooze
	}
	if pk != nil && (snoozes(job) > 0 || job.Attempt > 1) {
		if uerr := pk.Store.Unpark(context.WithoutCancel(ctx), job.ID); uerr != nil {
			pk.Logger.Error("unpark job", "job_id", job.ID, "err", uerr)
			if err == nil {
				return uerr // the row must go: run again
			}
		}
	}
	return err
}

// snoozes is how often River snoozed job before (its metadata's count).
func snoozes(job *rivertype.JobRow) int {
	var md struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &md)
	return md.Snoozes
}

// wake makes the parked jobs ids of an integration available now, in tx.
// River leaves a running job alone, and a job that just parked is running
// until River records its snooze: those go to a WakeParked job, which
// tries again once they are no longer running, so that no wake-up is lost.
func wake(ctx context.Context, queue *Client, tx *sql.Tx, integrationID string, ids []int64) error {
	var later []int64
	for _, id := range ids {
		row, err := queue.JobRetryTx(ctx, tx, id)
		switch {
		case errors.Is(err, river.ErrNotFound):
		case err != nil:
			return fmt.Errorf("wake parked job %d: %w", id, err)
		case row.State == rivertype.JobStateRunning: // River returns it untouched
			later = append(later, id)
		}
	}
	if len(later) == 0 {
		return nil
	}
	if _, err := queue.InsertTx(ctx, tx, WakeParkedArgs{IntegrationID: integrationID, JobIDs: later}, nil); err != nil {
		return fmt.Errorf("enqueue wake of parked jobs: %w", err)
	}
	return nil
}

// WakeParkedArgs asks for parked jobs that were running when their
// integration became usable to be woken once they are not.
type WakeParkedArgs struct {
	IntegrationID string  `json:"integration_id"`
	JobIDs        []int64 `json:"job_ids"`
}

// Kind is River's name for the job.
func (WakeParkedArgs) Kind() string { return "wake_parked" }

// WakeParkedWorker wakes the jobs of WakeParkedArgs that are still parked.
type WakeParkedWorker struct {
	river.WorkerDefaults[WakeParkedArgs]
	Store *store.Store
}

// Work wakes each job that is parked and waiting; while one still runs, it
// fails, so that River tries again after a backoff.
func (w *WakeParkedWorker) Work(ctx context.Context, job *river.Job[WakeParkedArgs]) error {
	client := river.ClientFromContext[*sql.Tx](ctx)
	parked, err := w.Store.ParkedWork(ctx, store.ParkedFilter{IntegrationID: job.Args.IntegrationID, Setup: true})
	if err != nil {
		return err
	}
	isParked := map[int64]bool{}
	for _, p := range parked {
		isParked[p.JobID] = true
	}
	running := 0
	for _, id := range job.Args.JobIDs {
		row, err := client.JobGet(ctx, id)
		switch {
		case errors.Is(err, river.ErrNotFound):
			continue
		case err != nil:
			return err
		case row.State == rivertype.JobStateRunning:
			running++
		case row.State == rivertype.JobStateScheduled && isParked[id]:
			if _, err := client.JobRetry(ctx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("wake parked job %d: %w", id, err)
			}
		}
	}
	if running > 0 {
		return fmt.Errorf("%d parked jobs still running", running)
	}
	return nil
}

// ParkedCheckArgs asks for the integrations of parked work to be read back
// from Kombo, which wakes the work of those that became usable.
type ParkedCheckArgs struct{}

// Kind is River's name for the job.
func (ParkedCheckArgs) Kind() string { return "parked_check" }

// ParkedCheckWorker reads, with GET /integrations/{id}, each integration
// that work is parked for, and stores what Kombo says
// (store.RefreshIntegration): if it is usable, its work wakes.
type ParkedCheckWorker struct {
	river.WorkerDefaults[ParkedCheckArgs]
	Store   *store.Store
	Kombo   *kombo.Client
	Limiter *Limiter
	Logger  *slog.Logger
}

// Work checks each integration once; one that fails is logged and checked
// again next time.
func (w *ParkedCheckWorker) Work(ctx context.Context, job *river.Job[ParkedCheckArgs]) error {
	if w.Kombo == nil {
		return nil
	}
	parked, err := w.Store.ParkedWork(ctx, store.ParkedFilter{Setup: true})
	if err != nil {
		return err
	}
	var ids []string
	for _, p := range parked {
		if p.IntegrationID != "" && !slices.Contains(ids, p.IntegrationID) {
			ids = append(ids, p.IntegrationID)
		}
	}
	for _, id := range ids {
		release, err := w.Limiter.Acquire(ctx, id)
		if err != nil {
			return err
		}
		k, err := w.Kombo.GetIntegration(ctx, id)
		release()
		if err == nil {
			err = w.Store.RefreshIntegration(ctx, k)
		}
		if err != nil {
			w.Logger.Warn("parked work: check integration", "integration_id", id, "err", err)
			continue
		}
		w.Logger.Info("parked work: integration checked", "integration_id", id, "status", k.Status,
			"setup_status", k.SetupStatus, "usable", store.Usable(k.Status, k.SetupStatus))
	}
	return nil
}

// ParkedCheckPeriodic checks the integrations of parked work every interval.
func ParkedCheckPeriodic(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return ParkedCheckArgs{}, nil },
		&river.PeriodicJobOpts{ID: "parked_check"})
}

// resumeWithKey wakes the work parked for want of KOMBO_API_KEY: called
// when a replica starts with the key.
func resumeWithKey(ctx context.Context, st *store.Store, client *Client, logger *slog.Logger) error {
	parked, err := st.ParkedWork(ctx, store.ParkedFilter{Code: orders.ParkedNoAPIKey})
	if err != nil {
		return err
	}
	for _, p := range parked {
		if _, err := client.JobRetry(ctx, p.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("wake parked job %d: %w", p.JobID, err)
		}
	}
	if len(parked) > 0 {
		logger.Info("KOMBO_API_KEY is set: parked work resumes", "jobs", len(parked))
	}
	return nil
}
