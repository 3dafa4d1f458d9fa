package jobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// DiscoverIntegrationArgs asks for an integration assessgate first heard of
// from an order (its integration-created webhook was missed) to be fetched
// from Kombo and stored.
type DiscoverIntegrationArgs struct {
	IntegrationID string `json:"integration_id"`
}

// Kind is River's name for the job.
func (DiscoverIntegrationArgs) Kind() string { return "discover_integration" }

// InsertOpts makes one discovery per integration: the orders of many
// transactions may find the same integration unknown before it runs.
func (DiscoverIntegrationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WritebackMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DiscoverIntegrationWorker reads the integration with GET
// /integrations/{id} and stores it with its tenant (end_user.origin_id);
// storing it pushes it its packages (store.DiscoverIntegration emits
// IntegrationCreated). Without KOMBO_API_KEY it parks.
type DiscoverIntegrationWorker struct {
	river.WorkerDefaults[DiscoverIntegrationArgs]
	Store   *store.Store
	Kombo   *kombo.Client
	Limiter *Limiter
	Parking *Parking
	Logger  *slog.Logger
}

// Work fetches and stores the integration.
func (w *DiscoverIntegrationWorker) Work(ctx context.Context, job *river.Job[DiscoverIntegrationArgs]) error {
	return w.Parking.settle(ctx, job.JobRow, w.work(ctx, job))
}

func (w *DiscoverIntegrationWorker) work(ctx context.Context, job *river.Job[DiscoverIntegrationArgs]) error {
	id := job.Args.IntegrationID
	deadLetter := func(ctx context.Context, reason string, err error) {
		w.Logger.Warn("integration discovery dead-lettered", "integration_id", id, "reason", reason, "err", err)
	}
	if w.Kombo == nil {
		return w.Parking.park(ctx, job.JobRow, noKey("fetching the integration from Kombo"), deadLetter)
	}
	release, err := w.Limiter.Acquire(ctx, id)
	if err != nil {
		return err
	}
	k, err := w.Kombo.GetIntegration(ctx, id)
	release()
	if err != nil {
		return komboFailure(ctx, job.JobRow, func(ctx context.Context, _, reason string, err error) { deadLetter(ctx, reason, err) }, "", err)
	}
	w.Logger.Info("integration discovered from an order", "integration_id", id, "tool", k.Tool.ID,
		"status", k.Status, "setup_status", k.SetupStatus, "has_tenant", k.EndUser.OriginID != nil)
	return w.Store.DiscoverIntegration(ctx, k)
}
