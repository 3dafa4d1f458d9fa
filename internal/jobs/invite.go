package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/store"
)

// InviteArgs asks for the candidate of an order to be invited.
type InviteArgs struct {
	OrderID string `json:"order_id"`
}

// Kind is River's name for the job.
func (InviteArgs) Kind() string { return "invite" }

// InviteWorker invites the candidate of an order.
type InviteWorker struct {
	river.WorkerDefaults[InviteArgs]
	Store *store.Store
}

// Work records on the order's timeline that no invitation was e-mailed: the
// vendor's platform invites the candidate itself.
func (w *InviteWorker) Work(ctx context.Context, job *river.Job[InviteArgs]) error {
	return w.Store.AddEvent(ctx, job.Args.OrderID, "mail.skipped", map[string]any{"reason": "SMTP is not configured"})
}
