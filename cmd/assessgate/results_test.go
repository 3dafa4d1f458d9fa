package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs/vendortest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

const testIntegration = "workday:CBNMt7dSNCzBdnRTx87dev4E" // the seed order's

// startWithKombo starts assessgate against a fake Kombo, with fast retries
// and no periodic reconciliation.
func startWithKombo(t *testing.T, dbURL string, env map[string]string) (*app, *kombotest.Server) {
	t.Helper()
	fake := kombotest.NewServer()
	t.Cleanup(fake.Close)
	return startApp(t, dbURL, komboEnv(fake, env)), fake
}

func komboEnv(fake *kombotest.Server, env map[string]string) map[string]string {
	full := map[string]string{
		"KOMBO_API_KEY":                 kombotest.DefaultAPIKey,
		"KOMBO_API_URL":                 fake.URL,
		"ASSESSGATE_RETRY_BASE":         "20ms",
		"ASSESSGATE_RECONCILE_INTERVAL": "0",
	}
	for k, v := range env {
		full[k] = v
	}
	return full
}

// placeOrder sends an order webhook and gives the fake the same order, as
// Kombo would have it.
func placeOrder(t *testing.T, a *app, fake *kombotest.Server, orderID string) {
	t.Helper()
	placeEditedOrder(t, a, fake, orderID, nil)
}

// placeEditedOrder is placeOrder with the seed order changed by edit (see
// orderBody).
func placeEditedOrder(t *testing.T, a *app, fake *kombotest.Server, orderID string, edit func(data map[string]any)) {
	t.Helper()
	body := orderBody(t, "ev-"+orderID, orderID, edit)
	// Kombo holds the order (and so knows its integration) before it sends
	// the webhook: the integration's discovery must find it there.
	var w struct{ Data kombo.Order }
	json.Unmarshal(body, &w)
	fake.AddOrder(w.Data.IntegrationID, w.Data)
	if status, resp := a.webhook(body); status != http.StatusOK {
		t.Fatalf("POST order %s = %d %s", orderID, status, resp)
	}
	a.integrationSettled()
}

// putResult posts a result and returns the status and decoded answer.
func putResult(t *testing.T, a *app, orderID string, body []byte) (int, map[string]any) {
	t.Helper()
	var got map[string]any
	status := a.api("PUT", "/api/v1/orders/"+orderID+"/result", body, &got)
	return status, got
}

// order fetches an order through the API.
func (a *app) order(id string) map[string]any {
	a.t.Helper()
	var o map[string]any
	if status := a.api("GET", "/api/v1/orders/"+id, nil, &o); status != 200 {
		a.t.Fatalf("GET order %s = %d", id, status)
	}
	return o
}

// timeline returns the kinds of an order's timeline events, and the events.
func (a *app) timeline(id string) ([]string, []map[string]any) {
	a.t.Helper()
	var kinds []string
	var events []map[string]any
	for _, e := range a.order(id)["timeline"].([]any) {
		ev := e.(map[string]any)
		kinds = append(kinds, ev["kind"].(string))
		events = append(events, ev)
	}
	return kinds, events
}

// resultRequests returns the result PUTs the fake received for an order.
func resultRequests(fake *kombotest.Server, orderID string) []kombotest.Request {
	return resultPuts(fake, orderID)
}

func TestResults_Delivered(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a, fake := startWithKombo(t, dbURL, nil)
		placeOrder(t, a, fake, "order-1")

		body := fixture(t, "request-put-order-result-completed.json")
		status, got := putResult(t, a, "order-1", body)
		if status != http.StatusAccepted || got["order"].(map[string]any)["state"] != "completed" {
			t.Fatalf("PUT result = %d %v; want 202 with the order completed", status, got)
		}
		wait.For(t, 10*time.Second, "the result at Kombo", func() bool { return len(fake.Results("order-1")) == 1 })

		reqs := resultRequests(fake, "order-1")
		if len(reqs) != 1 {
			t.Fatalf("result requests = %d; want 1", len(reqs))
		}
		r := reqs[0]
		if r.Header.Get("Authorization") != "Bearer "+kombotest.DefaultAPIKey || r.Header.Get("X-Integration-Id") != testIntegration {
			t.Errorf("headers Authorization=%q X-Integration-Id=%q; want the API key and %s", r.Header.Get("Authorization"), r.Header.Get("X-Integration-Id"), testIntegration)
		}
		var sent, received any
		json.Unmarshal(body, &sent)
		json.Unmarshal(r.Body, &received)
		assertSubset(t, "result", sent, received)

		wait.For(t, 5*time.Second, "Kombo status COMPLETED", func() bool { return a.order("order-1")["status"] == "COMPLETED" })
		kinds, events := a.timeline("order-1")
		if !contains(kinds, "result.accepted") || !contains(kinds, "result.delivered") {
			t.Errorf("timeline = %v; want result.accepted and result.delivered", kinds)
		}
		for _, e := range events {
			if e["kind"] == "kombo.call" {
				d := e["detail"].(map[string]any)
				if d["status"] != float64(200) || d["latency_ms"] == nil || d["endpoint"] != "PUT /assessment/orders/{id}/result" {
					t.Errorf("kombo.call detail = %v; want status 200, latency and endpoint", d)
				}
			}
		}

		// A closed order takes no more results, and says what it is.
		status, got = putResult(t, a, "order-1", fixture(t, "request-put-order-result-cancelled.json"))
		if status != http.StatusConflict || got["order"].(map[string]any)["state"] != "completed" {
			t.Errorf("second PUT = %d %v; want 409 with the order's state", status, got)
		}
	})
}

func TestResults_Validation(t *testing.T) {
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	placeOrder(t, a, fake, "order-v")
	tests := []struct {
		name, body, field string
		status            int
	}{
		{"NotJSON", `{`, "not valid JSON", 400},
		{"UnknownField", `{"status":"COMPLETED","result_url":"https://r.example/1","scor":3}`, `"scor"`, 400},
		{"MissingResultURL", `{"status":"COMPLETED"}`, "result_url: is required by Kombo for every status", 400},
		{"BadStatus", `{"status":"DONE","result_url":"https://r.example/1"}`, "status", 400},
		{"WrongType", `{"status":"COMPLETED","result_url":"https://r.example/1","score":"high"}`, "score", 400},
		{"TooManyAttachments", `{"status":"COMPLETED","result_url":"https://r.example/1","attachments":[` +
			strings.Repeat(`{"name":"a.pdf","data_url":"https://f.example/a"},`, 5) + `{"name":"a.pdf","data_url":"https://f.example/a"}]}`, "attachments", 400},
		{"BadAttribute", `{"status":"COMPLETED","result_url":"https://r.example/1","attributes":[{"type":"SUB_RESULT","id":"x","label":"X","score":{"value":1,"max":0},"status":"COMPLETED"}]}`, "attributes[0].score.max", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e struct{ Error struct{ Message string } }
			status := a.api("PUT", "/api/v1/orders/order-v/result", []byte(tt.body), &e)
			if status != tt.status || !strings.Contains(e.Error.Message, tt.field) {
				t.Errorf("PUT = %d %q; want %d naming %s", status, e.Error.Message, tt.status, tt.field)
			}
		})
	}
	if n := a.count("results", ""); n != 0 {
		t.Errorf("results stored for invalid requests: %d", n)
	}
	if o := a.order("order-v"); o["state"] != "received" {
		t.Errorf("order state = %v after invalid results; want received", o["state"])
	}

	var e struct{ Error struct{ Code string } }
	if status := a.api("PUT", "/api/v1/orders/nope/result", fixture(t, "request-put-order-result-completed.json"), &e); status != 404 {
		t.Errorf("PUT result for an unknown order = %d; want 404", status)
	}
	// An unknown order is a 404 whatever the body: fixing the body would not help.
	for _, body := range []string{`{"status":"COMPLETED"}`, `{`} {
		var e struct {
			Error struct{ Code, Message string }
		}
		if status := a.api("PUT", "/api/v1/orders/nope/result", []byte(body), &e); status != 404 || !strings.Contains(e.Error.Message, `"nope" not found`) {
			t.Errorf("PUT %s for an unknown order = %d %+v; want 404 naming the order", body, status, e.Error)
		}
	}

	// completed_at is filled in for a final status.
	status, got := putResult(t, a, "order-v", []byte(`{"status":"CANCELLED","result_url":"https://r.example/1"}`))
	if status != http.StatusAccepted {
		t.Fatalf("PUT without completed_at = %d %v; want 202", status, got)
	}
	wait.For(t, 10*time.Second, "the result at Kombo", func() bool { return len(fake.Results("order-v")) == 1 })
	res := fake.Results("order-v")[0]
	if res.CompletedAt == nil || !strings.HasSuffix(*res.CompletedAt, "Z") {
		t.Errorf("completed_at sent = %v; want a UTC time filled in", res.CompletedAt)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func TestResults_RetriesUntilDelivered(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a, fake := startWithKombo(t, dbURL, nil)
		placeOrder(t, a, fake, "order-r")
		fake.Fail(3, kombotest.Fault{Status: 500})
		if status, got := putResult(t, a, "order-r", fixture(t, "request-put-order-result-completed.json")); status != 202 {
			t.Fatalf("PUT result = %d %v", status, got)
		}
		wait.For(t, 20*time.Second, "delivery after three 500s", func() bool { return len(fake.Results("order-r")) == 1 })
		wait.For(t, 5*time.Second, "result.delivered", func() bool {
			kinds, _ := a.timeline("order-r")
			return contains(kinds, "result.delivered")
		})
		if n := len(resultRequests(fake, "order-r")); n != 4 {
			t.Errorf("result requests = %d; want 4 (three 500s, then 200)", n)
		}
		kinds, events := a.timeline("order-r")
		var statuses []any
		for _, e := range events {
			if e["kind"] == "kombo.call" {
				statuses = append(statuses, e["detail"].(map[string]any)["status"])
			}
		}
		if fmt.Sprint(statuses) != "[500 500 500 200]" {
			t.Errorf("kombo.call statuses on the timeline = %v; want [500 500 500 200]", statuses)
		}
		if count(kinds, "result.delivered") != 1 {
			t.Errorf("delivered %d times; want once", count(kinds, "result.delivered"))
		}
	})
}

func TestResults_WarningsKept(t *testing.T) {
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	placeOrder(t, a, fake, "order-w")
	fake.Fail(1, kombotest.Fault{Status: 200, Body: `{"status":"success","data":{},"warnings":[{"message":"The ATS ignored attachment 2."}]}`})
	putResult(t, a, "order-w", fixture(t, "request-put-order-result-completed.json"))
	wait.For(t, 10*time.Second, "result.delivered", func() bool {
		kinds, _ := a.timeline("order-w")
		return contains(kinds, "result.delivered")
	})
	_, events := a.timeline("order-w")
	for _, e := range events {
		if e["kind"] == "result.delivered" {
			if w := fmt.Sprint(e["detail"].(map[string]any)["warnings"]); w != "[The ATS ignored attachment 2.]" {
				t.Errorf("warnings on the timeline = %s; want Kombo's warning", w)
			}
		}
	}
}

// TestResults_HonoursRetryAfter waits out Kombo's Retry-After on a stub
// clock, which the app, River and the fake Kombo follow.
func TestResults_HonoursRetryAfter(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "a.db")
	clk := clock.NewStub(time.Now().Truncate(time.Millisecond))
	fake := kombotest.NewServer()
	fake.SetClock(clk.Now)
	t.Cleanup(fake.Close)
	a := startAppClock(t, clk, dbURL, komboEnv(fake, nil))
	placeOrder(t, a, fake, "order-429")
	fake.Fail(1, kombotest.Fault{Status: 429, Code: kombo.CodeRateLimitExceeded, RetryAfter: time.Second})
	putResult(t, a, "order-429", fixture(t, "request-put-order-result-completed.json"))
	passTime(t, openDB(t, dbURL), clk, 50*time.Millisecond, 10*time.Second, "delivery after a 429", func() bool {
		return len(fake.Results("order-429")) == 1
	})
	reqs := resultRequests(fake, "order-429")
	if len(reqs) != 2 {
		t.Fatalf("result requests = %d; want 2", len(reqs))
	}
	// Retries back off from 20 ms in this test: only Retry-After explains a
	// wait of a second.
	if wait := reqs[1].Time.Sub(reqs[0].Time); wait < 900*time.Millisecond || wait > 5*time.Second {
		t.Errorf("retry came %s after the 429 with Retry-After: 1; want about 1s", wait)
	}
}

func TestResults_DeadLetterAndReplay(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a, fake := startWithKombo(t, dbURL, nil)
		placeOrder(t, a, fake, "order-dl")
		placeOrder(t, a, fake, "order-dl2")
		// QA failed needs the customer: a human, no retries (setup answers
		// park instead: parked_test.go).
		fake.Fail(2, kombotest.Fault{Status: 409, Code: kombo.CodeQAFailed, Message: "The integration failed Kombo's QA."})
		putResult(t, a, "order-dl", fixture(t, "request-put-order-result-completed.json"))
		putResult(t, a, "order-dl2", fixture(t, "request-put-order-result-completed.json"))

		type deadLetters struct {
			Data []struct {
				ID      int64  `json:"id"`
				Kind    string `json:"kind"`
				OrderID string `json:"order_id"`
				Error   string `json:"error"`
			} `json:"data"`
		}
		var dl deadLetters
		wait.For(t, 10*time.Second, "two dead letters", func() bool {
			a.api("GET", "/api/v1/dead-letters", nil, &dl)
			return len(dl.Data) == 2
		})
		for _, d := range dl.Data {
			if d.Kind != "writeback" || !strings.Contains(d.Error, kombo.CodeQAFailed) || !strings.Contains(d.Error, "(log https://app.kombo.dev/") {
				t.Errorf("dead letter = %+v; want a writeback with Kombo's code %s and log_url", d, kombo.CodeQAFailed)
			}
		}
		// A failure that needs a human is not retried.
		if n := len(resultRequests(fake, "order-dl")); n != 1 {
			t.Errorf("result requests = %d; want 1, no blind retries", n)
		}
		kinds, _ := a.timeline("order-dl")
		if !contains(kinds, "dead_letter") {
			t.Errorf("timeline = %v; want dead_letter", kinds)
		}

		// A list with an id that is not a dead letter replays none of them.
		var e404 struct{ Error struct{ Message string } }
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(fmt.Sprintf(`{"ids":[%d,999999]}`, dl.Data[0].ID)), &e404); status != 404 {
			t.Errorf("retry of a dead letter and an unknown id = %d; want 404", status)
		}
		a.api("GET", "/api/v1/dead-letters", nil, &dl)
		if len(dl.Data) != 2 {
			t.Fatalf("dead letters after a refused retry = %d; want still 2", len(dl.Data))
		}

		// Kombo is fixed: replay one by id, then the rest by kind.
		var retried struct{ Retried int }
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(fmt.Sprintf(`{"ids":[%d]}`, dl.Data[0].ID)), &retried); status != 200 || retried.Retried != 1 {
			t.Fatalf("retry one = %d %+v", status, retried)
		}
		first := dl.Data[0].OrderID
		wait.For(t, 10*time.Second, "the replayed result at Kombo", func() bool { return len(fake.Results(first)) == 1 })
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(`{"kind":"writeback"}`), &retried); status != 200 || retried.Retried != 1 {
			t.Fatalf("retry kind = %d %+v", status, retried)
		}
		wait.For(t, 10*time.Second, "both results at Kombo", func() bool {
			return len(fake.Results("order-dl")) == 1 && len(fake.Results("order-dl2")) == 1
		})
		kinds, _ = a.timeline(first)
		if !contains(kinds, "dead_letter.replayed") || !contains(kinds, "result.delivered") {
			t.Errorf("timeline = %v; want dead_letter.replayed and result.delivered", kinds)
		}
		a.api("GET", "/api/v1/dead-letters", nil, &dl)
		if len(dl.Data) != 0 {
			t.Errorf("dead letters after replay = %d; want 0", len(dl.Data))
		}

		var e struct{ Error struct{ Message string } }
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(`{}`), &e); status != 400 {
			t.Errorf("retry with no selection = %d; want 400", status)
		}
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(`{"ids":[999999]}`), &e); status != 404 {
			t.Errorf("retry of an unknown id = %d; want 404", status)
		}
	})
}

func TestResults_ConcurrencyCap(t *testing.T) {
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), map[string]string{"ASSESSGATE_KOMBO_CONCURRENCY": "3"})
	fake.SetLatency(100 * time.Millisecond)
	const n = 12
	for i := range n {
		placeOrder(t, a, fake, fmt.Sprintf("order-c%d", i))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			putResult(t, a, fmt.Sprintf("order-c%d", i), fixture(t, "request-put-order-result-completed.json"))
		}()
	}
	wg.Wait()
	wait.For(t, 20*time.Second, "all results at Kombo", func() bool {
		for i := range n {
			if len(fake.Results(fmt.Sprintf("order-c%d", i))) != 1 {
				return false
			}
		}
		return true
	})
	// At most the cap; and the cap reached, so the limit, not chance, held it.
	if got := fake.MaxInFlight(testIntegration); got != 3 {
		t.Errorf("most calls in flight for the integration = %d; want 3 (the cap)", got)
	}
}

func TestResults_SurviveRestart(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		a := startApp(t, dbURL, komboEnv(fake, nil))
		placeOrder(t, a, fake, "order-restart")
		fake.FailFor(time.Hour, kombotest.Fault{Status: 503})
		if status, got := putResult(t, a, "order-restart", fixture(t, "request-put-order-result-completed.json")); status != 202 {
			t.Fatalf("PUT result = %d %v", status, got)
		}
		wait.For(t, 10*time.Second, "a failed attempt", func() bool { return len(resultRequests(fake, "order-restart")) >= 1 })
		a.stop()

		fake.ClearFaults()
		b := startApp(t, dbURL, komboEnv(fake, nil))
		wait.For(t, 20*time.Second, "delivery after the restart", func() bool { return len(fake.Results("order-restart")) == 1 })
		wait.For(t, 5*time.Second, "Kombo status COMPLETED", func() bool { return b.order("order-restart")["status"] == "COMPLETED" })
	})
}

func TestReconcile(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a, fake := startWithKombo(t, dbURL, nil)
		a.webhook(fixture(t, "webhook-integration-created.json"))
		const gh = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"
		var list struct {
			Data struct {
				Results []kombo.Order `json:"results"`
			} `json:"data"`
		}
		json.Unmarshal(fixture(t, "response-get-assessment-orders.json"), &list)
		for _, o := range list.Data.Results {
			fake.AddOrder(gh, o) // one OPEN, one COMPLETED
		}
		// Many open orders, so that reading them takes several pages.
		for i := range 300 {
			o := list.Data.Results[0]
			o.ID = fmt.Sprintf("missed-%03d", i)
			fake.AddOrder(gh, o)
		}
		// An order assessgate has already.
		placeOrder(t, a, fake, "known-order")

		type summary struct {
			Integrations int      `json:"integrations"`
			OpenOrders   int      `json:"open_orders"`
			Created      []string `json:"created"`
		}
		var first, second summary
		if status := a.api("POST", "/api/v1/reconcile", nil, &first); status != 200 {
			t.Fatalf("POST /api/v1/reconcile = %d", status)
		}
		if len(first.Created) != 301 || first.Integrations != 2 {
			t.Errorf("first pass = %d integrations, created %d; want 2 integrations (greenhouse, and workday known from an order) and 301 orders", first.Integrations, len(first.Created))
		}
		o := a.order("7Gd2kPqXwR9sTbVn3LmYc5Hz")
		if o["source"] != "reconcile" || o["integration_id"] != gh {
			t.Errorf("reconciled order source/integration = %v/%v; want reconcile/%s", o["source"], o["integration_id"], gh)
		}
		if n := a.count("orders", "id = 'Hc8Tq2LmVx5Wp9RbN3kYs7Fd'"); n != 0 {
			t.Errorf("the COMPLETED order was reconciled; want only OPEN ones")
		}
		if err := a.oneInviteEach(); err != nil {
			t.Errorf("%v: want the same next steps as a webhook order", err)
		}
		a.api("POST", "/api/v1/reconcile", nil, &second)
		if len(second.Created) != 0 || second.OpenOrders != first.OpenOrders {
			t.Errorf("second pass created %d of %d open; want 0", len(second.Created), second.OpenOrders)
		}
		var pages int
		for _, r := range fake.Requests() {
			if r.Path == "/assessment/orders" && r.Header.Get("X-Integration-Id") == gh {
				pages++
				if r.Query.Get("statuses") != "OPEN" {
					t.Errorf("GET /assessment/orders?%s; want statuses=OPEN on every page", r.Query.Encode())
				}
			}
		}
		if pages < 4 {
			t.Errorf("pages read = %d over two passes; want at least 2 per pass", pages)
		}
	})
}

func TestPackages(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "packages.json")
		os.WriteFile(file, fixture(t, "request-put-assessment-packages.json"), 0o600)
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		env := komboEnv(fake, map[string]string{"ASSESSGATE_PACKAGES_FILE": file})
		a := startApp(t, dbURL, env)

		var want kombo.PackageList
		json.Unmarshal(fixture(t, "request-put-assessment-packages.json"), &want)
		const gh = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"
		a.webhook(fixture(t, "webhook-integration-created.json"))
		wait.For(t, 10*time.Second, "packages pushed on integration-created", func() bool { return len(fake.Packages(gh)) == len(want.Packages) })

		// A new catalogue through the API goes to every active integration.
		second := []byte(`{"packages":[{"id":"go-90","type":"SKILLS_TEST","name":"Go (90 min)","description":"Backend"}]}`)
		var put map[string]any
		if status := a.api("PUT", "/api/v1/packages", second, &put); status != 202 || put["pushes"] != float64(1) {
			t.Fatalf("PUT /api/v1/packages = %d %v; want 202 with 1 push", status, put)
		}
		wait.For(t, 10*time.Second, "the new catalogue at Kombo", func() bool {
			p := fake.Packages(gh)
			return len(p) == 1 && p[0].ID == "go-90"
		})
		wait.For(t, 5*time.Second, "the push recorded", func() bool {
			var ints struct {
				Data []struct {
					ID              string `json:"id"`
					PackagesCurrent bool   `json:"packages_current"`
				} `json:"data"`
			}
			a.api("GET", "/api/v1/integrations", nil, &ints)
			return len(ints.Data) == 1 && ints.Data[0].PackagesCurrent
		})
		// The catalogue now refuses orders for packages it no longer has.
		status, _ := a.webhook(orderBody(t, "e-old-pkg", "o-old-pkg", func(d map[string]any) { d["package_id"] = want.Packages[0].ID }))
		if status != http.StatusUnprocessableEntity {
			t.Errorf("order for a removed package = %d; want 422", status)
		}
		var e struct{ Error struct{ Message string } }
		if status := a.api("PUT", "/api/v1/packages", []byte(`{"packages":[{"id":"x","type":"QUIZ","name":"X","description":""}]}`), &e); status != 400 || !strings.Contains(e.Error.Message, "packages[0].type") {
			t.Errorf("PUT a bad catalogue = %d %q; want 400 naming packages[0].type", status, e.Error.Message)
		}
		a.stop()

		// A restart with the file, now different from what was pushed last,
		// pushes it again; a restart with an unchanged file does not.
		pushes := func() int {
			n := 0
			for _, r := range fake.Requests() {
				if r.Method == "PUT" && r.Path == "/assessment/packages" {
					n++
				}
			}
			return n
		}
		b := startApp(t, dbURL, env)
		wait.For(t, 10*time.Second, "the file's catalogue pushed at start-up", func() bool { return len(fake.Packages(gh)) == len(want.Packages) })
		b.stop()
		before := pushes()
		c := startApp(t, dbURL, env)
		var got kombo.PackageList
		if c.api("GET", "/api/v1/packages", nil, &got); len(got.Packages) != len(want.Packages) {
			t.Errorf("GET /api/v1/packages = %d packages; want the file's %d", len(got.Packages), len(want.Packages))
		}
		if after := pushes(); after != before {
			t.Errorf("a restart with an unchanged file pushed %d times; want 0", after-before)
		}
	})
}

func TestReconcile_Periodic(t *testing.T) {
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), map[string]string{"ASSESSGATE_RECONCILE_INTERVAL": "1s"})
	a.webhook(fixture(t, "webhook-integration-created.json"))
	var list struct {
		Data struct {
			Results []kombo.Order `json:"results"`
		} `json:"data"`
	}
	json.Unmarshal(fixture(t, "response-get-assessment-orders.json"), &list)
	fake.AddOrder("greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f", list.Data.Results[0])
	wait.For(t, 20*time.Second, "the missed order reconciled by the periodic job", func() bool {
		return a.count("orders", "id = $1 AND source = 'reconcile'", list.Data.Results[0].ID) == 1
	})
}

func TestResults_VendorEvents(t *testing.T) {
	vendor := vendortest.NewReceiver(t, testVendorSecret, 0, time.Now)
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), map[string]string{
		"ASSESSGATE_VENDOR_WEBHOOK_URL":    vendor.URL + "/assessgate",
		"ASSESSGATE_VENDOR_WEBHOOK_SECRET": testVendorSecret,
	})
	placeOrder(t, a, fake, "order-ok")
	placeOrder(t, a, fake, "order-bad")
	putResult(t, a, "order-ok", fixture(t, "request-put-order-result-completed.json"))
	fake.FailWhen(func(r *http.Request) *kombotest.Fault {
		if strings.Contains(r.URL.Path, "order-bad") {
			return &kombotest.Fault{Status: 400, Code: kombo.CodeInputInvalid, Message: "Invalid request body."}
		}
		return nil
	})
	putResult(t, a, "order-bad", fixture(t, "request-put-order-result-cancelled.json"))

	want := []string{
		"order.created order-bad", "order.created order-ok",
		"order.completed order-ok", "order.cancelled order-bad", "writeback.failed order-bad",
	}
	wait.For(t, 20*time.Second, "the vendor events", func() bool { return len(vendor.Delivered()) >= len(want) })
	got := vendor.Delivered()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("vendor events = %v; want %v", got, want)
	}
	for _, r := range vendor.Requests() {
		if r.VerifyErr != nil {
			t.Errorf("vendor webhook %s: %v", r.Event.Type, r.VerifyErr)
		}
	}
}
