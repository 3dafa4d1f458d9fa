package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// Encryption keys of the tests, as ASSESSGATE_ENCRYPTION_KEY takes them.
var (
	testEncryptionKey  = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5A}, 32))
	testEncryptionKey2 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x7C}, 32))
)

// candidate is the person of the privacy tests' orders.
type candidate struct{ email, first, last, phone string }

var erika = candidate{"Erika.Mustermann@Cand.example", "Erika", "Mustermann", "+49 170 5550123"}

// values are the candidate's personal values, as sent and as stored.
func (p candidate) values() []string {
	return []string{p.email, strings.ToLower(p.email), p.first, p.last, p.phone}
}

// seedJobValues are the seed order's job and hiring team: personal data of
// the recruiter, and what the candidate applied for.
var seedJobValues = []string{"Bottle Opener", "BO-2024-01", "chief bottle open officer", "Lohmühlenstraße", "jane.doe@gmail.com", "Jane"}

// personOrderBody is the seed order for p, of the integration the
// candidate tests create.
func personOrderBody(t testing.TB, eventID, orderID string, p candidate) []byte {
	return orderBody(t, eventID, orderID, func(d map[string]any) {
		d["integration_id"] = testIntegrationID
		d["candidate"] = map[string]any{"remote_id": "cand-" + orderID, "email": p.email, "first_name": p.first, "last_name": p.last, "phone": p.phone}
	})
}

// rawStored returns, by place, every stored value that could hold personal
// data: Kombo's orders and their e-mail column, raw webhooks, results,
// timelines, the audit log, and River's job rows (args, errors, metadata).
func (a *app) rawStored() map[string][]string {
	a.t.Helper()
	river := "SELECT args::text || ' ' || COALESCE(errors::text, '') || ' ' || metadata::text FROM river_job"
	if !strings.HasPrefix(a.DBURL, "postgres") {
		river = "SELECT json(args) || ' ' || COALESCE(json(errors), '') || ' ' || json(metadata) FROM river_job"
	}
	out := map[string][]string{}
	for place, q := range map[string]string{
		"orders":         "SELECT data || ' ' || email FROM orders",
		"webhook_events": "SELECT body FROM webhook_events",
		"results":        "SELECT body FROM results",
		"order_events":   "SELECT kind || ' ' || detail FROM order_events",
		"links":          "SELECT token_hash || ' ' || order_id FROM links",
		"erasures":       "SELECT reason || ' ' || actor || ' ' || subject || ' ' || order_ids FROM erasures",
		"river_job":      river,
	} {
		rows, err := a.db().Query(q)
		if err != nil {
			a.t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				a.t.Fatal(err)
			}
			out[place] = append(out[place], string(b))
		}
		rows.Close()
	}
	return out
}

// assertNotStored checks that no stored value holds any of values.
func (a *app) assertNotStored(what string, values ...string) {
	a.t.Helper()
	for place, list := range a.rawStored() {
		for _, raw := range list {
			for _, v := range values {
				if strings.Contains(raw, v) {
					a.t.Errorf("%s: %s holds %q: %.300s", what, place, v, raw)
				}
			}
		}
	}
}

// assertLogsClean checks that every line the app logged is JSON and that
// none holds any of values.
func assertLogsClean(t *testing.T, logs string, values ...string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if !json.Valid(sc.Bytes()) {
			t.Errorf("log line is not JSON: %s", sc.Text())
		}
	}
	if lines < 10 {
		t.Errorf("only %d log lines; want the whole flow logged", lines)
	}
	for _, v := range values {
		if v != "" && strings.Contains(logs, v) {
			i := strings.Index(logs, v)
			t.Errorf("logs hold %q: …%s…", v, logs[max(0, i-200):min(len(logs), i+100)])
		}
	}
}

// TestPrivacy_OrderFlow follows an order through everything assessgate does
// with personal data, with debug logs as JSON and the data encrypted: the
// webhook, the invitation e-mail, the link, a result written back to Kombo,
// vendor webhooks, the export and the erasure on request. Then it checks
// that the erased data is gone from every table, River's included, that the
// erased order still answers the API, and that nothing personal and no
// secret was ever logged or shown in the metrics.
func TestPrivacy_OrderFlow(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 0, map[string]string{"ASSESSGATE_LOG_FORMAT": "json"})
		const id = "ord-p1"
		if status, resp := c.webhook(personOrderBody(t, "ev-p1", id, erika)); status != http.StatusOK {
			t.Fatalf("POST order = %d %s", status, resp)
		}
		invitation := c.mp.WaitFor(t, strings.ToLower(erika.email), 1, 30*time.Second)[0]
		link := token(t, invitation)
		c.waitOrder(id, "invited", func(o orderView) bool { return o.State == "invited" })
		if status, _, _ := c.open(http.MethodGet, link); status != http.StatusFound {
			t.Fatalf("GET link = %d; want 302", status)
		}

		// At rest, nothing personal is in clear, also while it is needed.
		c.assertNotStored("encrypted", append(erika.values(), seedJobValues...)...)

		// A result naming her goes back to Kombo.
		var o map[string]any
		c.api("GET", "/api/v1/orders/"+id, nil, &o)
		var ko kombo.Order
		b, _ := json.Marshal(o)
		json.Unmarshal(b, &ko)
		c.kombo.AddOrder(testIntegrationID, ko)
		result := `{"status": "COMPLETED", "result_url": "https://vendor.example/r/erika-mustermann", "score": 91, "max_score": 100,
			"attributes": [{"type": "TEXT", "label": "Note", "value": "Erika Mustermann was quick"},
			               {"type": "SUB_RESULT", "id": "algo", "label": "Algorithms", "score": {"value": 45, "max": 50}, "status": "COMPLETED"}]}`
		if status, got := putResult(t, c.app, id, []byte(result)); status != http.StatusAccepted {
			t.Fatalf("PUT result = %d %v", status, got)
		}
		wait.For(t, 30*time.Second, "the result written back to Kombo", func() bool { return len(c.kombo.Results(id)) == 1 })
		c.waitOrder(id, "delivered", func(o orderView) bool { return o.has("result.delivered", nil) })
		wait.For(t, 30*time.Second, "order.completed at the vendor", func() bool {
			return slices.Contains(c.vendor.Delivered(), "order.completed "+id)
		})

		t.Run("Export", func(t *testing.T) {
			var got struct {
				Orders []struct {
					ID        string `json:"id"`
					Candidate struct {
						Email string `json:"email"`
						Phone string `json:"phone"`
					} `json:"candidate"`
					Timeline []any `json:"timeline"`
					Results  []struct {
						Result struct {
							ResultURL string `json:"result_url"`
						} `json:"result"`
					} `json:"results"`
					WebhookEvents []struct {
						ID   string          `json:"id"`
						Body json.RawMessage `json:"body"`
					} `json:"webhook_events"`
				} `json:"orders"`
			}
			q := "/api/v1/candidates?email=" + url.QueryEscape(" erika.MUSTERMANN@cand.example")
			if status := c.api("GET", q, nil, &got); status != http.StatusOK || len(got.Orders) != 1 {
				t.Fatalf("GET candidate = %d %+v; want her order", status, got)
			}
			e := got.Orders[0]
			if e.ID != id || e.Candidate.Email != erika.email || e.Candidate.Phone != erika.phone || len(e.Timeline) == 0 ||
				len(e.Results) != 1 || !strings.Contains(e.Results[0].Result.ResultURL, "erika-mustermann") ||
				len(e.WebhookEvents) != 1 || e.WebhookEvents[0].ID != "ev-p1" || !bytes.Contains(e.WebhookEvents[0].Body, []byte(erika.phone)) {
				t.Errorf("export = %+v; want Kombo's data, timeline, result and raw webhook", e)
			}
			if status, _ := c.do("GET", q, nil, nil); status != http.StatusUnauthorized {
				t.Errorf("GET candidate without a token = %d; want 401", status)
			}
			var none struct{ Orders []any }
			if status := c.api("GET", "/api/v1/candidates?email=nobody%40cand.example", nil, &none); status != http.StatusOK || none.Orders == nil || len(none.Orders) != 0 {
				t.Errorf("GET unknown candidate = %d %+v; want 200 with no orders", status, none)
			}
			for _, method := range []string{"GET", "DELETE"} {
				var e struct{ Error struct{ Code string } }
				if status := c.api(method, "/api/v1/candidates", nil, &e); status != http.StatusBadRequest || e.Error.Code != "invalid" {
					t.Errorf("%s /api/v1/candidates without email = %d %+v; want 400", method, status, e)
				}
			}

			// The POST form, with the address in the body: the same answer.
			_, byGet := c.do("GET", q, nil, map[string]string{"Authorization": "Bearer " + testToken})
			body, _ := json.Marshal(map[string]string{"email": " erika.MUSTERMANN@cand.example"})
			status, byPost := c.do("POST", "/api/v1/candidates/export", body, map[string]string{"Authorization": "Bearer " + testToken})
			if status != http.StatusOK || !bytes.Equal(byPost, byGet) {
				t.Errorf("POST /api/v1/candidates/export = %d %s; want 200 and GET's answer %s", status, byPost, byGet)
			}
			if status, _ := c.do("POST", "/api/v1/candidates/export", body, nil); status != http.StatusUnauthorized {
				t.Errorf("POST export without a token = %d; want 401", status)
			}
			for _, path := range []string{"/api/v1/candidates/export", "/api/v1/candidates/erase"} {
				for _, bad := range []string{`{}`, `{"email": ""}`, `{"mail": "erika@cand.example"}`, `not json`} {
					var e struct {
						Error struct{ Code, Message string }
					}
					if status := c.api("POST", path, []byte(bad), &e); status != http.StatusBadRequest || e.Error.Code != "invalid" || e.Error.Message == "" {
						t.Errorf("POST %s %s = %d %+v; want 400 naming the problem", path, bad, status, e)
					}
				}
			}
			if n := c.count("erasures", ""); n != 0 {
				t.Errorf("erasures after refused requests = %d; want none", n)
			}
		})

		c.waitIdle()
		var erasure struct {
			ID            int64    `json:"id"`
			Reason        string   `json:"reason"`
			Actor         string   `json:"actor"`
			Subject       string   `json:"subject"`
			OrderIDs      []string `json:"order_ids"`
			WebhookEvents int      `json:"webhook_events"`
		}
		eraseBody, _ := json.Marshal(map[string]string{"email": erika.email})
		if status := c.api("POST", "/api/v1/candidates/erase", eraseBody, &erasure); status != http.StatusOK {
			t.Fatalf("POST /api/v1/candidates/erase = %d", status)
		}
		if !slices.Equal(erasure.OrderIDs, []string{id}) || erasure.Reason != "request" || erasure.Actor != "api" ||
			!strings.HasPrefix(erasure.Subject, "h1:") || erasure.WebhookEvents != 1 {
			t.Errorf("erasure = %+v; want her order and webhook, by request through the API, with the address hashed", erasure)
		}

		t.Run("ErasedOrderAnswers", func(t *testing.T) {
			o := c.app.order(id)
			cand := o["candidate"].(map[string]any)
			job := o["job"].(map[string]any)
			if o["erased"] != true || o["erased_at"] == nil || cand["email"] != "" || cand["first_name"] != nil || cand["phone"] != nil ||
				cand["remote_id"] != "cand-"+id || job["name"] != nil || job["description"] != nil || len(job["hiring_team"].([]any)) != 0 ||
				o["state"] != "completed" || o["package_id"] != "typescript_test" {
				t.Errorf("erased order = %v; want ids, state and package, marked erased, no personal data", o)
			}
			if kinds, _ := c.app.timeline(id); !slices.Contains(kinds, "order.erased") || !slices.Contains(kinds, "result.delivered") {
				t.Errorf("erased order's timeline = %v; want it kept, with order.erased", kinds)
			}
			var list struct{ Data []any }
			c.api("GET", "/api/v1/orders?email="+url.QueryEscape(erika.email), nil, &list)
			if len(list.Data) != 0 {
				t.Errorf("orders by her address after erasure = %d; want none", len(list.Data))
			}
			var none struct{ Orders []any }
			c.api("GET", "/api/v1/candidates?email="+url.QueryEscape(erika.email), nil, &none)
			if len(none.Orders) != 0 {
				t.Errorf("export after erasure = %v; want nothing held", none.Orders)
			}
			if status, _, _ := c.open(http.MethodGet, link); status != http.StatusNotFound {
				t.Errorf("her link after erasure = %d; want 404", status)
			}
			var log struct {
				Data []struct {
					ID       int64    `json:"id"`
					OrderIDs []string `json:"order_ids"`
				} `json:"data"`
			}
			if status := c.api("GET", "/api/v1/erasures", nil, &log); status != http.StatusOK || len(log.Data) != 1 || log.Data[0].ID != erasure.ID {
				t.Errorf("GET erasures = %d %+v; want the one erasure", status, log)
			}
			// The DELETE form stays, with the same answer: nothing is left
			// to erase.
			var again struct {
				Reason   string   `json:"reason"`
				OrderIDs []string `json:"order_ids"`
			}
			if status := c.api("DELETE", "/api/v1/candidates?email="+url.QueryEscape(erika.email), nil, &again); status != http.StatusOK ||
				again.Reason != "request" || len(again.OrderIDs) != 0 {
				t.Errorf("DELETE candidate again = %d %+v; want 200, an erasure of no orders", status, again)
			}
		})

		t.Run("VendorTold", func(t *testing.T) {
			wait.For(t, 30*time.Second, "order.erased at the vendor", func() bool {
				return slices.Contains(c.vendor.Delivered(), "order.erased "+id)
			})
			for _, r := range c.vendor.Requests() {
				if r.Event.Type == "order.erased" {
					cand := r.Event.Data["candidate"].(map[string]any)
					if r.Event.Data["erased"] != true || cand["email"] != "" || r.VerifyErr != nil {
						t.Errorf("order.erased data = %v, %v; want the erased order, signed", r.Event.Data, r.VerifyErr)
					}
				}
			}
		})

		c.waitIdle()
		t.Run("GoneFromTables", func(t *testing.T) {
			c.assertNotStored("after erasure", append(append(erika.values(), seedJobValues...), "erika-mustermann", link)...)
			if n := c.count("links", "order_id = $1", id); n != 0 {
				t.Errorf("links of the erased order = %d; want 0", n)
			}
			if n := c.count("webhook_events", "order_id = $1 AND length(body) > 0", id); n != 0 {
				t.Errorf("webhook bodies of the erased order = %d; want 0", n)
			}
		})

		t.Run("LogsAndMetricsClean", func(t *testing.T) {
			status, metrics := c.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
			if status != http.StatusOK {
				t.Fatalf("GET /metrics = %d", status)
			}
			secrets := append(append(erika.values(), seedJobValues...),
				"erika-mustermann", link, testToken, testSecret, testVendorSecret, strings.TrimPrefix(testVendorSecret, "whsec_"),
				kombotest.DefaultAPIKey, testEncryptionKey, erasure.Subject)
			for _, v := range secrets {
				if strings.Contains(string(metrics), v) {
					t.Errorf("metrics hold %q", v)
				}
			}
			logs := c.logs.String()
			assertLogsClean(t, logs, secrets...)
			for _, want := range []string{`"order_id":"ord-p1"`, `"msg":"candidate erased on request"`, `"msg":"mail sent"`} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %s", want)
				}
			}
		})
	})
}

// TestPrivacy_Retention: once an order has been closed for the retention
// period its personal data is erased by the retention pass, on the stub
// clock; open orders and recent ones are kept.
func TestPrivacy_Retention(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 0, map[string]string{"ASSESSGATE_RETENTION": "180d"})
		c.webhook(personOrderBody(t, "ev-r1", "ord-r1", erika))
		c.webhook(personOrderBody(t, "ev-r2", "ord-r2", candidate{"still.open@cand.example", "Otto", "Offen", "+49 30 999"}))
		c.mp.WaitFor(t, "still.open@cand.example", 1, 30*time.Second)
		c.mp.WaitFor(t, strings.ToLower(erika.email), 1, 30*time.Second)
		c.waitOrder("ord-r1", "invited", func(o orderView) bool { return o.State == "invited" })
		if status, got := putResult(t, c.app, "ord-r1", []byte(`{"status": "CANCELLED", "result_url": "https://vendor.example/r/1"}`)); status != http.StatusAccepted {
			t.Fatalf("PUT result = %d %v", status, got)
		}
		c.waitOrder("ord-r1", "cancelled", func(o orderView) bool { return o.State == "cancelled" })

		var sum struct {
			Erasures int      `json:"erasures"`
			Orders   []string `json:"orders"`
		}
		c.advance(179 * day)
		// The open order expires now (its expiry, 14 days on, was passed).
		c.waitOrder("ord-r2", "expired", func(o orderView) bool { return o.State == "expired" })
		if status := c.api("POST", "/api/v1/retention", nil, &sum); status != http.StatusOK || len(sum.Orders) != 0 {
			t.Fatalf("retention at 179 days = %d %+v; want nothing erased", status, sum)
		}
		c.advance(2 * day)
		if status := c.api("POST", "/api/v1/retention", nil, &sum); status != http.StatusOK || !slices.Equal(sum.Orders, []string{"ord-r1"}) {
			t.Fatalf("retention at 181 days = %d %+v; want the cancelled order erased", status, sum)
		}
		if o := c.app.order("ord-r1"); o["erased"] != true || o["state"] != "cancelled" {
			t.Errorf("closed order after retention = %v; want it erased, still cancelled", o)
		}
		// The other closed two days ago: it is kept.
		if o := c.app.order("ord-r2"); o["erased"] != false || o["state"] != "expired" {
			t.Errorf("order expired two days ago = %v; want it kept", o)
		}
		c.waitIdle()
		c.assertNotStored("after retention", erika.values()...)
		var log struct {
			Data []struct {
				Reason, Actor string
				OrderIDs      []string `json:"order_ids"`
			} `json:"data"`
		}
		c.api("GET", "/api/v1/erasures", nil, &log)
		if len(log.Data) != 1 || log.Data[0].Reason != "retention" || log.Data[0].Actor != "assessgate" || !slices.Equal(log.Data[0].OrderIDs, []string{"ord-r1"}) {
			t.Errorf("audit log = %+v; want one erasure by retention", log.Data)
		}
	})
}

// TestPrivacy_RetentionPeriodic: the retention job runs by itself as a
// periodic River job (on the wall clock, with a retention of a second).
func TestPrivacy_RetentionPeriodic(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a, fake := startWithKombo(t, dbURL, map[string]string{
			"ASSESSGATE_RETENTION": "1s", "ASSESSGATE_RETENTION_INTERVAL": "1s", "ASSESSGATE_ENCRYPTION_KEY": testEncryptionKey,
		})
		placeOrder(t, a, fake, "ord-periodic")
		if status, got := putResult(t, a, "ord-periodic", []byte(`{"status": "CANCELLED", "result_url": "https://vendor.example/r/1"}`)); status != http.StatusAccepted {
			t.Fatalf("PUT result = %d %v", status, got)
		}
		wait.For(t, 30*time.Second, "the order erased by the periodic job", func() bool { return a.order("ord-periodic")["erased"] == true })
		wait.For(t, 30*time.Second, "a completed retention job", func() bool {
			return a.count("river_job", "kind = 'retention' AND state = 'completed'") > 0
		})
	})
}

// TestPrivacy_IntegrationDeleted: after Kombo deletes an integration its
// candidates get no more mail and Kombo no more calls; the personal data
// goes once the grace period has passed.
func TestPrivacy_IntegrationDeleted(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 0, map[string]string{"ASSESSGATE_DELETED_INTEGRATION_GRACE": "30d"})
		c.webhook(personOrderBody(t, "ev-d1", "ord-d1", erika))
		c.mp.WaitFor(t, strings.ToLower(erika.email), 1, 30*time.Second)
		c.waitOrder("ord-d1", "invited", func(o orderView) bool { return o.State == "invited" })

		var deleted map[string]any
		json.Unmarshal(fixture(t, "webhook-integration-deleted.json"), &deleted)
		deleted["data"].(map[string]any)["deleted_at"] = kombo.FormatTime(c.clk.Now())
		body, _ := json.Marshal(deleted)
		if status, resp := c.webhook(body); status != http.StatusOK {
			t.Fatalf("POST integration-deleted = %d %s", status, resp)
		}

		// No reminder, and a result is not written back.
		c.advance(48*time.Hour + time.Minute)
		c.waitOrder("ord-d1", "reminder skipped", func(o orderView) bool {
			return o.has("mail.skipped", map[string]any{"mail": "reminder", "reason": "the integration was deleted"})
		})
		if status, got := putResult(t, c.app, "ord-d1", []byte(`{"status": "CANCELLED", "result_url": "https://vendor.example/r/1"}`)); status != http.StatusAccepted {
			t.Fatalf("PUT result = %d %v", status, got)
		}
		c.waitOrder("ord-d1", "write-back skipped", func(o orderView) bool {
			return o.has("writeback.skipped", map[string]any{"reason": "the integration was deleted"})
		})
		if n := len(c.mp.MessagesTo(t, strings.ToLower(erika.email))); n != 1 {
			t.Errorf("messages after the deletion = %d; want only the invitation before it", n)
		}
		for _, r := range c.kombo.Requests() {
			if strings.HasPrefix(r.Path, "/assessment/orders/") {
				t.Errorf("Kombo called after the deletion: %s %s", r.Method, r.Path)
			}
		}

		c.advance(27 * day) // 29 days after the deletion
		var sum struct{ Orders []string }
		c.api("POST", "/api/v1/retention", nil, &sum)
		if len(sum.Orders) != 0 {
			t.Errorf("erased within the grace: %v", sum.Orders)
		}
		c.advance(2 * day)
		c.api("POST", "/api/v1/retention", nil, &sum)
		if !slices.Equal(sum.Orders, []string{"ord-d1"}) {
			t.Fatalf("erased after the grace: %v; want ord-d1", sum.Orders)
		}
		c.waitIdle()
		c.assertNotStored("after the grace", append(erika.values(), "it-admin@acme-corp.example")...)
		var log struct {
			Data []struct{ Reason, Subject string } `json:"data"`
		}
		c.api("GET", "/api/v1/erasures", nil, &log)
		if len(log.Data) != 1 || log.Data[0].Reason != "integration_deleted" || log.Data[0].Subject != testIntegrationID {
			t.Errorf("audit log = %+v; want one erasure for the deleted integration", log.Data)
		}
	})
}

// TestErase_Command erases a candidate with "assessgate erase" while serve
// runs on the same database.
func TestErase_Command(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		clk := clock.NewStub(time.Now().Truncate(time.Millisecond))
		env := map[string]string{"ASSESSGATE_ENCRYPTION_KEY": testEncryptionKey}
		a := startAppClock(t, clk, dbURL, env)
		for i, id := range []string{"ord-c1", "ord-c2"} {
			if status, resp := a.webhook(personOrderBody(t, fmt.Sprint("ev-c", i), id, erika)); status != http.StatusOK {
				t.Fatalf("POST order = %d %s", status, resp)
			}
		}
		erase := func(env map[string]string, args ...string) (string, error) {
			full := map[string]string{"ASSESSGATE_DATABASE_URL": dbURL}
			for k, v := range env {
				full[k] = v
			}
			var out strings.Builder
			err := erase(context.Background(), args, func(k string) string { return full[k] }, &out, io.Discard, clk)
			return out.String(), err
		}

		for _, tt := range []struct {
			name string
			env  map[string]string
			args []string
			want string
		}{
			{"NoEmail", env, nil, "--email is required"},
			{"NoKey", nil, []string{"--email", erika.email}, "ASSESSGATE_ENCRYPTION_KEY"},
			{"WrongKey", map[string]string{"ASSESSGATE_ENCRYPTION_KEY": testEncryptionKey2}, []string{"--email", erika.email}, "does not hold"},
			{"BadKey", map[string]string{"ASSESSGATE_ENCRYPTION_KEY": "c2hvcnQ="}, []string{"--email", erika.email}, "key 1 is 5 bytes"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if out, err := erase(tt.env, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("erase %v = %q, %v; want an error containing %q", tt.args, out, err, tt.want)
				}
			})
		}
		if o := a.order("ord-c1"); o["erased"] != false {
			t.Fatalf("an erase that failed erased the order")
		}

		out, err := erase(env, "--email", strings.ToUpper(erika.email))
		if err != nil || !strings.Contains(out, "erased the personal data of 2 orders (ord-c1, ord-c2)") || strings.Contains(strings.ToLower(out), strings.ToLower(erika.email)) {
			t.Fatalf("erase = %q, %v; want both orders named, not the address", out, err)
		}
		for _, id := range []string{"ord-c1", "ord-c2"} {
			if o := a.order(id); o["erased"] != true {
				t.Errorf("%s after erase = %v; want it erased", id, o)
			}
		}
		var log struct {
			Data []struct{ Actor, Reason string } `json:"data"`
		}
		a.api("GET", "/api/v1/erasures", nil, &log)
		if len(log.Data) != 1 || log.Data[0].Actor != "cli" || log.Data[0].Reason != "request" {
			t.Errorf("audit log = %+v; want the erasure by the command", log.Data)
		}
		if out, err := erase(env, "--email", erika.email); err != nil || !strings.Contains(out, "nothing held") {
			t.Errorf("erase again = %q, %v; want nothing held", out, err)
		}
		a.assertNotStored("after erase", erika.values()...)
	})
}

// TestPrivacy_KeyAddedAndRotated starts without a key, then with one, then
// rotated: data stays readable and findable throughout, start-up encrypts
// what is in clear or under an old key, and a start without the key that
// encrypted the data fails and says why.
func TestPrivacy_KeyAddedAndRotated(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		start := func(key string) *app {
			t.Helper()
			return startApp(t, dbURL, map[string]string{"ASSESSGATE_ENCRYPTION_KEY": key})
		}
		check := func(a *app, what string) {
			t.Helper()
			o := a.order("ord-k1")
			if o["candidate"].(map[string]any)["email"] != erika.email {
				t.Errorf("%s: order = %v; want her data", what, o)
			}
			var list struct{ Data []map[string]any }
			a.api("GET", "/api/v1/orders?email="+url.QueryEscape(strings.ToLower(erika.email)), nil, &list)
			if len(list.Data) != 1 {
				t.Errorf("%s: orders by her address = %d; want 1", what, len(list.Data))
			}
		}

		a := start("")
		if !strings.Contains(a.logs.String(), "ASSESSGATE_ENCRYPTION_KEY is not set") {
			t.Errorf("start-up without a key does not warn:\n%s", a.logs)
		}
		a.webhook(personOrderBody(t, "ev-k1", "ord-k1", erika))
		check(a, "no key")
		a.stop()

		a = start(testEncryptionKey)
		if !strings.Contains(a.logs.String(), "personal data encrypted under the first key") {
			t.Errorf("start-up with a new key does not say it encrypted the data:\n%s", a.logs)
		}
		check(a, "key added")
		a.assertNotStored("key added", erika.values()...)
		a.stop()

		a = start(testEncryptionKey2 + "," + testEncryptionKey)
		check(a, "rotated")
		a.stop()
		a = start(testEncryptionKey2)
		check(a, "old key dropped")
		a.stop()

		err := run(context.Background(), []string{"serve", "--migrate"}, func(k string) string {
			return map[string]string{"KOMBO_WEBHOOK_SECRET": testSecret, "ASSESSGATE_DATABASE_URL": dbURL, "ASSESSGATE_ADDR": "127.0.0.1:0"}[k]
		}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "ASSESSGATE_ENCRYPTION_KEY") {
			t.Errorf("serve without the key = %v; want an error asking for ASSESSGATE_ENCRYPTION_KEY", err)
		}
	})
}

func TestServe_PrivacySettings(t *testing.T) {
	for _, tt := range []struct{ env, value, want string }{
		{"ASSESSGATE_ENCRYPTION_KEY", "bm90IDMyIGJ5dGVz", "ASSESSGATE_ENCRYPTION_KEY: key 1 is 12 bytes"},
		{"ASSESSGATE_ENCRYPTION_KEY", testEncryptionKey + ",%%%", "ASSESSGATE_ENCRYPTION_KEY: key 2 is not base64"},
		{"ASSESSGATE_RETENTION", "half a year", "ASSESSGATE_RETENTION"},
		{"ASSESSGATE_DELETED_INTEGRATION_GRACE", "-1d", "ASSESSGATE_DELETED_INTEGRATION_GRACE"},
		{"ASSESSGATE_RETENTION_INTERVAL", "10ms", "ASSESSGATE_RETENTION_INTERVAL"},
	} {
		env := map[string]string{"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_DATABASE_URL": storetest.SQLite(t).URL, tt.env: tt.value}
		err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), testEncryptionKey) {
			t.Errorf("serve with %s=%q = %v; want an error containing %q, without the key", tt.env, tt.value, err, tt.want)
		}
	}
	cfg, err := parseServeConfig(nil, func(k string) string { return map[string]string{"KOMBO_WEBHOOK_SECRET": "s"}[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Privacy; p.Keys != nil || p.Retention != 180*day || p.DeletedIntegrationGrace != 30*day || p.RetentionInterval != time.Hour {
		t.Errorf("privacy defaults = %+v; want no key, 180d, 30d, 1h", p)
	}
}
