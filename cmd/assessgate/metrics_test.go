package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/wait"
)

func TestMetrics(t *testing.T) {
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	placeOrder(t, a, fake, "order-m")
	placeOrder(t, a, fake, "order-m2")
	putResult(t, a, "order-m", fixture(t, "request-put-order-result-completed.json"))
	wait.For(t, 10*time.Second, "the write-back job completed", func() bool {
		return a.count("river_job", "kind = 'writeback' AND state = 'completed'") == 1
	})

	if status, _ := a.do("GET", "/metrics", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token = %d; want 401", status)
	}
	status, body := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d", status)
	}
	text := string(body)
	for _, want := range []string{
		`assessgate_http_requests_total{code="200",route="POST /webhooks/kombo"} 2`,
		`assessgate_http_requests_total{code="202",route="PUT /api/v1/orders/{id}/result"} 1`,
		`assessgate_orders{state="completed"} 1`,
		`assessgate_orders{state="received"} 1`,
		// The key's check and the integration's discovery; its package
		// push and the result.
		`assessgate_kombo_requests_total{code="200",method="GET"} 2`,
		`assessgate_kombo_requests_total{code="200",method="PUT"} 2`,
		`assessgate_parked_work{kind="writeback"} 0`,
		`assessgate_jobs{kind="writeback",state="completed"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Group commit's counters: two orders, the result's jobs' writes.
	for _, name := range []string{"assessgate_group_commit_transactions_total ", "assessgate_group_commit_writes_total "} {
		i := strings.Index(text, "\n"+name)
		if i < 0 || strings.HasPrefix(text[i+1+len(name):], "0\n") {
			t.Errorf("metrics lack %s, or it is 0", name)
		}
	}
	for _, personal := range []string{"john.doe@gmail.com", "order-m", "Doe"} {
		if strings.Contains(text, personal) {
			t.Errorf("metrics contain %q; want states, routes and codes only", personal)
		}
	}
}
