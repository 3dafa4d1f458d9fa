package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs/vendortest"
	"github.com/assessgate/assessgate/internal/mail/mailtest"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

const (
	testPublicURL     = "https://assess.vendor.example"
	testVendorSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testIntegrationID = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f" // Acme Corp, in webhook-integration-created.json
	day               = 24 * time.Hour
)

// candidatesApp is assessgate with everything around the candidate side: a
// real SMTP server, the vendor's assessment platform (where links redirect
// to), the vendor's webhook receiver, and a stub clock.
type candidatesApp struct {
	*app
	mp       *mailtest.Server
	clk      *clock.Stub
	platform *platform
	vendor   *vendortest.Receiver
	kombo    *kombotest.Server
}

// platform is the vendor's assessment platform: it records the requests
// that candidate links redirect to.
type platform struct {
	*httptest.Server
	mu   sync.Mutex
	hits []*url.URL
}

func (p *platform) visited() []*url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.hits)
}

// startCandidates starts assessgate on dbURL with SMTP, links, reminders,
// expiry and vendor webhooks configured, plus env. The vendor receiver fails
// its first vendorFails requests.
func startCandidates(t *testing.T, dbURL string, vendorFails int, env map[string]string) *candidatesApp {
	t.Helper()
	c := &candidatesApp{mp: mailtest.Start(t, nil), clk: clock.NewStub(time.Now().Truncate(time.Millisecond))}
	c.platform = &platform{}
	c.platform.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.platform.mu.Lock()
		c.platform.hits = append(c.platform.hits, r.URL)
		c.platform.mu.Unlock()
		fmt.Fprintln(w, "the assessment")
	}))
	t.Cleanup(c.platform.Close)
	c.vendor = vendortest.NewReceiver(t, testVendorSecret, vendorFails, c.clk.Now)
	c.kombo = kombotest.NewServer()
	t.Cleanup(c.kombo.Close)

	full := map[string]string{
		"KOMBO_API_KEY":                    kombotest.DefaultAPIKey,
		"KOMBO_API_URL":                    c.kombo.URL,
		"ASSESSGATE_RECONCILE_INTERVAL":    "0",
		"ASSESSGATE_SMTP_URL":              c.mp.SMTPURL(),
		"ASSESSGATE_MAIL_FROM":             "Acme Assessments <noreply@acme-assess.example>",
		"ASSESSGATE_PUBLIC_URL":            testPublicURL,
		"ASSESSGATE_ASSESSMENT_URL":        c.platform.URL + "/start/{package_id}/{order_id}?t={token}",
		"ASSESSGATE_VENDOR_WEBHOOK_URL":    c.vendor.URL + "/assessgate",
		"ASSESSGATE_VENDOR_WEBHOOK_SECRET": testVendorSecret,
		"ASSESSGATE_LOG_LEVEL":             "debug",
		// Personal data encrypted at rest, as in production.
		"ASSESSGATE_ENCRYPTION_KEY": testEncryptionKey,
	}
	for k, v := range env {
		full[k] = v
	}
	c.app = startAppClock(t, c.clk, dbURL, full)
	if status, resp := c.webhook(fixture(t, "webhook-integration-created.json")); status != http.StatusOK {
		t.Fatalf("POST integration-created = %d %s", status, resp)
	}
	return c
}

// order posts a new order for a candidate with address email.
func (c *candidatesApp) order(eventID, orderID, email string) {
	c.t.Helper()
	status, resp := c.webhook(orderBody(c.t, eventID, orderID, func(d map[string]any) {
		d["integration_id"] = testIntegrationID
		d["candidate"].(map[string]any)["email"] = email
	}))
	if status != http.StatusOK {
		c.t.Fatalf("POST order %s = %d %s", orderID, status, resp)
	}
}

// orderView is an order as the API shows it.
type orderView struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	InvitedAt *string `json:"invited_at"`
	StartedAt *string `json:"started_at"`
	ExpiresAt *string `json:"expires_at"`
	Timeline  []struct {
		Kind   string         `json:"kind"`
		Detail map[string]any `json:"detail"`
	} `json:"timeline"`
}

func (c *candidatesApp) get(id string) orderView {
	c.t.Helper()
	var o orderView
	if status := c.api("GET", "/api/v1/orders/"+id, nil, &o); status != http.StatusOK {
		c.t.Fatalf("GET order %s = %d", id, status)
	}
	return o
}

// has reports whether the order's timeline has an event of kind whose
// detail includes want.
func (o orderView) has(kind string, want map[string]any) bool {
	for _, e := range o.Timeline {
		if e.Kind != kind {
			continue
		}
		match := true
		for k, v := range want {
			if e.Detail[k] != v {
				match = false
			}
		}
		if match {
			return true
		}
	}
	return false
}

// waitOrder polls the order until ok says yes, and returns it.
func (c *candidatesApp) waitOrder(id, what string, ok func(o orderView) bool) orderView {
	c.t.Helper()
	return wait.Until(c.t, 30*time.Second, "order "+id+" "+what, func() orderView { return c.get(id) }, ok)
}

// waitIdle waits until no job is running or due, so that moving the clock
// does not make River rescue a running job as stuck. (River keeps a job
// retried soon "available" with a later scheduled_at.)
func (c *candidatesApp) waitIdle() {
	c.t.Helper()
	wait.Until(c.t, 30*time.Second, fmt.Sprintf("no job due or running (clock %v)", c.clk.Now()), c.busyJobs,
		func(busy []string) bool { return len(busy) == 0 })
}

// busyJobs describes the jobs running or due by the clock.
func (c *candidatesApp) busyJobs() []string {
	c.t.Helper()
	return dueJobs(c.t, c.db(), c.clk.Now())
}

// dueJobs describes the jobs running, or available and due at now.
func dueJobs(t testing.TB, db *sql.DB, now time.Time) []string {
	t.Helper()
	rows, err := db.Query("SELECT kind, state, attempt, scheduled_at FROM river_job WHERE state IN ('available', 'running')")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var busy []string
	for rows.Next() {
		var (
			kind, state string
			attempt     int
			raw         any
		)
		if err := rows.Scan(&kind, &state, &attempt, &raw); err != nil {
			t.Fatal(err)
		}
		at, ok := raw.(time.Time) // Postgres
		if s, isString := raw.(string); isString {
			at, err = time.Parse(time.RFC3339Nano, s) // SQLite
			ok = err == nil
		}
		if !ok {
			t.Fatalf("river_job.scheduled_at %T %v: unknown form", raw, raw)
		}
		if state == "running" || !at.After(now) {
			busy = append(busy, fmt.Sprintf("%s %s attempt %d at %v", kind, state, attempt, at))
		}
	}
	return busy
}

// advance waits for the jobs due now, then moves the clock.
func (c *candidatesApp) advance(d time.Duration) {
	c.t.Helper()
	c.waitIdle()
	c.clk.Advance(d)
}

var linkRE = regexp.MustCompile(regexp.QuoteMeta(testPublicURL) + `/a/([A-Za-z0-9_-]{43})`)

// token returns the token of the candidate link in a message, after
// checking that the text and the HTML carry the same link.
func token(t *testing.T, m mailtest.Message) string {
	t.Helper()
	text, html := linkRE.FindStringSubmatch(m.Text), linkRE.FindStringSubmatch(m.HTML)
	if text == nil || html == nil || text[1] != html[1] {
		t.Fatalf("message %q: no candidate link %s/a/<token> in both parts:\n%s", m.Subject, testPublicURL, m.Text)
	}
	return text[1]
}

// open requests a candidate link without following the redirect.
func (c *candidatesApp) open(method, token string) (int, http.Header, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.URL+"/a/"+token, nil)
	client := apitest.Client(c.t)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s /a/…: %v", method, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Header, b.String()
}

// TestCandidates_Lifecycle follows orders from intake to expiry through
// run(), with mail read back from a real SMTP server and time moved by a
// stub clock: one invitation per order, a working link, a reminder only for
// an unopened link, no mail for a cancelled order, a re-invitation that
// moves the expiry, expiry pages, and signed vendor webhooks that survive
// a receiver that fails at first.
func TestCandidates_Lifecycle(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 2, nil)
		t0 := c.clk.Now()
		const (
			opener    = "opener@cand.example"    // opens the link at once
			idle      = "idle@cand.example"      // never opens it
			withdrawn = "withdrawn@cand.example" // the order is cancelled
		)

		// The same order twice, and again in a new event; two more orders.
		start := time.Now()
		c.order("ev-a", "order-a", opener)
		c.order("ev-a", "order-a", opener)
		c.order("ev-a2", "order-a", opener)
		c.order("ev-b", "order-b", idle)
		c.order("ev-c", "order-c", withdrawn)
		invitation := c.mp.WaitFor(t, opener, 1, 30*time.Second)[0]
		t.Logf("first invitation in mailpit %v after its order", time.Since(start).Round(time.Millisecond))
		c.mp.WaitFor(t, idle, 1, 30*time.Second)
		c.mp.WaitFor(t, withdrawn, 1, 30*time.Second)
		// The job records the invitation once the SMTP server took it.
		for _, id := range []string{"order-a", "order-b", "order-c"} {
			c.waitOrder(id, "invited", func(o orderView) bool { return o.State == "invited" })
		}

		t.Run("Invitation", func(t *testing.T) {
			if !strings.Contains(invitation.Subject, "Acme Corp") || !strings.Contains(invitation.Subject, "Bottle Opener") {
				t.Errorf("subject = %q; want the organisation and the job", invitation.Subject)
			}
			expiry := t0.Add(14 * day).UTC().Format("2 January 2006")
			for _, want := range []string{"Hello John Doe,", "Acme Corp invites you", "Bottle Opener", expiry} {
				if !strings.Contains(invitation.Text, want) {
					t.Errorf("text does not contain %q:\n%s", want, invitation.Text)
				}
			}
			o := c.get("order-a")
			if o.State != "invited" || o.ExpiresAt == nil || *o.ExpiresAt != t0.Add(14*day).UTC().Format("2006-01-02T15:04:05.000Z") {
				t.Errorf("order = %s, expires %v; want invited, expiring in 14 days", o.State, o.ExpiresAt)
			}
		})

		t.Run("LinkWorks", func(t *testing.T) {
			tok := token(t, invitation)
			// A mail scanner's HEAD does not count as opening.
			if status, _, _ := c.open(http.MethodHead, tok); status != http.StatusFound {
				t.Errorf("HEAD link = %d; want 302", status)
			}
			if o := c.get("order-a"); o.State != "invited" {
				t.Errorf("after HEAD the order is %s; want invited", o.State)
			}
			status, h, _ := c.open(http.MethodGet, tok)
			want := c.platform.URL + "/start/typescript_test/order-a?t=" + tok
			if status != http.StatusFound || h.Get("Location") != want || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("GET link = %d to %q; want 302 to %q, not cached", status, h.Get("Location"), want)
			}
			// Followed, as a browser does, it lands on the vendor's assessment.
			resp, err := apitest.Client(t).Get(c.URL + "/a/" + tok)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			hits := c.platform.visited()
			if resp.StatusCode != http.StatusOK || len(hits) == 0 || hits[len(hits)-1].Query().Get("t") != tok {
				t.Errorf("followed link = %d, platform saw %v; want the platform with the token", resp.StatusCode, hits)
			}
			o := c.get("order-a")
			if o.State != "started" || o.StartedAt == nil || *o.StartedAt != t0.UTC().Format("2006-01-02T15:04:05.000Z") {
				t.Errorf("order = %s started %v; want started now", o.State, o.StartedAt)
			}
			n := 0
			for _, e := range o.Timeline {
				if e.Kind == "order.started" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("order.started on the timeline %d times after three opens; want 1", n)
			}
			if status, _, body := c.open(http.MethodGet, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); status != http.StatusNotFound ||
				!strings.Contains(body, "This link does not work") || strings.Contains(body, c.platform.URL) {
				t.Errorf("unknown token = %d %s; want the 404 page", status, body)
			}
		})

		// The vendor's platform cancels order C (the results write-back does
		// this; here the database stands in for it).
		c.db().Exec("UPDATE orders SET state = 'cancelled', closed_at = $1 WHERE id = 'order-c'", t0.UnixMilli())

		t.Run("Cancelled", func(t *testing.T) {
			var e struct {
				Error struct{ Code, Message string }
			}
			if status := c.api("POST", "/api/v1/orders/order-c/invite", nil, &e); status != http.StatusConflict {
				t.Errorf("POST invite for a cancelled order = %d %+v; want 409", status, e)
			}
			status, _, body := c.open(http.MethodGet, token(t, c.mp.MessagesTo(t, withdrawn)[0]))
			if status != http.StatusGone || !strings.Contains(body, "cancelled") || strings.Contains(body, c.platform.URL) {
				t.Errorf("link of a cancelled order = %d %s; want the 410 page", status, body)
			}
		})

		t.Run("ReminderOnlyWhenNotOpened", func(t *testing.T) {
			c.advance(48*time.Hour + time.Minute)
			reminder := c.mp.WaitFor(t, idle, 2, 30*time.Second)[1]
			if !strings.HasPrefix(reminder.Subject, "Reminder") || token(t, reminder) == token(t, c.mp.MessagesTo(t, idle)[0]) {
				t.Errorf("second message to the idle candidate = %q; want a reminder with its own link", reminder.Subject)
			}
			c.waitOrder("order-a", "reminder skipped", func(o orderView) bool {
				return o.has("mail.skipped", map[string]any{"mail": "reminder", "reason": "the link was opened"})
			})
			c.waitOrder("order-c", "reminder skipped", func(o orderView) bool {
				return o.has("mail.skipped", map[string]any{"mail": "reminder", "reason": "the order is cancelled"})
			})
			if n, m := len(c.mp.MessagesTo(t, opener)), len(c.mp.MessagesTo(t, withdrawn)); n != 1 || m != 1 {
				t.Errorf("messages to the opener %d, to the withdrawn candidate %d; want 1 each (no reminder)", n, m)
			}
		})

		var reinvited time.Time
		t.Run("ReinviteExtendsExpiry", func(t *testing.T) {
			before := c.get("order-b")
			var e struct{ Error struct{ Code string } }
			if status := c.api("POST", "/api/v1/orders/nope/invite", nil, &e); status != http.StatusNotFound {
				t.Errorf("POST invite for an unknown order = %d; want 404", status)
			}
			if status, _ := c.do("POST", "/api/v1/orders/order-b/invite", nil, nil); status != http.StatusUnauthorized {
				t.Errorf("POST invite without a token = %d; want 401", status)
			}
			reinvited = c.clk.Now()
			if status := c.api("POST", "/api/v1/orders/order-b/invite", nil, nil); status != http.StatusAccepted {
				t.Fatalf("POST invite = %d; want 202", status)
			}
			again := c.mp.WaitFor(t, idle, 3, 30*time.Second)[2]
			if strings.HasPrefix(again.Subject, "Reminder") {
				t.Errorf("third message = %q; want an invitation", again.Subject)
			}
			want := reinvited.Add(14 * day).UTC().Format("2006-01-02T15:04:05.000Z")
			o := c.waitOrder("order-b", "re-invited", func(o orderView) bool { return o.ExpiresAt != nil && *o.ExpiresAt == want })
			if *o.ExpiresAt <= *before.ExpiresAt || o.State != "invited" {
				t.Errorf("expires_at %s → %s, state %s; want later, invited", *before.ExpiresAt, *o.ExpiresAt, o.State)
			}
		})

		t.Run("Expiry", func(t *testing.T) {
			// Past order A's expiry, not yet order B's new one.
			// Kombo knows the orders, so that their write-backs land.
			for _, id := range []string{"order-a", "order-b"} {
				var ko kombo.Order
				var raw json.RawMessage
				c.api("GET", "/api/v1/orders/"+id, nil, &raw)
				json.Unmarshal(raw, &ko)
				c.kombo.AddOrder(ko.IntegrationID, ko)
			}

			c.advance(t0.Add(14*day + time.Minute).Sub(c.clk.Now()))
			o := c.waitOrder("order-a", "expired", func(o orderView) bool { return o.State == "expired" })
			if !o.has("result.accepted", map[string]any{"status": "CANCELLED"}) {
				t.Errorf("expired order A: timeline %+v; want a CANCELLED result for Kombo", o.Timeline)
			}
			wait.For(t, 20*time.Second, "the expiry written back to Kombo", func() bool { return len(c.kombo.Results("order-a")) == 1 })
			res := c.kombo.Results("order-a")[0]
			if res.Status != kombo.OrderStatusCancelled || len(res.Attributes) != 1 || res.Attributes[0].Type != "TEXT" ||
				!strings.Contains(res.Attributes[0].Value, "expired") {
				t.Errorf("result at Kombo = %+v; want CANCELLED with a TEXT attribute saying the invitation expired", res)
			}
			status, _, body := c.open(http.MethodGet, token(t, invitation))
			if status != http.StatusGone || !strings.Contains(body, "This invitation has expired") || strings.Contains(body, c.platform.URL) {
				t.Errorf("expired link = %d %s; want the 410 expiry page", status, body)
			}
			c.waitIdle()
			if o := c.get("order-b"); o.State != "invited" {
				t.Errorf("re-invited order B is %s at A's expiry; want invited", o.State)
			}
			newest := c.mp.MessagesTo(t, idle)[2]
			if status, _, _ := c.open(http.MethodHead, token(t, newest)); status != http.StatusFound {
				t.Errorf("re-invited link at the first expiry = %d; want 302", status)
			}

			// Past order B's new expiry: its old and new links show the expiry page.
			c.advance(reinvited.Add(14*day + time.Minute).Sub(c.clk.Now()))
			c.waitOrder("order-b", "expired", func(o orderView) bool { return o.State == "expired" })
			for _, m := range c.mp.MessagesTo(t, idle) {
				if status, _, _ := c.open(http.MethodGet, token(t, m)); status != http.StatusGone {
					t.Errorf("link of %q after expiry = %d; want 410", m.Subject, status)
				}
			}
		})

		t.Run("VendorWebhooks", func(t *testing.T) {
			want := []string{
				"order.created order-a", "order.invited order-a", "order.started order-a", "order.expired order-a",
				"order.created order-b", "order.invited order-b", "order.reminded order-b", "order.invited order-b", "order.expired order-b",
				"order.created order-c", "order.invited order-c",
			}
			// The receiver failed the first two requests: River retries them
			// (the clock moved on since).
			got := wait.Until(t, 30*time.Second, fmt.Sprintf("%d vendor webhooks delivered", len(want)), c.vendor.Delivered,
				func(got []string) bool { return len(got) >= len(want) })
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("delivered vendor webhooks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			reqs := c.vendor.Requests()
			ids := map[string]int{}
			for _, r := range reqs {
				if r.VerifyErr != nil {
					t.Errorf("webhook %s %s: %v", r.Event.Type, r.ID(), r.VerifyErr)
				}
				ids[r.ID()]++
			}
			if reqs[0].Status < 500 || reqs[1].Status < 500 || ids[reqs[0].ID()] < 2 {
				t.Errorf("first requests answered %d, %d, first id tried %d times; want it failed, then retried", reqs[0].Status, reqs[1].Status, ids[reqs[0].ID()])
			}
			var started vendortest.Event
			for _, r := range reqs {
				if r.Event.Type == "order.started" {
					started = r.Event
				}
			}
			if started.Data["state"] != "started" || started.Data["started_at"] == nil || started.Data["candidate"].(map[string]any)["email"] != opener {
				t.Errorf("order.started data = %v; want the order as the API shows it, started", started.Data)
			}
			first := reqs[0]
			o := c.get(first.OrderID())
			if !o.has("vendor_webhook.failed", map[string]any{"webhook_id": first.ID(), "attempt": float64(1), "status": float64(first.Status)}) ||
				!o.has("vendor_webhook.sent", map[string]any{"webhook_id": first.ID(), "attempt": float64(2), "status": float64(204)}) {
				t.Errorf("the timeline of %s does not show webhook %s failed, then retried: %+v", o.ID, first.ID(), o.Timeline)
			}
		})

		t.Run("LogsCarryIDsOnly", func(t *testing.T) {
			logs := c.logs.String()
			for _, secret := range []string{opener, idle, withdrawn, "John", "Doe", token(t, invitation), testVendorSecret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
				if strings.Contains(logs, secret) {
					t.Errorf("logs contain %q", secret)
				}
			}
			if !strings.Contains(logs, "order_id=order-a") {
				t.Errorf("logs do not name the orders:\n%s", logs)
			}
		})
	})
}

// TestCandidates_SMTPDown takes the SMTP server away while orders arrive:
// the invitations fail, are retried by River once the server is back, and
// arrive once each; an order cancelled meanwhile gets none.
func TestCandidates_SMTPDown(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 0, nil)
		c.mp.Stop()
		c.order("ev-d", "order-d", "patient@cand.example")
		c.order("ev-e", "order-e", "withdrawn@cand.example")
		for _, id := range []string{"order-d", "order-e"} {
			c.waitOrder(id, "failed to mail", func(o orderView) bool {
				return o.has("mail.failed", map[string]any{"mail": "invitation", "attempt": float64(1), "error": "smtp: connect"})
			})
		}
		c.db().Exec("UPDATE orders SET state = 'cancelled' WHERE id = 'order-e'")

		c.mp.Start()
		// River retries with backoff; the clock moves past the first one.
		c.advance(time.Minute)
		got := c.mp.WaitFor(t, "patient@cand.example", 1, 30*time.Second)
		o := c.waitOrder("order-d", "invited", func(o orderView) bool { return o.State == "invited" })
		if !o.has("mail.sent", map[string]any{"mail": "invitation", "attempt": float64(2)}) {
			t.Errorf("order D's timeline does not show the invitation sent on the second attempt: %+v", o.Timeline)
		}
		if status, _, _ := c.open(http.MethodGet, token(t, got[0])); status != http.StatusFound {
			t.Errorf("link of the late invitation = %d; want 302", status)
		}
		c.waitOrder("order-e", "skipped", func(o orderView) bool {
			return o.has("mail.skipped", map[string]any{"mail": "invitation", "reason": "the order is cancelled"})
		})
		c.waitIdle()
		if n, m := len(c.mp.MessagesTo(t, "patient@cand.example")), len(c.mp.MessagesTo(t, "withdrawn@cand.example")); n != 1 || m != 0 {
			t.Errorf("messages: %d to the open order, %d to the cancelled one; want 1 and 0", n, m)
		}
	})
}

// TestCandidates_NoSMTP runs without ASSESSGATE_SMTP_URL: serve says so,
// orders stay received, and the vendor learns of them by webhook.
func TestCandidates_NoSMTP(t *testing.T) {
	clk := clock.NewStub(time.Now())
	vendor := vendortest.NewReceiver(t, "raw vendor secret", 0, clk.Now)
	a := startAppClock(t, clk, storetest.SQLite(t).URL, map[string]string{
		"ASSESSGATE_VENDOR_WEBHOOK_URL": vendor.URL, "ASSESSGATE_VENDOR_WEBHOOK_SECRET": "raw vendor secret",
	})
	if !strings.Contains(a.logs.String(), "invitations are not e-mailed") {
		t.Errorf("start-up log does not say invitations are not e-mailed:\n%s", a.logs)
	}
	if status, resp := a.webhook(orderBody(t, "ev", "order-x", nil)); status != http.StatusOK {
		t.Fatalf("POST order = %d %s", status, resp)
	}
	wait.For(t, 30*time.Second, "a vendor webhook", func() bool { return len(vendor.Delivered()) > 0 })
	if got := vendor.Delivered(); len(got) != 1 || got[0] != "order.created order-x" || vendor.Requests()[0].VerifyErr != nil {
		t.Errorf("vendor webhooks = %v; want order.created, signed with the raw secret", got)
	}
	o := (&candidatesApp{app: a}).waitOrder("order-x", "skipped", func(o orderView) bool {
		return o.has("mail.skipped", map[string]any{"reason": "SMTP is not configured"})
	})
	if o.State != "received" || !o.has("mail.skipped", nil) {
		t.Errorf("order without SMTP = %s, timeline %+v; want received with mail.skipped", o.State, o.Timeline)
	}
	var e struct{ Error struct{ Message string } }
	if status := a.api("POST", "/api/v1/orders/order-x/invite", nil, &e); status != http.StatusConflict || !strings.Contains(e.Error.Message, "ASSESSGATE_SMTP_URL") {
		t.Errorf("POST invite without SMTP = %d %q; want 409 naming ASSESSGATE_SMTP_URL", status, e.Error.Message)
	}
	// The refusal leaves nothing behind: the request is not on the timeline.
	var after orderView
	if a.api("GET", "/api/v1/orders/order-x", nil, &after); after.has("invite.requested", nil) {
		t.Errorf("timeline after a refused invitation = %+v; want no invite.requested", after.Timeline)
	}
}

func TestServe_CandidateSettings(t *testing.T) {
	base := map[string]string{"KOMBO_WEBHOOK_SECRET": "s"}
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"NoFrom", map[string]string{"ASSESSGATE_SMTP_URL": "smtp://127.0.0.1:2525", "ASSESSGATE_PUBLIC_URL": testPublicURL}, nil, "ASSESSGATE_MAIL_FROM"},
		{"NoPublicURL", map[string]string{"ASSESSGATE_SMTP_URL": "smtp://127.0.0.1:2525", "ASSESSGATE_MAIL_FROM": "a@b.example"}, nil, "ASSESSGATE_PUBLIC_URL"},
		{"BadPublicURL", map[string]string{"ASSESSGATE_PUBLIC_URL": "assess.vendor.example"}, nil, "ASSESSGATE_PUBLIC_URL"},
		{"BadWriteback", map[string]string{"ASSESSGATE_EXPIRY_WRITEBACK": "maybe"}, nil, "ASSESSGATE_EXPIRY_WRITEBACK"},
		{"BadTTL", map[string]string{"ASSESSGATE_INVITE_TTL": "two weeks"}, nil, "ASSESSGATE_INVITE_TTL"},
		{"VendorWithoutSecret", map[string]string{"ASSESSGATE_VENDOR_WEBHOOK_URL": "https://vendor.example/hooks"}, nil, "ASSESSGATE_VENDOR_WEBHOOK_SECRET"},
		{"BadSMTPScheme", map[string]string{"ASSESSGATE_SMTP_URL": "http://mail.example", "ASSESSGATE_MAIL_FROM": "a@b.example", "ASSESSGATE_PUBLIC_URL": testPublicURL}, nil, "smtp or smtps"},
		{"NoticeWithoutPrivacyURL", map[string]string{"ASSESSGATE_CANDIDATE_NOTICE": "true", "ASSESSGATE_VENDOR_NAME": "V"}, nil, "ASSESSGATE_PRIVACY_URL"},
		{"NoticeHTTPPrivacyURL", map[string]string{"ASSESSGATE_CANDIDATE_NOTICE": "true", "ASSESSGATE_VENDOR_NAME": "V", "ASSESSGATE_PRIVACY_URL": "http://v.example/privacy"}, nil, "ASSESSGATE_PRIVACY_URL"},
		{"NoticeWithoutVendorName", map[string]string{"ASSESSGATE_CANDIDATE_NOTICE": "true", "ASSESSGATE_PRIVACY_URL": "https://v.example/privacy", "ASSESSGATE_MAIL_FROM": "a@b.example"}, nil, "ASSESSGATE_VENDOR_NAME"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ASSESSGATE_DATABASE_URL": storetest.SQLite(t).URL}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(t.Context(), append([]string{"serve"}, tt.args...), func(k string) string { return env[k] }, &strings.Builder{}, &strings.Builder{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(serve) = %v; want an error naming %s", err, tt.want)
			}
		})
	}

	t.Run("Flags", func(t *testing.T) {
		cfg, err := parseServeConfig([]string{"--reminder-after", "7d", "--invite-ttl", "0", "--expiry-writeback=false"},
			func(k string) string {
				return map[string]string{"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_REMINDER_AFTER": "1h", "ASSESSGATE_EXPIRY_WRITEBACK": "true"}[k]
			}, &strings.Builder{})
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.Candidates
		if c.ReminderAfter != 7*day || c.InviteTTL != 0 || c.ExpiryWriteback {
			t.Errorf("config = %+v; want the flags to win over the environment", c)
		}
		cfg, _ = parseServeConfig(nil, func(k string) string { return map[string]string{"KOMBO_WEBHOOK_SECRET": "s"}[k] }, &strings.Builder{})
		if c := cfg.Candidates; c.ReminderAfter != 48*time.Hour || c.InviteTTL != 14*day || !c.ExpiryWriteback {
			t.Errorf("defaults = %+v; want 48h, 14d, write-back on", c)
		}
	})
}
