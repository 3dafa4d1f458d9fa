package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// HeartbeatArgs is the periodic proof that the job system works: River's
// leader inserts one per period, whichever replica leads, and any replica
// works it. Its rows in river_job (kept a day once completed) are the record:
// one per period says periodic work runs once across the replicas, and a
// recent completed one says jobs are being worked.
type HeartbeatArgs struct{}

// Kind is River's name for the job.
func (HeartbeatArgs) Kind() string { return "heartbeat" }

// HeartbeatWorker works heartbeats.
type HeartbeatWorker struct {
	river.WorkerDefaults[HeartbeatArgs]
	Logger *slog.Logger
}

// Work logs the heartbeat at debug level; the completed job is the record.
func (w *HeartbeatWorker) Work(ctx context.Context, job *river.Job[HeartbeatArgs]) error {
	w.Logger.DebugContext(ctx, "heartbeat", "job_id", job.ID, "period", job.ScheduledAt.UTC().Format(time.RFC3339))
	return nil
}

// Heartbeat returns the periodic heartbeat job, one per interval, on the
// instants Every(interval) names.
func Heartbeat(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(Every(interval), func() (river.JobArgs, *river.InsertOpts) {
		return HeartbeatArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "heartbeat"})
}

// Every returns a schedule that fires on the multiples of d counted from
// Go's zero time: for any d that divides a day, on the clock (every minute
// at :00, every 15 minutes at :00, :15, …). Every replica that becomes the
// leader continues on the same instants, so a period is named by its time
// (River sets a periodic job's scheduled_at to it) and a new leader does not
// start a period of its own half-way through the last one. d is at least a
// second, River's smallest period.
func Every(d time.Duration) river.PeriodicSchedule {
	return every(max(d, time.Second))
}

type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}
