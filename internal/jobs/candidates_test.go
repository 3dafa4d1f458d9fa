package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

const (
	integrationID = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f" // in kombo/testdata/webhook-integration-created.json
	publicURL     = "https://assess.vendor.example"
	ttl           = 14 * 24 * time.Hour
	remindAfter   = 48 * time.Hour
)

// fakeMailer records what it is asked to send; SendFunc, if set, answers.
type fakeMailer struct {
	mu       sync.Mutex
	SendFunc func(kind mail.Kind, to string, d *mail.Data) error
	sent     []sentMail
}

type sentMail struct {
	Kind mail.Kind
	To   string
	Data mail.Data
}

var _ jobs.Mailer = (*fakeMailer)(nil)

func (m *fakeMailer) SendMany(ctx context.Context, kind mail.Kind, msgs []mail.Message) []mail.Sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]mail.Sent, len(msgs))
	for i, x := range msgs {
		if m.SendFunc != nil {
			if err := m.SendFunc(kind, x.To, x.Data); err != nil {
				out[i].Err = err
				continue
			}
		}
		m.sent = append(m.sent, sentMail{kind, x.To, *x.Data})
		out[i].MessageID = fmt.Sprintf("<%d@test>", len(m.sent))
	}
	return out
}

func (m *fakeMailer) to(address string) []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sentMail
	for _, s := range m.sent {
		if s.To == address {
			out = append(out, s)
		}
	}
	return out
}

// recordedResult is the result of an expiry, as the store accepted it
// (store.ResultAccepted for an expired order).
type recordedResult struct {
	OrderID string
	Result  *kombo.ResultRequest
}

// env is the candidate side on a fresh database, on a stub clock, with a
// River client that is not started: tests work jobs by calling workers.
type env struct {
	t       *testing.T
	ctx     context.Context
	st      *store.Store
	clk     *clock.Stub
	client  *jobs.Client
	mailer  *fakeMailer
	c       *jobs.Candidates
	results []recordedResult
}

func newEnv(t *testing.T, d storetest.Database, vendorURL string) *env {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := storetest.Open(t, d)
	e := &env{t: t, clk: clock.NewStub(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)), mailer: &fakeMailer{}}
	vendor, err := jobs.NewVendor(logger, e.clk, vendorURL, "whsec_"+testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	queue, err := jobs.NewQueue(db, logger, e.clk)
	if err != nil {
		t.Fatal(err)
	}
	events := jobs.NewEvents(jobs.EventsConfig{Queue: queue, Vendor: vendor, Invitations: true, Clock: e.clk})
	// The jobs' Events, and the expiries' results they enqueue write-backs of.
	st := store.New(db, store.Config{Logger: logger, Clock: e.clk, Events: store.EventsFunc(func(ctx context.Context, tx *sql.Tx, ev store.Event) error {
		if r, ok := ev.(store.ResultAccepted); ok && r.Order.State == orders.StateExpired {
			e.results = append(e.results, recordedResult{r.Order.ID, &r.Result.Request})
		}
		return events.Happened(ctx, tx, ev)
	})})
	e.st = st
	e.c = &jobs.Candidates{Store: st, Logger: logger, Queue: queue, CandidateSettings: jobs.CandidateSettings{
		Mailer: e.mailer, PublicURL: publicURL,
		Catalogue:     orders.NewCatalogue([]orders.Package{{Package: kombo.Package{ID: "typescript_test", Type: kombo.PackageSkillsTest, Name: "TypeScript (60 min)"}}}),
		InviteTTL:     ttl,
		ReminderAfter: remindAfter, ExpiryWriteback: true, Vendor: vendor,
	}}
	workers := river.NewWorkers()
	e.c.AddWorkers(workers)
	// Events pushes packages to a new integration.
	river.AddWorker(workers, &jobs.PushPackagesWorker{Store: st, Logger: logger, Limiter: jobs.NewLimiter(1)})
	// Results enqueue write-backs.
	river.AddWorker(workers, &jobs.WritebackWorker{Store: st, Logger: logger, Limiter: jobs.NewLimiter(1)})
	e.client, err = jobs.NewClient(jobs.Config{DB: st.DB(), Store: st, Logger: logger, Workers: workers, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	e.ctx = context.Background()

	// The integration, so that e-mails name the organisation.
	body, err := os.ReadFile(filepath.Join("..", "..", "kombo", "testdata", "webhook-integration-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	hook, err := kombo.ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Intake(e.ctx, &store.Intake{Webhook: hook, Body: body}); err != nil {
		t.Fatal(err)
	}
	return e
}

// order stores an order for candidate id@example.com, as a webhook would.
func (e *env) order(id string) *orders.Order {
	e.t.Helper()
	first, job := "Ada <b>", "Engineer"
	o, _, err := e.st.CreateOrder(e.ctx, &kombo.Order{
		ID: id, IntegrationID: integrationID, PackageID: "typescript_test", Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{Email: id + "@example.com", FirstName: &first},
		Job:       kombo.Job{Name: &job},
	}, orders.SourceWebhook)
	if err != nil {
		e.t.Fatalf("CreateOrder(%s) = %v", id, err)
	}
	return o
}

func (e *env) find(id string) *orders.Order {
	e.t.Helper()
	o, err := e.st.FindOrderByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) setState(id string, state orders.State) {
	e.t.Helper()
	if _, err := e.st.DB().Writer.Exec("UPDATE orders SET state = $1 WHERE id = $2", string(state), id); err != nil {
		e.t.Fatal(err)
	}
}

// work calls a worker as River would on the given attempt.
func work[T river.JobArgs](e *env, w river.Worker[T], args T, attempt int) error {
	e.t.Helper()
	return w.Work(e.ctx, &river.Job[T]{JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: 25, Kind: args.Kind()}, Args: args})
}

func (e *env) invite(id string) error {
	e.t.Helper()
	return work[jobs.InviteArgs](e, &jobs.InviteWorker{C: e.c}, jobs.InviteArgs{OrderID: id}, 1)
}

// jobsOf returns the jobs of kind for an order, oldest first; for "invite",
// the InviteManyArgs jobs that include the order too.
func (e *env) jobsOf(kind, orderID string) []*rivertype.JobRow {
	e.t.Helper()
	kinds := []string{kind}
	if kind == "invite" {
		kinds = append(kinds, "invite_many")
	}
	res, err := e.client.JobList(e.ctx, river.NewJobListParams().Kinds(kinds...).First(1000))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*rivertype.JobRow
	for _, j := range res.Jobs {
		var a struct {
			OrderID  string   `json:"order_id"`
			OrderIDs []string `json:"order_ids"`
		}
		json.Unmarshal(j.EncodedArgs, &a)
		if a.OrderID == orderID || slices.Contains(a.OrderIDs, orderID) {
			out = append(out, j)
		}
	}
	return out
}

// vendorEvents returns the vendor webhook events enqueued for an order.
func (e *env) vendorEvents(orderID string) []string {
	e.t.Helper()
	var out []string
	for _, j := range e.jobsOf("vendor_webhook", orderID) {
		var a jobs.VendorWebhookArgs
		json.Unmarshal(j.EncodedArgs, &a)
		out = append(out, a.Event)
	}
	return out
}

func events(o *orders.Order, kind string) []orders.Event {
	var out []orders.Event
	for _, ev := range o.Timeline {
		if ev.Kind() == kind {
			out = append(out, ev)
		}
	}
	return out
}

// tokenOf returns the token of a link in an e-mail.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	token, ok := strings.CutPrefix(link, publicURL+"/a/")
	if !ok || len(token) < 40 {
		t.Fatalf("link %q is not %s/a/<token>", link, publicURL)
	}
	return token
}

// TestInviteManyWorker works the one job that invites the orders of an
// intake transaction: every candidate gets one invitation; one whose e-mail
// fails is handed on to a job of its own, after the backoff, counting the
// attempt made, and is not sent again with the others when River runs the
// batch job a second time.
func TestInviteManyWorker(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "https://vendor.example/hooks")
			ids := []string{"m1", "m2", "m3", "m4"}
			for _, id := range ids {
				e.order(id)
			}
			e.mailer.SendFunc = func(kind mail.Kind, to string, d *mail.Data) error {
				if to == "m3@example.com" {
					return errors.New("451 try again later")
				}
				return nil
			}
			// A cancelled order is skipped, an order that is gone ignored.
			e.order("m5")
			e.setState("m5", orders.StateCancelled)
			now := e.clk.Now()
			batch := jobs.InviteManyArgs{OrderIDs: append(slices.Clone(ids), "m5", "gone")}
			if err := work[jobs.InviteManyArgs](e, &jobs.InviteManyWorker{C: e.c}, batch, 1); err != nil {
				t.Fatalf("InviteManyWorker.Work = %v; want nil, the failed invitation handed on", err)
			}
			if n := len(e.mailer.to("m5@example.com")); n != 0 {
				t.Errorf("invitations to the cancelled order = %d; want 0", n)
			}
			if sk := events(e.find("m5"), orders.EventMailSkipped); len(sk) != 1 || sk[0].Detail()["reason"] != "the order is cancelled" {
				t.Errorf("m5's mail.skipped events = %+v; want one: the order is cancelled", sk)
			}
			for _, id := range ids {
				want := 1
				if id == "m3" {
					want = 0
				}
				if n := len(e.mailer.to(id + "@example.com")); n != want {
					t.Errorf("invitations to %s = %d; want %d", id, n, want)
				}
			}
			var handed []*rivertype.JobRow
			for _, j := range e.jobsOf("invite", "m3") {
				if j.Kind == "invite" {
					handed = append(handed, j)
				}
			}
			if len(handed) != 1 {
				t.Fatalf("invite jobs of m3 = %d; want 1, handed on", len(handed))
			}
			if at := handed[0].ScheduledAt; at.Before(now.Add(800*time.Millisecond)) || at.After(now.Add(time.Second)) {
				t.Errorf("handed-on job scheduled at %v; want after the first retry's backoff (0.8–1 s after %v)", at, now)
			}
			var args jobs.InviteArgs
			json.Unmarshal(handed[0].EncodedArgs, &args)
			if args.OrderID != "m3" || args.Attempts != 1 {
				t.Errorf("handed-on job's args = %+v; want m3 after 1 attempt", args)
			}
			if got := e.jobsOf("invite", "m1"); len(got) != 1 {
				t.Errorf("invite jobs of m1 = %d; want only its intake's", len(got))
			}
			// What one invitation records, for each sent one of the batch.
			for _, id := range []string{"m1", "m2", "m4"} {
				o := e.find(id)
				if o.State != orders.StateInvited || !o.InvitedAt.Equal(now) || !o.ExpiresAt.Equal(now.Add(ttl)) {
					t.Errorf("%s = %s invited %v expires %v; want invited now, expiring in 14 days", id, o.State, o.InvitedAt, o.ExpiresAt)
				}
				if r, x := e.jobsOf("remind", id), e.jobsOf("expire", id); len(r) != 1 || !r[0].ScheduledAt.Equal(now.Add(remindAfter)) ||
					len(x) != 1 || !x[0].ScheduledAt.Equal(now.Add(ttl)) {
					t.Errorf("%s: reminder jobs %v, expiry jobs %v; want one of each, in 2 and 14 days", id, r, x)
				}
				if got := e.vendorEvents(id); strings.Join(got, ",") != "order.created,order.invited" {
					t.Errorf("%s: vendor events = %v; want order.created, order.invited", id, got)
				}
				if sent := events(o, orders.EventMailSent); len(sent) != 1 || sent[0].Detail()["attempt"] != float64(1) {
					t.Errorf("%s: mail.sent events = %+v; want one, attempt 1", id, sent)
				}
			}
			// The failed one: no link left, nothing scheduled, still received.
			if o := e.find("m3"); o.State != orders.StateReceived || len(e.jobsOf("remind", "m3")) != 0 ||
				len(events(o, orders.EventMailFailed)) != 1 {
				t.Errorf("m3 = %s, reminders %d, timeline %+v; want received, none, one mail.failed", o.State, len(e.jobsOf("remind", "m3")), o.Timeline)
			}
			if n := countLinks(t, e, "m3"); n != 0 {
				t.Errorf("links of m3 after its e-mail failed = %d; want 0", n)
			}

			// The handed-on job invites m3, its timeline counting both attempts.
			e.mailer.SendFunc = nil
			if err := work[jobs.InviteArgs](e, &jobs.InviteWorker{C: e.c}, args, 1); err != nil {
				t.Fatal(err)
			}
			failed, sent := events(e.find("m3"), orders.EventMailFailed), events(e.find("m3"), orders.EventMailSent)
			if len(failed) != 1 || failed[0].Detail()["attempt"] != float64(1) || len(sent) != 1 || sent[0].Detail()["attempt"] != float64(2) {
				t.Errorf("m3's timeline: mail.failed %+v, mail.sent %+v; want attempt 1 failed, attempt 2 sent", failed, sent)
			}

			// River runs the batch again (after a crash): nothing is sent twice.
			if err := work[jobs.InviteManyArgs](e, &jobs.InviteManyWorker{C: e.c}, batch, 2); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if n := len(e.mailer.to(id + "@example.com")); n != 1 {
					t.Errorf("invitations to %s after the batch ran twice = %d; want 1", id, n)
				}
			}
		})
	}
}

// TestInviteManyWorker_Connections invites more orders than go over one
// SMTP connection: every candidate gets one e-mail, the one that fails is
// handed on alone.
func TestInviteManyWorker_Connections(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			var ids []string
			for i := range 21 {
				ids = append(ids, fmt.Sprintf("c%02d", i))
				e.order(ids[i])
			}
			e.mailer.SendFunc = func(kind mail.Kind, to string, d *mail.Data) error {
				if to == "c13@example.com" {
					return errors.New("550 no such user")
				}
				return nil
			}
			if err := work[jobs.InviteManyArgs](e, &jobs.InviteManyWorker{C: e.c}, jobs.InviteManyArgs{OrderIDs: ids}, 1); err != nil {
				t.Fatal(err)
			}
			var handed []string
			for _, id := range ids {
				want := 1
				if id == "c13" {
					want = 0
				}
				if n := len(e.mailer.to(id + "@example.com")); n != want {
					t.Errorf("invitations to %s = %d; want %d", id, n, want)
				}
				for _, j := range e.jobsOf("invite", id) {
					if j.Kind == "invite" {
						handed = append(handed, id)
					}
				}
			}
			if !slices.Equal(handed, []string{"c13"}) {
				t.Errorf("orders handed on = %v; want c13 alone", handed)
			}
		})
	}
}

func TestInviteWorker(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "https://vendor.example/hooks")
			e.order("o1")
			if got := e.jobsOf("invite", "o1"); len(got) != 1 {
				t.Fatalf("invite jobs for a new order = %d; want 1, from the intake's hook", len(got))
			}
			now := e.clk.Now()
			if err := e.invite("o1"); err != nil {
				t.Fatalf("InviteWorker.Work = %v", err)
			}
			sent := e.mailer.to("o1@example.com")
			if len(sent) != 1 || sent[0].Kind != mail.Invitation {
				t.Fatalf("sent %+v; want one invitation", sent)
			}
			d := sent[0].Data
			if d.FirstName != "Ada <b>" || d.JobName != "Engineer" || d.Organization != "Acme Corp" ||
				d.PackageName != "TypeScript (60 min)" || !d.ExpiresAt.Equal(now.Add(ttl)) {
				t.Errorf("mail data = %+v; want the candidate, job, organisation, package and an expiry in 14 days", d)
			}
			open, err := e.st.OpenLink(e.ctx, orders.HashToken(tokenOf(t, d.Link)), false)
			if err != nil || open.Order.ID != "o1" {
				t.Errorf("the e-mailed link opens %+v, %v; want order o1", open, err)
			}

			o := e.find("o1")
			if o.State != orders.StateInvited || !o.InvitedAt.Equal(now) || !o.ExpiresAt.Equal(now.Add(ttl)) {
				t.Errorf("order = %s invited %v expires %v; want invited now, expiring in 14 days", o.State, o.InvitedAt, o.ExpiresAt)
			}
			if r := e.jobsOf("remind", "o1"); len(r) != 1 || !r[0].ScheduledAt.Equal(now.Add(remindAfter)) {
				t.Errorf("reminder jobs = %v; want one at %v", r, now.Add(remindAfter))
			}
			if x := e.jobsOf("expire", "o1"); len(x) != 1 || !x[0].ScheduledAt.Equal(now.Add(ttl)) {
				t.Errorf("expiry jobs = %v; want one at %v", x, now.Add(ttl))
			}
			if got := e.vendorEvents("o1"); strings.Join(got, ",") != "order.created,order.invited" {
				t.Errorf("vendor events = %v; want order.created, order.invited", got)
			}
			sentEvents := events(o, orders.EventMailSent)
			if len(sentEvents) != 1 || sentEvents[0].Detail()["mail"] != "invitation" || sentEvents[0].Detail()["attempt"] != float64(1) {
				t.Errorf("mail.sent events = %+v; want one for the invitation, attempt 1", sentEvents)
			}
			b, _ := json.Marshal(o.Timeline)
			if strings.Contains(string(b), "o1@example.com") || strings.Contains(string(b), "Ada") {
				t.Errorf("the timeline carries personal data: %s", b)
			}

			// The same job again (River retries after a crash) sends nothing.
			if err := e.invite("o1"); err != nil {
				t.Fatal(err)
			}
			if n := len(e.mailer.to("o1@example.com")); n != 1 {
				t.Errorf("invitations after the job ran twice = %d; want 1", n)
			}

			t.Run("Reinvite", func(t *testing.T) {
				e.clk.Advance(72 * time.Hour)
				if _, err := e.st.RequestInvite(e.ctx, "o1"); err != nil {
					t.Fatal(err)
				}
				inv := e.jobsOf("invite", "o1")
				if len(inv) != 2 {
					t.Fatalf("invite jobs after a re-invitation = %d; want 2", len(inv))
				}
				var args jobs.InviteArgs
				json.Unmarshal(inv[1].EncodedArgs, &args)
				if err := work[jobs.InviteArgs](e, &jobs.InviteWorker{C: e.c}, args, 1); err != nil {
					t.Fatal(err)
				}
				sent := e.mailer.to("o1@example.com")
				newExpiry := e.clk.Now().Add(ttl)
				if len(sent) != 2 || sent[1].Data.Link == sent[0].Data.Link || !sent[1].Data.ExpiresAt.Equal(newExpiry) {
					t.Fatalf("after a re-invitation sent %+v; want a second invitation with a new link, expiring %v", sent, newExpiry)
				}
				if o := e.find("o1"); !o.ExpiresAt.Equal(newExpiry) {
					t.Errorf("expires_at = %v; want %v", o.ExpiresAt, newExpiry)
				}
				if x := e.jobsOf("expire", "o1"); len(x) != 2 || !x[1].ScheduledAt.Equal(newExpiry) {
					t.Errorf("expiry jobs = %d, last at %v; want a second at %v", len(x), x[len(x)-1].ScheduledAt, newExpiry)
				}
				// Both links work.
				for _, s := range sent {
					if _, err := e.st.OpenLink(e.ctx, orders.HashToken(tokenOf(t, s.Data.Link)), false); err != nil {
						t.Errorf("link of an earlier e-mail: %v", err)
					}
				}
			})

			t.Run("Final", func(t *testing.T) {
				for _, state := range []orders.State{orders.StateCancelled, orders.StateCompleted, orders.StateExpired} {
					id := "final-" + string(state)
					e.order(id)
					e.setState(id, state)
					if err := e.invite(id); err != nil {
						t.Fatal(err)
					}
					if n := len(e.mailer.to(id + "@example.com")); n != 0 {
						t.Errorf("%s order got %d e-mails; want none", state, n)
					}
					if ev := events(e.find(id), orders.EventMailSkipped); len(ev) != 1 || !strings.Contains(ev[0].Detail()["reason"].(string), string(state)) {
						t.Errorf("%s order: mail.skipped = %+v; want one naming the state", state, ev)
					}
					if _, err := e.st.RequestInvite(e.ctx, id); orders.ErrorCode(err) != orders.ECONFLICT {
						t.Errorf("RequestInvite(%s) = %v; want ECONFLICT", state, err)
					}
				}
			})

			t.Run("SMTPDown", func(t *testing.T) {
				e.order("o3")
				e.mailer.SendFunc = func(mail.Kind, string, *mail.Data) error {
					return &mail.Error{Reason: "connect", Temporary: true}
				}
				err := e.invite("o3")
				if err == nil || strings.Contains(err.Error(), "@") {
					t.Fatalf("Work with SMTP down = %v; want an error without the address", err)
				}
				o := e.find("o3")
				failed := events(o, orders.EventMailFailed)
				if o.State != orders.StateReceived || len(failed) != 1 || failed[0].Detail()["error"] != "smtp: connect" {
					t.Errorf("after a failed send: state %s, mail.failed %+v; want received and one failure", o.State, failed)
				}
				var links int
				e.st.DB().Writer.QueryRow("SELECT count(*) FROM links WHERE order_id = 'o3'").Scan(&links)
				if links != 0 || len(e.jobsOf("remind", "o3")) != 0 {
					t.Errorf("links = %d, reminders = %d after a failed send; want none", links, len(e.jobsOf("remind", "o3")))
				}
				e.mailer.SendFunc = nil
				if err := work[jobs.InviteArgs](e, &jobs.InviteWorker{C: e.c}, jobs.InviteArgs{OrderID: "o3"}, 2); err != nil {
					t.Fatalf("retry = %v", err)
				}
				if o := e.find("o3"); o.State != orders.StateInvited || len(e.mailer.to("o3@example.com")) != 1 {
					t.Errorf("after the retry: state %s, %d e-mails; want invited, 1", o.State, len(e.mailer.to("o3@example.com")))
				}
			})

			t.Run("NoSMTP", func(t *testing.T) {
				c := *e.c
				c.Mailer = nil
				e.order("o4")
				if err := work[jobs.InviteArgs](e, &jobs.InviteWorker{C: &c}, jobs.InviteArgs{OrderID: "o4"}, 1); err != nil {
					t.Fatal(err)
				}
				o := e.find("o4")
				if ev := events(o, orders.EventMailSkipped); o.State != orders.StateReceived || len(ev) != 1 || ev[0].Detail()["reason"] != "SMTP is not configured" {
					t.Errorf("without SMTP: state %s, mail.skipped %+v; want received, skipped", o.State, ev)
				}
				// A batch: each order that exists is skipped, one gone is not.
				e.order("o5")
				batch := jobs.InviteManyArgs{OrderIDs: []string{"o5", "gone"}}
				if err := work[jobs.InviteManyArgs](e, &jobs.InviteManyWorker{C: &c}, batch, 1); err != nil {
					t.Fatal(err)
				}
				if ev := events(e.find("o5"), orders.EventMailSkipped); len(ev) != 1 || ev[0].Detail()["reason"] != "SMTP is not configured" {
					t.Errorf("without SMTP, batch: mail.skipped %+v; want one", ev)
				}
				var orphans int
				e.st.DB().Writer.QueryRow("SELECT count(*) FROM order_events WHERE order_id = 'gone'").Scan(&orphans)
				if orphans != 0 {
					t.Errorf("timeline events of an order that does not exist = %d; want 0", orphans)
				}
			})
		})
	}
}

func TestRemindWorker(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "https://vendor.example/hooks")
			for _, id := range []string{"unopened", "opened", "reinvited", "cancelled"} {
				e.order(id)
				if err := e.invite(id); err != nil {
					t.Fatal(err)
				}
			}
			remindArgs := func(id string) jobs.RemindArgs {
				t.Helper()
				r := e.jobsOf("remind", id)
				var a jobs.RemindArgs
				json.Unmarshal(r[0].EncodedArgs, &a)
				return a
			}
			remind := func(id string) {
				t.Helper()
				if err := work[jobs.RemindArgs](e, &jobs.RemindWorker{C: e.c}, remindArgs(id), 1); err != nil {
					t.Fatalf("RemindWorker.Work(%s) = %v", id, err)
				}
			}
			link := e.mailer.to("opened@example.com")[0].Data.Link
			if _, err := e.st.OpenLink(e.ctx, orders.HashToken(tokenOf(t, link)), true); err != nil {
				t.Fatal(err)
			}
			e.setState("cancelled", orders.StateCancelled)
			e.clk.Advance(remindAfter)
			e.st.RequestInvite(e.ctx, "reinvited")
			var again jobs.InviteArgs
			json.Unmarshal(e.jobsOf("invite", "reinvited")[1].EncodedArgs, &again)
			work[jobs.InviteArgs](e, &jobs.InviteWorker{C: e.c}, again, 1)

			for _, id := range []string{"unopened", "opened", "reinvited", "cancelled"} {
				remind(id)
			}
			sent := e.mailer.to("unopened@example.com")
			o := e.find("unopened")
			if len(sent) != 2 || sent[1].Kind != mail.Reminder || sent[1].Data.Link == sent[0].Data.Link || !sent[1].Data.ExpiresAt.Equal(*o.ExpiresAt) {
				t.Fatalf("unopened link: sent %+v; want an invitation, then a reminder with a new link and the same expiry", sent)
			}
			if got := e.vendorEvents("unopened"); got[len(got)-1] != "order.reminded" {
				t.Errorf("vendor events = %v; want order.reminded last", got)
			}
			for id, want := range map[string]string{"opened": "the link was opened", "reinvited": "invited again since", "cancelled": "the order is cancelled"} {
				if n := len(e.mailer.to(id + "@example.com")); n != map[string]int{"opened": 1, "reinvited": 2, "cancelled": 1}[id] {
					t.Errorf("%s: %d e-mails; want no reminder", id, n)
				}
				ev := events(e.find(id), orders.EventMailSkipped)
				if len(ev) != 1 || ev[0].Detail()["reason"] != want || ev[0].Detail()["mail"] != "reminder" {
					t.Errorf("%s: mail.skipped = %+v; want one reminder skipped because %q", id, ev, want)
				}
			}
			// Run twice, it reminds once.
			remind("unopened")
			if n := len(e.mailer.to("unopened@example.com")); n != 2 {
				t.Errorf("e-mails after the reminder job ran twice = %d; want 2", n)
			}
		})
	}
}

func TestExpireWorker(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "https://vendor.example/hooks")
			ids := []string{"unopened", "opened", "moved", "completed", "off"}
			for _, id := range ids {
				e.order(id)
				if err := e.invite(id); err != nil {
					t.Fatal(err)
				}
			}
			expireArgs := func(id string) jobs.ExpireArgs {
				x := e.jobsOf("expire", id)
				var a jobs.ExpireArgs
				json.Unmarshal(x[0].EncodedArgs, &a)
				return a
			}
			expire := func(c *jobs.Candidates, id string) error {
				return work[jobs.ExpireArgs](e, &jobs.ExpireWorker{C: c}, expireArgs(id), 1)
			}
			link := e.mailer.to("opened@example.com")[0].Data.Link
			e.st.OpenLink(e.ctx, orders.HashToken(tokenOf(t, link)), true)
			e.setState("completed", orders.StateCompleted)
			expiry := *e.find("unopened").ExpiresAt

			// Early: snoozed until the expiry.
			e.clk.Advance(ttl - time.Hour)
			var snooze *river.JobSnoozeError
			if err := expire(e.c, "unopened"); !errors.As(err, &snooze) || snooze.Duration != time.Hour {
				t.Errorf("expiry an hour early = %v; want snoozed for an hour", err)
			}
			// A re-invitation moves the expiry past the first job's.
			e.st.RequestInvite(e.ctx, "moved")
			var again jobs.InviteArgs
			json.Unmarshal(e.jobsOf("invite", "moved")[1].EncodedArgs, &again)
			work[jobs.InviteArgs](e, &jobs.InviteWorker{C: e.c}, again, 1)

			e.clk.Set(expiry)
			for _, id := range []string{"unopened", "opened", "moved", "completed"} {
				if err := expire(e.c, id); err != nil {
					t.Fatalf("ExpireWorker.Work(%s) = %v", id, err)
				}
			}
			off := *e.c
			off.ExpiryWriteback = false
			if err := expire(&off, "off"); err != nil {
				t.Fatal(err)
			}

			for id, want := range map[string]orders.State{"unopened": orders.StateExpired, "opened": orders.StateExpired,
				"moved": orders.StateInvited, "completed": orders.StateCompleted, "off": orders.StateExpired} {
				if o := e.find(id); o.State != want {
					t.Errorf("%s: state %s; want %s", id, o.State, want)
				}
			}
			o := e.find("unopened")
			if o.ClosedAt == nil || !o.ClosedAt.Equal(expiry) || len(events(o, orders.EventExpired)) != 1 {
				t.Errorf("expired order: closed_at %v, order.expired events %d; want %v, 1", o.ClosedAt, len(events(o, orders.EventExpired)), expiry)
			}
			if got := e.vendorEvents("unopened"); got[len(got)-1] != "order.expired" {
				t.Errorf("vendor events = %v; want order.expired last", got)
			}

			// Written back as CANCELLED with a TEXT attribute, except with the switch off.
			byOrder := map[string]*kombo.ResultRequest{}
			for _, r := range e.results {
				byOrder[r.OrderID] = r.Result
			}
			if len(e.results) != 2 || byOrder["unopened"] == nil || byOrder["opened"] == nil {
				t.Fatalf("results enqueued for %+v; want unopened and opened", e.results)
			}
			for id, want := range map[string]string{"unopened": "before the candidate started", "opened": "did not complete"} {
				r := byOrder[id]
				if err := r.Validate(); err != nil {
					t.Errorf("%s: result is not valid for Kombo: %v", id, err)
				}
				a := r.Attributes
				if r.Status != kombo.OrderStatusCancelled || *r.CompletedAt != kombo.FormatTime(expiry) || len(a) != 1 ||
					a[0].Type != kombo.AttributeText || !strings.Contains(a[0].Value, "expired") || !strings.Contains(a[0].Value, want) {
					t.Errorf("%s: result = %+v %+v; want CANCELLED with a TEXT attribute saying the invitation expired, %s", id, r, a, want)
				}
			}
			if ev := events(e.find("off"), orders.EventWritebackSkip); len(ev) != 1 || ev[0].Detail()["reason"] != "expiry write-back is off" {
				t.Errorf("with the write-back off: writeback.skipped = %+v", ev)
			}

		})
	}
}

// countLinks returns how many links an order has.
func countLinks(t *testing.T, e *env, orderID string) int {
	t.Helper()
	var n int
	if err := e.st.DB().Writer.QueryRow("SELECT count(*) FROM links WHERE order_id = $1", orderID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
