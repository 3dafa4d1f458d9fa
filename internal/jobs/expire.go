package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// ExpireArgs asks for an order's invitation to expire.
type ExpireArgs struct {
	OrderID string `json:"order_id"`
	// ExpiresAt, in Unix milliseconds, is the expiry this job is for; a
	// re-invitation moves the order's expiry and schedules another job.
	ExpiresAt int64 `json:"expires_at"`
}

// Kind is River's name for the job.
func (ExpireArgs) Kind() string { return "expire" }

// ExpireWorker expires an order whose invitation ran out before the
// candidate completed the assessment.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	C *Candidates
}

// Work makes the order expired, tells the vendor (order.expired) and, when
// ExpiryWriteback is on and the integration is not deleted, enqueues its
// write-back to Kombo as CANCELLED, all in one transaction. It does nothing when the order is final or its expiry
// is no longer the job's.
func (w *ExpireWorker) Work(ctx context.Context, job *river.Job[ExpireArgs]) error {
	c := w.C
	return c.Store.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, err := c.Store.FindOrderByIDTx(ctx, tx, job.Args.OrderID)
		if err != nil {
			if orders.ErrorCode(err) == orders.ENOTFOUND {
				return river.JobCancel(err)
			}
			return err
		}
		if !orders.Expire.Allows(o.State) || o.ExpiresAt == nil || o.ExpiresAt.UnixMilli() != job.Args.ExpiresAt {
			return nil
		}
		now := c.Store.Now()
		if now.Before(*o.ExpiresAt) {
			// Early, by another replica's clock: come back when it is time.
			return river.JobSnooze(o.ExpiresAt.Sub(now))
		}
		if _, err := c.Store.ExpireTx(ctx, tx, o.ID, now); err != nil {
			return err
		}
		started := o.StartedAt != nil
		if err := c.Store.AddEventTx(ctx, tx, o.ID, orders.OrderExpired{ExpiresAt: orders.FormatTime(*o.ExpiresAt), Started: started}); err != nil {
			return err
		}
		if err := tellVendor(ctx, tx, c.Store, c.Vendor, c.Queue, EventOrderExpired, o.ID); err != nil {
			return err
		}
		log := c.Logger.With("order_id", o.ID)
		switch {
		case stopped(ctx, c.Store, o) == reasonIntegrationDeleted:
			log.Info("order expired; not written back: its integration was deleted")
			return c.Store.AddEventTx(ctx, tx, o.ID, orders.WritebackSkipped{Reason: reasonIntegrationDeleted})
		case !c.ExpiryWriteback:
			log.Info("order expired; not written back (ASSESSGATE_EXPIRY_WRITEBACK=false)")
			return c.Store.AddEventTx(ctx, tx, o.ID, orders.WritebackSkipped{Reason: "expiry write-back is off"})
		}
		log.Info("order expired; write-back enqueued")
		// Stored as the vendor's results are; store.ResultAccepted enqueues
		// the write-back.
		_, err = c.Store.RecordResultTx(ctx, tx, o.ID, ExpiryResult(o, now, c.PublicURL))
		return err
	})
}

// ExpiryResult is the result written back to Kombo for an order whose
// invitation expired, written at at: CANCELLED, with a TEXT attribute
// "Reason" saying so. resultURL is the result link Kombo requires; an
// expired order has no result, so it is assessgate's public address.
func ExpiryResult(o *orders.Order, at time.Time, resultURL string) *kombo.ResultRequest {
	expired := at
	if o.ExpiresAt != nil {
		expired = *o.ExpiresAt
	}
	day := expired.UTC().Format("2 January 2006")
	reason := fmt.Sprintf("The invitation expired on %s (UTC) before the candidate started the assessment.", day)
	if o.StartedAt != nil {
		reason = fmt.Sprintf("The invitation expired on %s (UTC): the candidate started the assessment but did not complete it.", day)
	}
	completedAt := kombo.FormatTime(at)
	return &kombo.ResultRequest{
		Status:      kombo.OrderStatusCancelled,
		ResultURL:   resultURL,
		CompletedAt: &completedAt,
		Attributes:  []kombo.Attribute{kombo.TextAttribute("Reason", reason)},
	}
}
