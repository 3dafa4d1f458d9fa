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

// RemindArgs asks for the one reminder of an invitation.
type RemindArgs struct {
	OrderID string `json:"order_id"`
	// InvitedAt, in Unix milliseconds, names the invitation reminded of: a
	// later invitation schedules its own reminder.
	InvitedAt int64 `json:"invited_at"`
}

// Kind is River's name for the job.
func (RemindArgs) Kind() string { return "remind" }

// RemindWorker e-mails a reminder, with a new link to the same order, to a
// candidate who has not opened the link of their invitation.
type RemindWorker struct {
	river.WorkerDefaults[RemindArgs]
	C *Candidates
}

// Work sends the reminder when, as the order stands now, it is still wanted:
// the order is invited (its link not opened), not final, not erased, of an
// integration that is not deleted, not invited again since, and not
// reminded yet. Otherwise it records why not.
func (w *RemindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	c := w.C
	o, err := c.order(ctx, job.Args.OrderID)
	if err != nil {
		return err
	}
	stopped := c.stopped(ctx, o)
	switch {
	case c.Mailer == nil:
		return c.skip(ctx, o, mail.Reminder, noSMTP)
	case o.State.Final():
		return c.skip(ctx, o, mail.Reminder, fmt.Sprintf("the order is %s", o.State))
	case stopped != "":
		return c.skip(ctx, o, mail.Reminder, stopped)
	case o.State == orders.StateStarted:
		return c.skip(ctx, o, mail.Reminder, "the link was opened")
	case o.InvitedAt == nil || o.InvitedAt.UnixMilli() != job.Args.InvitedAt:
		return c.skip(ctx, o, mail.Reminder, "invited again since")
	case reminded(o):
		return c.skip(ctx, o, mail.Reminder, "already reminded")
	}
	expires := func(o *orders.Order) *time.Time { return o.ExpiresAt }
	failed, err := c.sendAll(ctx, job.JobRow, mail.Reminder, []*orders.Order{o}, expires,
		func(ctx context.Context, tx *sql.Tx, _ []*orders.Order) error {
			return tellVendor(ctx, tx, c.Store, c.Vendor, c.Queue, EventOrderReminded, o.ID)
		})
	if err != nil {
		return err
	}
	return failed[o.ID] // River retries a failed e-mail
}

// reminded reports whether a reminder was sent since the last invitation.
func reminded(o *orders.Order) bool {
	for _, e := range o.Timeline {
		if sent, ok := e.Data.(orders.MailSent); ok && sent.Mail == string(mail.Reminder) && !e.At.Before(*o.InvitedAt) {
			return true
		}
	}
	return false
}
