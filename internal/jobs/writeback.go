package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// WritebackArgs asks for an order's newest result to be written back to
// Kombo.
type WritebackArgs struct {
	OrderID       string `json:"order_id"`
	IntegrationID string `json:"integration_id"`
}

// Kind is River's name for the job.
func (WritebackArgs) Kind() string { return "writeback" }

// WritebackMaxAttempts makes retries span more than 72 hours with the
// default RetryPolicy (1 s doubling to 1 h).
const WritebackMaxAttempts = 90

// giveUpAfter bounds how long a job keeps waiting on Kombo's Retry-After,
// which snoozes without spending attempts.
const giveUpAfter = 96 * time.Hour

// InsertOpts gives write-backs their retry budget.
func (WritebackArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WritebackMaxAttempts}
}

// WritebackWorker writes results back with PUT /assessment/orders/{id}/result.
type WritebackWorker struct {
	river.WorkerDefaults[WritebackArgs]
	Store   *store.Store
	Kombo   *kombo.Client // nil when KOMBO_API_KEY is not set
	Limiter *Limiter
	Logger  *slog.Logger
	// Vendor, if enabled, hears writeback.failed when a result is
	// dead-lettered; Queue inserts that event's job.
	Vendor *Vendor
	Queue  *Client
	// Parking parks write-backs that wait for an integration's setup or
	// for KOMBO_API_KEY.
	Parking *Parking
}

// Work delivers the newest undelivered result of the order, unless the
// order's integration was deleted or the result erased (see skipReason),
// which it records on the timeline as writeback.skipped. Retryable
// failures return an error, so River retries with backoff (or snooze for
// Kombo's Retry-After); failures that need a human cancel the job at once,
// which makes it a dead letter. Without KOMBO_API_KEY, or while Kombo
// answers INTEGRATION.SETUP_*, it parks (see Parking).
func (w *WritebackWorker) Work(ctx context.Context, job *river.Job[WritebackArgs]) error {
	return w.Parking.settle(ctx, job.JobRow, w.work(ctx, job))
}

func (w *WritebackWorker) work(ctx context.Context, job *river.Job[WritebackArgs]) error {
	orderID := job.Args.OrderID
	res, err := w.Store.LatestResult(ctx, orderID)
	if err != nil {
		return err
	}
	if res.DeliveredAt != nil {
		// A later job delivered this result, or a newer one superseded ours.
		return nil
	}
	if reason, err := w.skipReason(ctx, res); err != nil || reason != "" {
		if err != nil {
			return err
		}
		w.Logger.Info("writeback skipped", "order_id", orderID, "result_id", res.ID, "reason", reason)
		return w.Store.AddEvent(ctx, orderID, orders.WritebackSkipped{Reason: reason, ResultID: res.ID})
	}
	if w.Kombo == nil {
		return w.Parking.park(ctx, job.JobRow, noKey("writing the result back to Kombo"), w.parkedTooLong(orderID))
	}
	release, err := w.Limiter.Acquire(ctx, job.Args.IntegrationID)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := w.Kombo.UpdateOrderResult(ctx, job.Args.IntegrationID, orderID, &res.Request)
	release()
	call := komboCall("PUT /assessment/orders/{id}/result", job.Attempt, start, err)
	call.ResultID = res.ID
	if aerr := w.Store.AddEvent(ctx, orderID, call); aerr != nil {
		w.Logger.Error("record kombo call", "order_id", orderID, "err", aerr)
	}
	if err == nil {
		var warnings []string
		for _, wn := range resp.Warnings {
			warnings = append(warnings, wn.Message)
		}
		if len(warnings) > 0 {
			w.Logger.Warn("kombo warnings on result", "order_id", orderID, "warnings", len(warnings))
		}
		return w.Store.MarkResultDelivered(ctx, res, warnings)
	}
	if job.Attempt > 1 && refusedAsClosed(err) && w.landedEarlier(ctx, job, res) {
		w.Logger.Info("writeback: an earlier attempt reached Kombo", "order_id", orderID, "result_id", res.ID, "attempt", job.Attempt)
		return w.Store.MarkResultDelivered(ctx, res, nil)
	}
	if kombo.Classify(err) == kombo.ClassSetupPending {
		return w.Parking.park(ctx, job.JobRow, setupPending(err), w.parkedTooLong(orderID))
	}
	return komboFailure(ctx, job.JobRow, w.deadLetter, orderID, err)
}

// parkedTooLong dead-letters a write-back parked past the bound.
func (w *WritebackWorker) parkedTooLong(orderID string) func(ctx context.Context, reason string, err error) {
	return func(ctx context.Context, reason string, err error) { w.deadLetter(ctx, orderID, reason, err) }
}

// refusedAsClosed reports whether Kombo refused a result as it refuses one
// for an order that is no longer OPEN (400, not to be retried).
func refusedAsClosed(err error) bool {
	var kerr *kombo.Error
	return errors.As(err, &kerr) && kerr.StatusCode == http.StatusBadRequest && !kombo.IsRetryable(err)
}

// landedEarlier reports whether Kombo's order already has the status res
// gives it, read back with GET /assessment/orders?ids=: an earlier attempt
// whose answer was lost (a timeout) went through, and the refusal of this
// one is Kombo's answer to a second status change (API.md §9.4). The read
// is on the order's timeline like any Kombo call.
func (w *WritebackWorker) landedEarlier(ctx context.Context, job *river.Job[WritebackArgs], res *orders.Result) bool {
	if res.Request.Status == kombo.OrderStatusOpen {
		return false
	}
	release, err := w.Limiter.Acquire(ctx, job.Args.IntegrationID)
	if err != nil {
		return false
	}
	start := time.Now()
	found, err := w.Kombo.ListOrders(ctx, job.Args.IntegrationID, kombo.ListOrdersFilter{IDs: []string{res.OrderID}})
	release()
	call := komboCall("GET /assessment/orders", job.Attempt, start, err)
	call.ResultID = res.ID
	if aerr := w.Store.AddEvent(ctx, res.OrderID, call); aerr != nil {
		w.Logger.Error("record kombo call", "order_id", res.OrderID, "err", aerr)
	}
	return err == nil && len(found) == 1 && found[0].ID == res.OrderID && found[0].Status == res.Request.Status
}

// skipReason returns why a result is not written back, or "": Kombo
// deleted the order's integration, or the result was erased with its
// order's personal data (it lost its URL; a result recorded after the
// erasure, such as the expiry's, is written back).
func (w *WritebackWorker) skipReason(ctx context.Context, res *orders.Result) (string, error) {
	o, err := w.Store.FindOrderByID(ctx, res.OrderID)
	if err != nil {
		return "", err
	}
	switch reason := stopped(ctx, w.Store, o); {
	case reason == reasonIntegrationDeleted:
		return reason, nil
	case reason == reasonErased && !res.CreatedAt.After(*o.ErasedAt):
		return "the result was erased with the candidate's personal data", nil
	}
	return "", nil
}

// deadLetter records on the order's timeline that its write-back stopped,
// and tells the vendor's platform (writeback.failed), in one transaction.
func (w *WritebackWorker) deadLetter(ctx context.Context, orderID, reason string, err error) {
	w.Logger.Warn("writeback dead-lettered", "order_id", orderID, "reason", reason, "err", err)
	txErr := w.Store.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := w.Store.AddEventTx(ctx, tx, orderID, deadLetterEvent("writeback", reason, err)); err != nil {
			return err
		}
		return tellVendor(ctx, tx, w.Store, w.Vendor, w.Queue, EventWritebackFailed, orderID)
	})
	if txErr != nil {
		w.Logger.Error("record dead letter", "order_id", orderID, "err", txErr)
	}
}

// komboFailure turns a failed Kombo call into River's answer, following
// Kombo's classification (kombo.Classify): a cancel (dead letter now, with
// Kombo's message and log_url) for failures that need a human; a snooze of
// about a second, doubling (kombo.ConcurrencyBackoff), for a concurrency
// limit; a snooze for Kombo's Retry-After (a rate limit's window); an error
// (retry with backoff) for other retryable failures. deadLetter, if not
// nil, is told when the job stops for good. Callers park setup answers
// before (Parking); here they are a human's.
func komboFailure(ctx context.Context, job *rivertype.JobRow, deadLetter func(ctx context.Context, orderID, reason string, err error), orderID string, err error) error {
	if ctx.Err() != nil {
		// Shutting down: not Kombo's fault, try again soon without spending
		// an attempt.
		return river.JobSnooze(0)
	}
	dead := func(reason string) {
		if deadLetter != nil {
			deadLetter(context.WithoutCancel(ctx), orderID, reason, err)
		}
	}
	class := kombo.Classify(err)
	if class == kombo.ClassHuman || class == kombo.ClassSetupPending {
		dead("needs a human")
		return river.JobCancel(err)
	}
	if class == kombo.ClassConcurrency {
		if time.Since(job.CreatedAt) > giveUpAfter {
			dead("gave up waiting on Kombo's concurrency limit")
			return river.JobCancel(err)
		}
		return river.JobSnooze(kombo.ConcurrencyBackoff(snoozes(job)))
	}
	if d, ok := kombo.RetryAfter(err); ok && d > 0 {
		if time.Since(job.CreatedAt) > giveUpAfter {
			dead("gave up waiting on Kombo's rate limit")
			return river.JobCancel(err)
		}
		return river.JobSnooze(d)
	}
	if job.Attempt >= job.MaxAttempts {
		dead(fmt.Sprintf("gave up after %d attempts", job.Attempt))
	}
	return err
}

// deadLetterEvent describes a dead letter for a timeline.
func deadLetterEvent(kind, reason string, err error) orders.DeadLetter {
	d := orders.DeadLetter{Error: err.Error(), Job: kind, Reason: reason}
	var kerr *kombo.Error
	if errors.As(err, &kerr) {
		d.ErrorCode, d.Status, d.LogURL = &kerr.Code, &kerr.StatusCode, kerr.LogURL
	}
	return d
}

// komboCall describes a Kombo call for a timeline: endpoint, HTTP status,
// Kombo's error code, latency and attempt. Never personal data.
func komboCall(endpoint string, attempt int, start time.Time, err error) orders.KomboCall {
	c := orders.KomboCall{Attempt: attempt, Endpoint: endpoint, LatencyMS: time.Since(start).Milliseconds(), Status: 200}
	var kerr *kombo.Error
	switch {
	case err == nil:
	case errors.As(err, &kerr):
		c.Status, c.ErrorCode, c.Error, c.LogURL = kerr.StatusCode, &kerr.Code, &kerr.Message, kerr.LogURL
	default:
		msg := err.Error()
		c.Status, c.Error = 0, &msg
	}
	return c
}
