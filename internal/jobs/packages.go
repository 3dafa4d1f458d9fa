package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// PushPackagesArgs asks for the catalogue to be pushed to an integration.
type PushPackagesArgs struct {
	IntegrationID string `json:"integration_id"`
}

// Kind is River's name for the job.
func (PushPackagesArgs) Kind() string { return "push_packages" }

// InsertOpts gives pushes the same retry budget as write-backs. Pushes are
// not unique: a push sends the catalogue current when it runs, and River's
// uniqueness would also drop a push queued while an older one runs.
func (PushPackagesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WritebackMaxAttempts}
}

// PushPackagesWorker pushes the package catalogue with PUT /assessment/packages.
type PushPackagesWorker struct {
	river.WorkerDefaults[PushPackagesArgs]
	Store   *store.Store
	Kombo   *kombo.Client
	Limiter *Limiter
	Logger  *slog.Logger
	// Parking parks pushes that wait for an integration's setup or for
	// KOMBO_API_KEY.
	Parking *Parking
}

// Work pushes the stored catalogue, as it is now, to the integration (the
// packages its tenant may order: orders.For), unless the integration was
// deleted or disabled since. Without KOMBO_API_KEY, or while Kombo answers
// INTEGRATION.SETUP_*, it parks (see Parking).
func (w *PushPackagesWorker) Work(ctx context.Context, job *river.Job[PushPackagesArgs]) error {
	return w.Parking.settle(ctx, job.JobRow, w.work(ctx, job))
}

func (w *PushPackagesWorker) work(ctx context.Context, job *river.Job[PushPackagesArgs]) error {
	id := job.Args.IntegrationID
	integ, err := w.Store.FindIntegrationByID(ctx, id)
	if err != nil {
		return err
	}
	if integ.State != kombo.IntegrationStateActive {
		w.Logger.Info("package push skipped", "integration_id", id, "state", integ.State)
		return nil
	}
	deadLetter := func(ctx context.Context, _, reason string, err error) {
		w.Logger.Warn("package push dead-lettered", "integration_id", id, "reason", reason, "err", err)
	}
	parkedTooLong := func(ctx context.Context, reason string, err error) { deadLetter(ctx, "", reason, err) }
	if w.Kombo == nil {
		return w.Parking.park(ctx, job.JobRow, noKey("pushing the packages to Kombo"), parkedTooLong)
	}
	all, hash, err := w.Store.FindCatalogue(ctx)
	if err != nil {
		return err
	}
	// The integration's tenant is sent its packages only; the tenants
	// themselves stay here.
	pkgs := orders.KomboPackages(orders.For(all, integ.OriginID))
	release, err := w.Limiter.Acquire(ctx, id)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := w.Kombo.SetPackages(ctx, id, pkgs)
	release()
	w.Logger.Info("packages pushed", "integration_id", id, "tenant_id", integ.OriginID, "packages", len(pkgs), "attempt", job.Attempt,
		"latency_ms", time.Since(start).Milliseconds(), "err", err)
	if err != nil {
		if rerr := w.Store.RecordPush(ctx, id, hash, nil, err); rerr != nil {
			w.Logger.Error("record package push", "integration_id", id, "err", rerr)
		}
		if kombo.Classify(err) == kombo.ClassSetupPending {
			return w.Parking.park(ctx, job.JobRow, setupPending(err), parkedTooLong)
		}
		return komboFailure(ctx, job.JobRow, deadLetter, "", err)
	}
	var warnings []string
	for _, wn := range resp.Warnings {
		warnings = append(warnings, wn.Message)
	}
	return w.Store.RecordPush(ctx, id, hash, warnings, nil)
}
