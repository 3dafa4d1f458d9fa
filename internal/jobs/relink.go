package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// RelinkArgs asks for a reconnection link for an integration that turned
// INVALID, to show on the admin page.
type RelinkArgs struct {
	IntegrationID string `json:"integration_id"`
}

// Kind is River's name for the job.
func (RelinkArgs) Kind() string { return "relink" }

// InsertOpts gives relinks the retry budget of write-backs.
func (RelinkArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WritebackMaxAttempts}
}

// RelinkWorker makes and keeps the reconnection link of an INVALID
// integration and, with a Mailer, e-mails it to the integration's creator.
type RelinkWorker struct {
	river.WorkerDefaults[RelinkArgs]
	Store  *store.Store
	Kombo  *kombo.Client
	Mailer Mailer // nil: links are not e-mailed (ASSESSGATE_RELINK_EMAIL off)
	Logger *slog.Logger
}

// Work makes the link unless the integration is no longer INVALID.
func (w *RelinkWorker) Work(ctx context.Context, job *river.Job[RelinkArgs]) error {
	id := job.Args.IntegrationID
	integ, err := w.Store.FindIntegrationByID(ctx, id)
	if err != nil {
		return err
	}
	if integ.State != kombo.IntegrationStateInvalid {
		w.Logger.Info("relink skipped", "integration_id", id, "state", integ.State)
		return nil
	}
	if w.Kombo == nil {
		return river.JobCancel(errors.New("KOMBO_API_KEY is not set: no reconnection link can be made"))
	}
	// A link made by an earlier attempt of this job is sent, not made again.
	link := integ.RelinkURL
	if link == "" || integ.RelinkAt == nil || integ.RelinkAt.Before(job.CreatedAt) {
		if link, err = MakeRelink(ctx, w.Kombo, w.Store, id); err != nil {
			return komboFailure(ctx, job.JobRow, func(ctx context.Context, _, reason string, err error) {
				w.Logger.Warn("relink dead-lettered", "integration_id", id, "reason", reason, "err", err)
			}, "", err)
		}
		w.Logger.Info("reconnection link made", "integration_id", id)
	}
	if w.Mailer == nil {
		return nil
	}
	if integ.CreatorEmail == nil || *integ.CreatorEmail == "" {
		w.Logger.Warn("reconnection link not e-mailed: Kombo names no creator of the integration", "integration_id", id)
		return nil
	}
	sent := w.Mailer.SendMany(ctx, mail.Relink, []mail.Message{{To: *integ.CreatorEmail,
		Data: &mail.Data{Organization: integ.OrganizationName, PackageName: integ.Tool, Link: link}}})[0]
	if sent.Err != nil {
		return fmt.Errorf("e-mail the reconnection link: %w", sent.Err)
	}
	w.Logger.Info("reconnection link e-mailed to the integration's creator", "integration_id", id, "message_id", sent.MessageID)
	return nil
}

// MakeRelink asks Kombo for a reconnection link for the integration id, a
// magic link (valid a year) to send to the customer, and keeps it for the
// admin page.
func MakeRelink(ctx context.Context, k *kombo.Client, st *store.Store, id string) (string, error) {
	link, err := k.Relink(ctx, id, kombo.RelinkRequest{LinkType: kombo.LinkTypeMagicLink})
	if err != nil {
		return "", err
	}
	return link, st.RecordRelink(ctx, id, link)
}
