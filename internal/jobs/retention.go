package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/store"
)

// RetentionArgs asks for one pass of the retention policy: the personal
// data that is no longer kept is erased (see store.EraseDue).
type RetentionArgs struct{}

// Kind is River's name for the job.
func (RetentionArgs) Kind() string { return "retention" }

// InsertOpts retries a failed pass a few times; the next period runs anyway.
func (RetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3}
}

// Retention erases personal data by the store's clock once the policy no
// longer keeps it.
type Retention struct {
	Store  *store.Store
	Policy store.Retention
	Logger *slog.Logger
}

// RetentionSummary says what one pass erased: counts and ids, never
// personal data.
type RetentionSummary struct {
	Erasures      int      `json:"erasures"`       // audit log entries written
	Orders        []string `json:"orders"`         // ids of the orders erased
	WebhookEvents int      `json:"webhook_events"` // raw bodies erased
}

// Run makes one pass, and returns what it erased. A pass cut short by ctx
// returns what it did with ctx's error; the next pass goes on from there.
func (r *Retention) Run(ctx context.Context) (*RetentionSummary, error) {
	erasures, err := r.Store.EraseDue(ctx, r.Policy)
	sum := &RetentionSummary{Erasures: len(erasures), Orders: []string{}}
	for _, e := range erasures {
		sum.Orders = append(sum.Orders, e.OrderIDs...)
		sum.WebhookEvents += e.WebhookEvents
	}
	if len(erasures) > 0 || err != nil {
		r.Logger.Info("retention: personal data erased", "erasures", sum.Erasures, "orders", len(sum.Orders),
			"webhook_events", sum.WebhookEvents, "err", err)
	}
	return sum, err
}

// RetentionWorker runs a retention pass, once per period across all
// replicas (River schedules periodic jobs on its elected leader only).
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	Retention *Retention
}

// Work runs the pass and records its summary as the job's output.
func (w *RetentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	sum, err := w.Retention.Run(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, sum)
}

// RetentionPeriodic returns the periodic retention job, one per interval, on
// the instants Every(interval) names.
func RetentionPeriodic(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(Every(interval), func() (river.JobArgs, *river.InsertOpts) {
		return RetentionArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "retention"})
}
