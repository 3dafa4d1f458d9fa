package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// Reconciler finds orders Kombo accepted that assessgate never stored (a
// webhook lost, or answered with an error) by reading each integration's open
// orders, and stores them through the same path as a webhook order.
type Reconciler struct {
	Store     *store.Store
	Kombo     *kombo.Client
	Catalogue *orders.Catalogue
	Limiter   *Limiter
	Logger    *slog.Logger
}

// ReconcileSummary says what one reconciliation pass did.
type ReconcileSummary struct {
	Integrations int      `json:"integrations"`
	OpenOrders   int      `json:"open_orders"`
	Created      []string `json:"created"` // ids of the orders stored by this pass
	Skipped      int      `json:"skipped"` // open orders for packages not in the catalogue
	Errors       []string `json:"errors,omitempty"`
}

// Run makes one pass over every integration. An integration that fails is
// reported in the summary and does not stop the others.
func (r *Reconciler) Run(ctx context.Context) (*ReconcileSummary, error) {
	if r.Kombo == nil {
		return nil, orders.Errorf(orders.EUNAVAILABLE, "KOMBO_API_KEY is not set: cannot read Kombo's open orders")
	}
	ids, err := r.Store.ReconcileTargets(ctx)
	if err != nil {
		return nil, err
	}
	sum := &ReconcileSummary{Integrations: len(ids), Created: []string{}}
	for _, id := range ids {
		if err := r.integration(ctx, id, sum); err != nil {
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			sum.Errors = append(sum.Errors, fmt.Sprintf("%s: %v", id, err))
		}
	}
	r.Logger.Info("reconciled", "integrations", sum.Integrations, "open_orders", sum.OpenOrders,
		"created", len(sum.Created), "skipped", sum.Skipped, "errors", len(sum.Errors))
	return sum, nil
}

func (r *Reconciler) integration(ctx context.Context, integrationID string, sum *ReconcileSummary) error {
	release, err := r.Limiter.Acquire(ctx, integrationID)
	if err != nil {
		return err
	}
	open, err := r.Kombo.ListOrders(ctx, integrationID, kombo.ListOrdersFilter{Statuses: []kombo.OrderStatus{kombo.OrderStatusOpen}, PageSize: 250})
	release()
	if err != nil {
		return err
	}
	sum.OpenOrders += len(open)
	ids := make([]string, len(open))
	for i, o := range open {
		ids[i] = o.ID
	}
	known, err := r.Store.KnownOrderIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, o := range open {
		if known[o.ID] {
			continue
		}
		o.IntegrationID = integrationID
		if err := kombo.ValidateOrder(&o); err != nil {
			r.Logger.Warn("reconcile: invalid order from Kombo", "order_id", o.ID, "integration_id", integrationID, "err", err)
			continue
		}
		if !r.Catalogue.Accepts(o.PackageID) {
			// A webhook would have been answered 422; here there is no one to
			// answer, so leave the order to Kombo.
			r.Logger.Warn("reconcile: open order for a package not in the catalogue", "order_id", o.ID, "package_id", o.PackageID)
			sum.Skipped++
			continue
		}
		_, created, err := r.Store.CreateOrder(ctx, &o, orders.SourceReconcile)
		if err != nil {
			if orders.ErrorCode(err) == orders.EUNPROCESSABLE {
				r.Logger.Info("reconcile: order refused", "order_id", o.ID, "reason", orders.ErrorMessage(err))
				continue
			}
			return err
		}
		if created {
			sum.Created = append(sum.Created, o.ID)
		}
	}
	return nil
}

// ReconcileArgs asks for one reconciliation pass: one
// ReconcileIntegrationArgs job per integration, so that each job is short
// (well inside the time after which River rescues a job as a dead
// replica's) and integrations are read in parallel.
type ReconcileArgs struct{}

// Kind is River's name for the job.
func (ReconcileArgs) Kind() string { return "reconcile" }

// InsertOpts retries a failed pass a few times; the next period runs anyway.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3}
}

// ReconcileWorker starts a pass, once per period across all replicas
// (River schedules periodic jobs on its elected leader only).
type ReconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	Reconciler *Reconciler
}

// Work inserts one job per integration to reconcile.
func (w *ReconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	ids, err := w.Reconciler.Store.ReconcileTargets(ctx)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[*sql.Tx](ctx)
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: ReconcileIntegrationArgs{IntegrationID: id}}
	}
	if len(params) > 0 {
		if _, err := client.InsertMany(ctx, params); err != nil {
			return err
		}
	}
	return nil
}

// ReconcileIntegrationArgs asks for one integration's open orders to be
// reconciled.
type ReconcileIntegrationArgs struct {
	IntegrationID string `json:"integration_id"`
}

// Kind is River's name for the job.
func (ReconcileIntegrationArgs) Kind() string { return "reconcile_integration" }

// InsertOpts retries a failed read a few times; the next period runs anyway.
func (ReconcileIntegrationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3}
}

// ReconcileIntegrationWorker reconciles one integration.
type ReconcileIntegrationWorker struct {
	river.WorkerDefaults[ReconcileIntegrationArgs]
	Reconciler *Reconciler
}

// Work reads the integration's open orders and stores those unknown.
func (w *ReconcileIntegrationWorker) Work(ctx context.Context, job *river.Job[ReconcileIntegrationArgs]) error {
	if w.Reconciler.Kombo == nil {
		return river.JobCancel(errors.New("KOMBO_API_KEY is not set"))
	}
	sum := &ReconcileSummary{Integrations: 1, Created: []string{}}
	if err := w.Reconciler.integration(ctx, job.Args.IntegrationID, sum); err != nil {
		return err
	}
	w.Reconciler.Logger.Info("reconciled", "integration_id", job.Args.IntegrationID, "open_orders", sum.OpenOrders,
		"created", len(sum.Created), "skipped", sum.Skipped)
	return river.RecordOutput(ctx, sum)
}

// ReconcilePeriodic returns the periodic job that reconciles every interval.
func ReconcilePeriodic(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil },
		&river.PeriodicJobOpts{ID: "reconcile"})
}
