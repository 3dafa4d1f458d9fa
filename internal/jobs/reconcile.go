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
// orders, and stores them through the same path as a webhook order. Those
// it cannot take (invalid content, a package not offered, an integration
// that takes no orders) it puts on the stuck list with the reason, and it
// takes off the list those Kombo no longer lists OPEN. A person closes a
// stuck order at Kombo (CloseStuck) or takes it again (RetryStuck).
type Reconciler struct {
	Store     *store.Store
	Kombo     *kombo.Client
	Catalogue *orders.Catalogue
	Limiter   *Limiter
	Logger    *slog.Logger
	// ResultURL is the result link of the CANCELLED result that closes a
	// stuck order (Kombo requires one): assessgate's public address.
	ResultURL string
}

// ReconcileSummary says what one reconciliation pass did.
type ReconcileSummary struct {
	Integrations int      `json:"integrations"`
	OpenOrders   int      `json:"open_orders"`
	Created      []string `json:"created"` // ids of the orders stored by this pass
	Skipped      int      `json:"skipped"` // open orders it could not take: on the stuck list
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
		reason, err := r.take(ctx, &o, sum)
		if err != nil {
			return err
		}
		if reason == "" {
			continue
		}
		// A webhook would have been answered 422; here there is no one to
		// answer: the stuck list shows it to a person.
		r.Logger.Warn("reconcile: open order not taken: on the stuck list", "order_id", o.ID, "integration_id", integrationID)
		if err := r.Store.RecordStuck(ctx, o.ID, integrationID, reason); err != nil {
			return err
		}
		sum.Skipped++
	}
	return r.Store.StuckStillOpen(ctx, integrationID, ids)
}

// take stores an open order unknown to assessgate, or returns why it
// cannot be taken.
func (r *Reconciler) take(ctx context.Context, o *kombo.Order, sum *ReconcileSummary) (reason string, err error) {
	if err := kombo.ValidateOrder(o); err != nil {
		var v *kombo.ValidationError
		if errors.As(err, &v) && v.Field == "id" {
			// No id that a table can hold: nothing to list it by.
			r.Logger.Error("reconcile: order from Kombo with an unusable id", "integration_id", o.IntegrationID, "err", err)
			return "", nil
		}
		return orders.RefusalReason(err), nil
	}
	if !r.Catalogue.Accepts(o.PackageID) {
		return orders.PackageRefusal(o.PackageID), nil
	}
	if len(r.Catalogue.Tenants(o.PackageID)) > 0 {
		in, err := r.Store.FindIntegrationByID(ctx, o.IntegrationID)
		if err != nil && orders.ErrorCode(err) != orders.ENOTFOUND {
			return "", err
		}
		if in != nil && !r.Catalogue.OfferedTo(o.PackageID, in.OriginID) {
			return orders.TenantRefusal(o.PackageID), nil
		}
	}
	_, created, err := r.Store.CreateOrder(ctx, o, orders.SourceReconcile)
	if err != nil {
		if orders.ErrorCode(err) == orders.EUNPROCESSABLE {
			return orders.ErrorMessage(err), nil
		}
		return "", err
	}
	if created {
		sum.Created = append(sum.Created, o.ID)
	}
	return "", nil
}

// StuckRetry is what taking a stuck order again came to.
type StuckRetry struct {
	OrderID string `json:"order_id"`
	// Taken is true when assessgate now holds the order.
	Taken bool `json:"taken"`
	// Reason, when not taken, is why: the order is still stuck, or Kombo
	// no longer lists it OPEN.
	Reason string `json:"reason,omitempty"`
}

// RetryStuck takes an order of the stuck list again, once what kept it out
// is fixed: it reads its integration's open orders from Kombo, as a
// reconciliation pass does, and says whether assessgate now holds it.
func (r *Reconciler) RetryStuck(ctx context.Context, orderID string) (*StuckRetry, error) {
	if r.Kombo == nil {
		return nil, orders.Errorf(orders.EUNAVAILABLE, "KOMBO_API_KEY is not set: cannot read Kombo's open orders")
	}
	o, err := r.Store.FindStuckOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	sum := &ReconcileSummary{Integrations: 1, Created: []string{}}
	if err := r.integration(ctx, o.IntegrationID, sum); err != nil {
		return nil, komboUnavailable("read the open orders", err)
	}
	out := &StuckRetry{OrderID: orderID}
	known, err := r.Store.KnownOrderIDs(ctx, []string{orderID})
	if err != nil {
		return nil, err
	}
	if out.Taken = known[orderID]; out.Taken {
		return out, nil
	}
	still, err := r.Store.FindStuckOrder(ctx, orderID)
	switch {
	case orders.ErrorCode(err) == orders.ENOTFOUND:
		out.Reason = "Kombo no longer lists the order OPEN: there is nothing to take."
	case err != nil:
		return nil, err
	default:
		out.Reason = still.Reason
	}
	return out, nil
}

// CloseStuck closes an order of the stuck list at Kombo with a CANCELLED
// result, whose "Reason" attribute is why assessgate could not take it
// (Kombo allows CANCELLED once an order was not rejected), and takes it off
// the list.
func (r *Reconciler) CloseStuck(ctx context.Context, orderID string) error {
	if r.Kombo == nil {
		return orders.Errorf(orders.EUNAVAILABLE, "KOMBO_API_KEY is not set: cannot close the order at Kombo")
	}
	if r.ResultURL == "" {
		return orders.Errorf(orders.EUNAVAILABLE, "ASSESSGATE_PUBLIC_URL is not set: Kombo requires a result_url to close an order")
	}
	o, err := r.Store.FindStuckOrder(ctx, orderID)
	if err != nil {
		return err
	}
	at := kombo.FormatTime(r.Store.Now())
	res := &kombo.ResultRequest{
		Status: kombo.OrderStatusCancelled, ResultURL: r.ResultURL, CompletedAt: &at,
		Attributes: []kombo.Attribute{kombo.TextAttribute("Reason", o.Reason)},
	}
	release, err := r.Limiter.Acquire(ctx, o.IntegrationID)
	if err != nil {
		return err
	}
	_, err = r.Kombo.UpdateOrderResult(ctx, o.IntegrationID, o.OrderID, res)
	release()
	if err != nil {
		return komboUnavailable("close the order", err)
	}
	r.Logger.Info("stuck order closed at Kombo", "order_id", o.OrderID, "integration_id", o.IntegrationID)
	return r.Store.CloseStuck(ctx, o.OrderID, store.StuckCancelled)
}

// komboUnavailable turns a failed call to Kombo into an error that names
// what failed: 503 if trying again may help, 409 if Kombo refused.
func komboUnavailable(what string, err error) error {
	if orders.ErrorCode(err) != orders.EINTERNAL || store.IsUnavailable(err) {
		return err
	}
	var k *kombo.Error
	if errors.As(err, &k) && !kombo.IsRetryable(err) {
		return orders.Errorf(orders.ECONFLICT, "Kombo refused to %s: %v", what, err)
	}
	return orders.Errorf(orders.EUNAVAILABLE, "could not %s at Kombo: %v", what, err)
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
