package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// Mailer sends candidate e-mails; *mail.Mailer is one. SendMany sends
// several over one connection and returns each one's Message-ID or error;
// errors carry no personal data.
type Mailer interface {
	SendMany(ctx context.Context, kind mail.Kind, msgs []mail.Message) []mail.Sent
}

var _ Mailer = (*mail.Mailer)(nil)

// Candidates is the candidate side of assessgate: it invites candidates by
// e-mail, reminds those who have not opened their link, expires invitations
// and tells the vendor's platform. Its workers are registered by
// AddWorkers.
type Candidates struct {
	CandidateSettings

	Store  *store.Store
	Logger *slog.Logger
	// Queue inserts the jobs that these jobs cause (NewQueue).
	Queue *Client
	// Retry is the backoff of the jobs (the client's), by which an order
	// whose invitation failed in an InviteManyArgs job is tried again.
	Retry RetryPolicy

	parallel *Limiter // made by AddWorkers
}

// CandidateSettings is how the candidate side works.
type CandidateSettings struct {
	// Mailer sends the e-mails. Nil means assessgate does not e-mail
	// candidates (no SMTP): invitations are recorded as skipped, orders stay
	// received and the vendor's platform invites, learning of each order
	// from the order.created vendor webhook.
	Mailer Mailer
	// Catalogue names the packages in e-mails; may be nil.
	Catalogue *orders.Catalogue
	// PublicURL is assessgate's public address: a candidate's link is
	// PublicURL + "/a/" + token.
	PublicURL string
	// InviteTTL is how long an invitation's link works; zero: forever.
	InviteTTL time.Duration
	// ReminderAfter is when, after an invitation whose link was not opened,
	// the one reminder goes; zero: never.
	ReminderAfter time.Duration

	// ExpiryWriteback, when true, writes an expired order back to Kombo as
	// CANCELLED with a TEXT attribute saying the invitation expired, through
	// the same result and write-back job as the vendor's results.
	ExpiryWriteback bool

	// Vendor sends events to the vendor's platform; nil sends none.
	Vendor *Vendor

	// MaxParallel bounds the invitations of new orders (InviteManyArgs
	// jobs) in flight at once; zero means DefaultMaxParallel.
	MaxParallel int
}

// AddWorkers registers the workers of the invitation, reminder, expiry and
// vendor webhook jobs.
func (c *Candidates) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &InviteWorker{C: c})
	river.AddWorker(workers, &InviteManyWorker{C: c})
	river.AddWorker(workers, &RemindWorker{C: c})
	river.AddWorker(workers, &ExpireWorker{C: c})
	river.AddWorker(workers, &VendorWebhookWorker{Vendor: c.Vendor, Store: c.Store})
	n := c.MaxParallel
	if n <= 0 {
		n = DefaultMaxParallel
	}
	c.parallel = NewLimiter(n)
}

// tellVendor enqueues with q, in tx, the vendor webhook of event for the
// order id as it stands in tx.
func tellVendor(ctx context.Context, tx *sql.Tx, st *store.Store, v *Vendor, q *Client, event, id string) error {
	if !v.Enabled() {
		return nil
	}
	o, err := st.FindOrderByIDTx(ctx, tx, id)
	if err != nil {
		return err
	}
	return v.Enqueue(ctx, tx, q, event, o)
}

// Reasons no more e-mail goes to a candidate.
const (
	reasonErased             = "the candidate's personal data was erased"
	reasonIntegrationDeleted = "the integration was deleted"
)

// stopped returns why no e-mail may go to the candidate of o, nor a call to
// Kombo be made for it, or "": the candidate's personal data was erased, or
// Kombo deleted the order's integration.
func (c *Candidates) stopped(ctx context.Context, o *orders.Order) string {
	return stopped(ctx, c.Store, o)
}

func stopped(ctx context.Context, st *store.Store, o *orders.Order) string {
	// A deleted integration first: it stops more than an erasure does
	// (write-backs of results recorded after an erasure).
	if why := integrationStopped(ctx, st, o.IntegrationID); why != "" {
		return why
	}
	if o.ErasedAt != nil {
		return reasonErased
	}
	return ""
}

// integrationStopped returns reasonIntegrationDeleted if Kombo deleted the
// integration, or "".
func integrationStopped(ctx context.Context, st *store.Store, id string) string {
	if integ, err := st.FindIntegrationByID(ctx, id); err == nil && integ.State == orders.IntegrationDeleted {
		return reasonIntegrationDeleted
	}
	return ""
}

// order loads an order for a job; a job for an order that does not exist
// (any more) is cancelled rather than retried.
func (c *Candidates) order(ctx context.Context, id string) (*orders.Order, error) {
	o, err := c.Store.FindOrderByID(ctx, id)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil, river.JobCancel(err)
	}
	return o, err
}

// link returns the candidate link of token.
func (c *Candidates) link(token string) string {
	return strings.TrimRight(c.PublicURL, "/") + "/a/" + token
}

// message returns the e-mail of kind to the candidate of o (see
// CandidateMessage), with o's tenant's settings, its integration's
// organisation and its package's name.
func (c *Candidates) message(ctx context.Context, kind mail.Kind, o *orders.Order, link string, expiresAt *time.Time) mail.Message {
	ts, err := c.Store.TenantSettingsOf(ctx, o)
	if err != nil {
		// The e-mail goes in the defaults rather than not at all.
		c.Logger.Warn("tenant settings not read; e-mail in the defaults", "order_id", o.ID, "err", err)
	}
	var organization, packageName string
	// Unknown until Kombo's integration-created webhook arrives.
	if integ, err := c.Store.FindIntegrationByID(ctx, o.IntegrationID); err == nil {
		organization = integ.OrganizationName
	}
	if p, ok := c.Catalogue.Find(o.PackageID); ok {
		packageName = p.Name
	}
	return CandidateMessage(kind, o, ts, organization, packageName, link, expiresAt)
}

// CandidateMessage returns the e-mail of kind to the candidate of o: what
// its templates see, in the language, the name and the branding of o's
// tenant (ts; nil: the defaults, see orders.TenantSettings) on behalf of
// organization (o's integration's), its Reply-To, and its key, which names
// the e-mail for its Message-ID: the kind, the order and the invitation it
// follows (none yet for a first one), so that a retry is the same e-mail.
func CandidateMessage(kind mail.Kind, o *orders.Order, ts *orders.TenantSettings, organization, packageName, link string, expiresAt *time.Time) mail.Message {
	d := &mail.Data{Link: link, PackageName: packageName, Organization: ts.Company(organization), Lang: ts.LanguageOf(o)}
	if o.Candidate.FirstName != nil {
		d.FirstName = *o.Candidate.FirstName
	}
	if o.Candidate.LastName != nil {
		d.LastName = *o.Candidate.LastName
	}
	if o.Job.Name != nil {
		d.JobName = *o.Job.Name
	}
	if expiresAt != nil {
		d.ExpiresAt = *expiresAt
	}
	if ts != nil {
		d.LogoURL, d.AccentColor = ts.LogoURL, ts.AccentColor
	}
	var after int64
	if o.InvitedAt != nil {
		after = o.InvitedAt.UnixMilli()
	}
	return mail.Message{To: o.Candidate.Email, Data: d, ReplyTo: ts.ReplyToOf(o),
		Key: fmt.Sprintf("%s/%s/%d", kind, o.ID, after)}
}

// skipAll records on the timelines of the orders of ids that their e-mails
// were not sent, and why (reasons[i] for ids[i]), in one write.
func (c *Candidates) skipAll(ctx context.Context, ids []string, kind mail.Kind, reasons []string) error {
	skipped := make([]orders.EventData, len(ids))
	for i, id := range ids {
		c.Logger.Info("mail skipped", "order_id", id, "mail", string(kind), "reason", reasons[i])
		skipped[i] = orders.MailSkipped{Mail: string(kind), Reason: reasons[i]}
	}
	return c.Store.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return c.Store.AddEventsTx(ctx, tx, ids, skipped)
	})
}

// skip records on the timeline that an e-mail was not sent, and why.
func (c *Candidates) skip(ctx context.Context, o *orders.Order, kind mail.Kind, reason string) error {
	return c.skipAll(ctx, []string{o.ID}, kind, []string{reason})
}

// sendAll e-mails the candidates of os a new link each, an e-mail of kind
// (expires(o) is when o's link expires, nil: never). It takes three steps,
// whatever the number of orders:
//
//  1. one write stores the links, so that they work as soon as the e-mails
//     arrive; an order erased since it was read gets none, and its e-mail
//     is recorded as skipped;
//  2. the e-mails go, several at once (Candidates.MaxParallel);
//  3. one write records them: a failed e-mail's link is removed and the
//     failure put on its timeline, a sent one's on its timeline, and after
//     runs for the orders whose e-mails went.
//
// It returns why each failed e-mail failed, by order id, for the caller to
// have it tried again, and an error if a write failed: before the e-mails
// (nothing sent), or after (every e-mail sent but not recorded; trying
// again may send them twice).
func (c *Candidates) sendAll(ctx context.Context, job *rivertype.JobRow, kind mail.Kind, os []*orders.Order,
	expires func(*orders.Order) *time.Time, after func(ctx context.Context, tx *sql.Tx, sent []*orders.Order) error) (map[string]error, error) {
	if len(os) == 0 {
		return nil, nil
	}
	ids, hashes, tokens := make([]string, len(os)), make([]string, len(os)), make([]string, len(os))
	for i, o := range os {
		tokens[i] = orders.NewToken()
		ids[i], hashes[i] = o.ID, orders.HashToken(tokens[i])
	}
	var linked map[string]bool
	if err := c.Store.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if linked, err = c.Store.AddLinksTx(ctx, tx, ids, hashes); err != nil {
			return err
		}
		var erased []string
		for _, o := range os {
			if linked[o.ID] {
				continue
			}
			if _, err := c.Store.FindOrderByIDTx(ctx, tx, o.ID); orders.ErrorCode(err) == orders.ENOTFOUND {
				continue // gone since: nothing to record
			} else if err != nil {
				return err
			}
			erased = append(erased, o.ID)
		}
		return c.Store.AddEventsTx(ctx, tx, erased,
			repeat[orders.EventData](orders.MailSkipped{Mail: string(kind), Reason: reasonErased}, len(erased)))
	}); err != nil {
		return nil, fmt.Errorf("store the links of %d %ss: %w", len(os), kind, err)
	}

	outcomes := c.mailAll(ctx, job, kind, os, linked, tokens, expires)

	failed := map[string]error{}
	var (
		failedIDs, failedHashes, sentIDs []string
		failedEvents, sentEvents         []orders.EventData
		sent                             []*orders.Order
	)
	for i, o := range os {
		switch {
		case !linked[o.ID]:
		case outcomes[i].err != nil:
			failed[o.ID] = outcomes[i].err
			failedIDs, failedHashes = append(failedIDs, o.ID), append(failedHashes, hashes[i])
			failedEvents = append(failedEvents, outcomes[i].event)
		default:
			sent, sentIDs = append(sent, o), append(sentIDs, o.ID)
			sentEvents = append(sentEvents, outcomes[i].event)
		}
	}
	// Recorded even when the job's time is up: the e-mails went.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := c.Store.Write(rctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := c.Store.RemoveLinksTx(ctx, tx, failedHashes); err != nil {
			return err
		}
		if err := c.Store.AddEventsTx(ctx, tx, failedIDs, failedEvents); err != nil {
			return err
		}
		if err := c.Store.AddEventsTx(ctx, tx, sentIDs, sentEvents); err != nil {
			return err
		}
		if len(sent) == 0 {
			return nil
		}
		return after(ctx, tx, sent)
	})
	if err != nil {
		if len(sent) > 0 {
			// The e-mails went; River retries the job, which may send them again.
			c.Logger.Error("mail sent but not recorded", "mail", string(kind), "orders", len(sent), "job_id", job.ID, "err", err)
		}
		return failed, fmt.Errorf("record %d %ss: %w", len(os), kind, err)
	}
	return failed, nil
}

// outcome is what became of one e-mail, and the timeline event that
// records it (orders.MailSent or orders.MailFailed).
type outcome struct {
	err   error
	event orders.EventData
}

// mailPerConnection is how many e-mails go over one SMTP connection.
const mailPerConnection = 8

// mailAll e-mails the candidates of the orders of os given a link (linked)
// the link of tokens[i], mailPerConnection over a connection, the
// connections at once up to Candidates.MaxParallel, and returns each
// e-mail's outcome, in the order of os. An e-mail's latency_ms is its
// connection's, from connecting to the last reply.
func (c *Candidates) mailAll(ctx context.Context, job *rivertype.JobRow, kind mail.Kind, os []*orders.Order,
	linked map[string]bool, tokens []string, expires func(*orders.Order) *time.Time) []outcome {
	var todo []int // indexes into os
	for i, o := range os {
		if linked[o.ID] {
			todo = append(todo, i)
		}
	}
	outcomes := make([]outcome, len(os))
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(todo, mailPerConnection) {
		wg.Go(func() {
			msgs := make([]mail.Message, len(chunk))
			for j, i := range chunk {
				msgs[j] = c.message(ctx, kind, os[i], c.link(tokens[i]), expires(os[i]))
			}
			start := time.Now()
			var sent []mail.Sent
			release, err := c.acquire(ctx)
			if err == nil {
				sendCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
				sent = c.Mailer.SendMany(sendCtx, kind, msgs)
				cancel()
				release()
			} else {
				sent = repeat(mail.Sent{Err: err}, len(chunk))
			}
			latency := time.Since(start).Milliseconds()
			for j, i := range chunk {
				outcomes[i] = c.mailed(job, os[i], kind, expires(os[i]), sent[j], latency)
			}
		})
	}
	wg.Wait()
	return outcomes
}

// mailed logs what became of the e-mail of kind to the candidate of o and
// returns it with its timeline event.
func (c *Candidates) mailed(job *rivertype.JobRow, o *orders.Order, kind mail.Kind, expiresAt *time.Time, s mail.Sent, latencyMS int64) outcome {
	log := c.Logger.With("order_id", o.ID, "mail", string(kind), "attempt", job.Attempt, "job_id", job.ID)
	if s.Err != nil {
		failed := orders.MailFailed{Attempt: job.Attempt, Error: s.Err.Error(), LatencyMS: latencyMS, Mail: string(kind)}
		var me *mail.Error
		if errors.As(s.Err, &me) {
			failed.SMTPCode = me.Code
		}
		log.Warn("mail failed", "err", s.Err)
		return outcome{fmt.Errorf("send %s for order %s: %w", kind, o.ID, s.Err), failed}
	}
	sent := orders.MailSent{Attempt: job.Attempt, LatencyMS: latencyMS, Mail: string(kind), MessageID: s.MessageID}
	if expiresAt != nil {
		sent.ExpiresAt = orders.FormatTime(*expiresAt)
	}
	log.Info("mail sent", "latency_ms", latencyMS)
	return outcome{nil, sent}
}

// repeat returns n times v.
func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
