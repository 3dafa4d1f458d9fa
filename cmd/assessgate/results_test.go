package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	body := orderBody(t, "ev-"+orderID, orderID, nil)
	if status, resp := a.webhook(body); status != http.StatusOK {
		t.Fatalf("POST order %s = %d %s", orderID, status, resp)
	}
	var w kombo.Webhook
	json.Unmarshal(body, &w)
	var o kombo.Order
	json.Unmarshal(w.Data, &o)
	fake.AddOrder(o.IntegrationID, o)
}

// putResult posts a result and returns the status and decoded answer.
func putResult(t *testing.T, a *app, orderID string, body []byte) (int, map[string]any) {
	t.Helper()
	var got map[string]any
	status := a.api("PUT", "/api/v1/orders/"+orderID+"/result", body, &got)
	return status, got
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	var out []kombotest.Request
	for _, r := range fake.Requests() {
		if r.Method == "PUT" && r.Path == "/assessment/orders/"+orderID+"/result" {
			out = append(out, r)
		}
	}
	return out
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
		eventually(t, 10*time.Second, "the result at Kombo", func() bool { return len(fake.Results("order-1")) == 1 })

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

		eventually(t, 5*time.Second, "Kombo status COMPLETED", func() bool { return a.order("order-1")["status"] == "COMPLETED" })
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
		{"MissingResultURL", `{"status":"COMPLETED"}`, "result_url", 400},
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

	// completed_at is filled in for a final status.
	status, got := putResult(t, a, "order-v", []byte(`{"status":"CANCELLED","result_url":"https://r.example/1"}`))
	if status != http.StatusAccepted {
		t.Fatalf("PUT without completed_at = %d %v; want 202", status, got)
	}
	eventually(t, 10*time.Second, "the result at Kombo", func() bool { return len(fake.Results("order-v")) == 1 })
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

var _ = fmt.Sprint
var _ = os.Getenv
var _ sync.Mutex
