package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/orders"
)

// InviteArgs asks for the candidate of an order to be invited.
type InviteArgs struct {
	OrderID string `json:"order_id"`
	// RequestedAt, in Unix milliseconds, is when a re-invitation was asked
	// for; zero for the first invitation. An invitation sent at or after it
	// answers the request, so a job run twice sends once.
	RequestedAt int64 `json:"requested_at,omitempty"`
}

// Kind is River's name for the job.
func (InviteArgs) Kind() string { return "invite" }

// InviteWorker e-mails the candidate of an order an invitation with a new
// link, valid for InviteTTL. The first invitation makes the order invited;
// each schedules a reminder (after ReminderAfter) and the expiry, and tells
// the vendor (order.invited). A failed e-mail fails the job, and River
// retries it with backoff.
type InviteWorker struct {
	river.WorkerDefaults[InviteArgs]
	C *Candidates
}

// Work sends the invitation, or records on the timeline why not: no SMTP,
// an order that is final or erased, a deleted integration, or an invitation
// already sent.
func (w *InviteWorker) Work(ctx context.Context, job *river.Job[InviteArgs]) error {
	c := w.C
	o, err := c.order(ctx, job.Args.OrderID)
	if err != nil {
		return err
	}
	stopped := c.stopped(ctx, o)
	switch {
	case c.Mailer == nil:
		return c.skip(ctx, o, mail.Invitation, "SMTP is not configured")
	case o.State.Final():
		return c.skip(ctx, o, mail.Invitation, fmt.Sprintf("the order is %s", o.State))
	case stopped != "":
		return c.skip(ctx, o, mail.Invitation, stopped)
	case o.InvitedAt != nil && o.InvitedAt.UnixMilli() >= job.Args.RequestedAt:
		return c.skip(ctx, o, mail.Invitation, "already invited")
	}

	now := c.Store.Now()
	var expiresAt *time.Time
	if c.InviteTTL > 0 {
		t := now.Add(c.InviteTTL)
		expiresAt = &t
	}
	client := c.Client
	return c.send(ctx, job.JobRow, o, mail.Invitation, expiresAt, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := c.Store.MarkInvitedTx(ctx, tx, o.ID, now, expiresAt); err != nil {
			if orders.ErrorCode(err) == orders.ECONFLICT {
				return nil // made final while the e-mail went: nothing to schedule
			}
			return err
		}
		if c.ReminderAfter > 0 {
			if _, err := client.InsertTx(ctx, tx, RemindArgs{OrderID: o.ID, InvitedAt: now.UnixMilli()},
				&river.InsertOpts{ScheduledAt: now.Add(c.ReminderAfter)}); err != nil {
				return fmt.Errorf("schedule reminder: %w", err)
			}
		}
		if expiresAt != nil {
			if _, err := client.InsertTx(ctx, tx, ExpireArgs{OrderID: o.ID, ExpiresAt: expiresAt.UnixMilli()},
				&river.InsertOpts{ScheduledAt: *expiresAt}); err != nil {
				return fmt.Errorf("schedule expiry: %w", err)
			}
		}
		return c.Vendor.Enqueue(ctx, tx, client, EventOrderInvited, o.ID)
	})
}
