package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

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
	// Attempts counts the attempts made before this job, by the
	// InviteManyArgs job that handed the order on after they failed.
	Attempts int `json:"attempts,omitempty"`
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
	row := *job.JobRow
	row.Attempt += job.Args.Attempts
	return w.C.invite(ctx, &row, job.Args)
}

// invite is the work of an invitation job.
func (c *Candidates) invite(ctx context.Context, job *rivertype.JobRow, args InviteArgs) error {
	o, err := c.order(ctx, args.OrderID)
	if err != nil {
		return err
	}
	if why := c.noInvitation(o, args, stopped(ctx, c.Store, o)); why != "" {
		return c.skip(ctx, o, mail.Invitation, why)
	}
	failed, err := c.sendInvitations(ctx, job, []*orders.Order{o})
	if err != nil {
		return err
	}
	return failed[o.ID] // River retries a failed e-mail
}

// noSMTP is why no e-mail goes when assessgate has no SMTP server.
const noSMTP = "SMTP is not configured"

// noInvitation returns why the candidate of o gets no invitation, or "":
// no SMTP, an order that is final, stopped (see stopped), or an invitation
// already sent.
func (c *Candidates) noInvitation(o *orders.Order, args InviteArgs, stopped string) string {
	switch {
	case c.Mailer == nil:
		return noSMTP
	case !orders.Invite.Allows(o.State):
		return fmt.Sprintf("the order is %s", o.State)
	case stopped != "":
		return stopped
	case o.InvitedAt != nil && o.InvitedAt.UnixMilli() >= args.RequestedAt:
		return "already invited"
	}
	return ""
}

// sendInvitations e-mails the invitations of os (see sendAll) and records
// them: the orders invited, their reminders and expiries scheduled, the
// vendor told (order.invited). It returns why each failed invitation
// failed, by order id.
func (c *Candidates) sendInvitations(ctx context.Context, job *rivertype.JobRow, os []*orders.Order) (map[string]error, error) {
	now := c.Store.Now()
	var expiresAt *time.Time
	if c.InviteTTL > 0 {
		t := now.Add(c.InviteTTL)
		expiresAt = &t
	}
	expires := func(*orders.Order) *time.Time { return expiresAt }
	return c.sendAll(ctx, job, mail.Invitation, os, expires, func(ctx context.Context, tx *sql.Tx, sent []*orders.Order) error {
		ids := make([]string, len(sent))
		for i, o := range sent {
			ids[i] = o.ID
		}
		// An order made final while its e-mail went is left out: nothing
		// to schedule.
		invited, err := c.Store.MarkInvitedManyTx(ctx, tx, ids, now, expiresAt)
		if err != nil {
			return err
		}
		var later []river.InsertManyParams
		for _, o := range invited {
			if c.ReminderAfter > 0 {
				later = append(later, river.InsertManyParams{Args: RemindArgs{OrderID: o.ID, InvitedAt: now.UnixMilli()},
					InsertOpts: &river.InsertOpts{ScheduledAt: now.Add(c.ReminderAfter)}})
			}
			if expiresAt != nil {
				later = append(later, river.InsertManyParams{Args: ExpireArgs{OrderID: o.ID, ExpiresAt: expiresAt.UnixMilli()},
					InsertOpts: &river.InsertOpts{ScheduledAt: *expiresAt}})
			}
		}
		if len(later) > 0 {
			if _, err := c.Queue.InsertManyFastTx(ctx, tx, later); err != nil {
				return fmt.Errorf("schedule reminders and expiries: %w", err)
			}
		}
		return c.Vendor.Enqueue(ctx, tx, c.Queue, EventOrderInvited, invited...)
	})
}

// InviteManyArgs asks for the candidates of new orders to be invited: the
// orders one transaction of the intake created, up to 64 (see
// store.GroupCommit).
//
// One job for many orders costs River one insert, one fetch and one
// completion where a job per order cost as many of each as there were
// orders; on SQLite these share the one writer with the intake, and on
// Postgres a round trip each (docs/benchmarks.md).
type InviteManyArgs struct {
	OrderIDs []string `json:"order_ids"`
}

// Kind is River's name for the job.
func (InviteManyArgs) Kind() string { return "invite_many" }

// InviteManyWorker invites the candidates of an InviteManyArgs job's
// orders, each as an InviteArgs job would, several at once (at most
// Candidates.MaxParallel e-mails in flight across all jobs), their links
// and their outcomes written for all of them at once (see sendAll). An order
// whose invitation fails is handed on to an InviteArgs job of its own,
// scheduled after the first retry's backoff, which River then retries as
// any other job: the other orders of the batch are not sent again.
type InviteManyWorker struct {
	river.WorkerDefaults[InviteManyArgs]
	C *Candidates
}

// Work invites every order of the job, and hands on those that failed.
// Only when handing on fails does the job fail, for River to run it again;
// the orders invited meanwhile are then skipped ("already invited"). The
// orders are read in one query, and the invitations not sent recorded in
// one write.
func (w *InviteManyWorker) Work(ctx context.Context, job *river.Job[InviteManyArgs]) error {
	c := w.C
	if c.Mailer == nil {
		// Nothing about the orders matters: each that still exists is
		// recorded as skipped.
		ids, err := c.Store.ExistingOrderIDs(ctx, job.Args.OrderIDs)
		if err != nil {
			return err
		}
		return c.skipAll(ctx, ids, mail.Invitation, repeat(noSMTP, len(ids)))
	}
	found, err := c.Store.FindOrdersByIDs(ctx, job.Args.OrderIDs)
	if err != nil {
		return err // nothing done yet: River runs the job again
	}
	integrations := map[string]string{} // why an integration stops e-mails, by id
	var (
		skipped, reasons []string
		send             []*orders.Order
	)
	for _, o := range found { // orders gone since are left alone, as an InviteArgs job cancels
		why, ok := integrations[o.IntegrationID]
		if !ok {
			why = integrationStopped(ctx, c.Store, o.IntegrationID)
			integrations[o.IntegrationID] = why
		}
		if why == "" && o.ErasedAt != nil {
			why = reasonErased
		}
		if why = c.noInvitation(o, InviteArgs{OrderID: o.ID}, why); why != "" {
			skipped, reasons = append(skipped, o.ID), append(reasons, why)
			continue
		}
		send = append(send, o)
	}
	if len(skipped) > 0 {
		if err := c.skipAll(ctx, skipped, mail.Invitation, reasons); err != nil {
			return err // nothing sent yet
		}
	}

	outcome, err := c.sendInvitations(ctx, job.JobRow, send)
	if err != nil {
		return err // River runs the job again; orders recorded as invited are skipped then
	}
	if len(outcome) == 0 {
		return nil
	}
	failed := slices.Collect(maps.Keys(outcome))
	slices.Sort(failed)
	at := c.Store.Now().Add(c.Retry.Delay(job.Attempt))
	params := make([]river.InsertManyParams, len(failed))
	for i, id := range failed {
		params[i] = river.InsertManyParams{Args: InviteArgs{OrderID: id, Attempts: job.Attempt},
			InsertOpts: &river.InsertOpts{ScheduledAt: at}}
	}
	// Handed on even when the job's time is up: that is when it is needed.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := c.Store.Write(hctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := c.Queue.InsertManyFastTx(ctx, tx, params)
		return err
	}); err != nil {
		return fmt.Errorf("hand on %d failed invitations: %w", len(failed), err)
	}
	c.Logger.Warn("invitations failed; each is retried on its own", "orders", len(failed), "job_id", job.ID,
		"retry_at", at.UTC().Format(time.RFC3339))
	return nil
}

// DefaultMaxParallel is Candidates.MaxParallel's default.
const DefaultMaxParallel = 16

// acquire waits for one of the MaxParallel slots of the InviteManyWorkers
// (none without AddWorkers).
func (c *Candidates) acquire(ctx context.Context) (release func(), err error) {
	if c.parallel == nil {
		return func() {}, nil
	}
	return c.parallel.Acquire(ctx, "invite")
}
