package loadgen_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/loadgen"
	"github.com/assessgate/assessgate/kombo"
)

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 1000; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Summarize(d)
	want := loadgen.Latency{N: 1000, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000}
	if got != want {
		t.Errorf("Summarize(1ms…1000ms) = %+v; want %+v", got, want)
	}
	if got := loadgen.Summarize(nil); got != (loadgen.Latency{}) {
		t.Errorf("Summarize(nil) = %+v; want zero", got)
	}
}

func TestNew_Refuses(t *testing.T) {
	for _, cfg := range []loadgen.Config{
		{URL: "http://127.0.0.1:8080/webhooks/kombo"}, // no secret
		{URL: "http://example.com/webhooks/kombo", Secret: "s"},
		{URL: "http://127.0.0.1:8080/webhooks/kombo", APIURL: "https://api.example.com", Secret: "s"},
		{URL: "http://127.0.0.1:8080/webhooks/kombo", Secret: "s", BadSignatures: -0.1},
		{URL: "http://127.0.0.1:8080/webhooks/kombo", Secret: "s", Packages: []string{}},
	} {
		if _, err := loadgen.New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error; want one", cfg)
		}
	}
	if _, err := loadgen.New(loadgen.Config{URL: "http://[::1]:8080/webhooks/kombo", Secret: "s"}); err != nil {
		t.Errorf("New(loopback, defaults) = %v; want nil", err)
	}
}

// TestRun_AnnounceIntegration: with AnnounceIntegration, the first webhook
// is the integration's integration-created, signed, and its orders follow;
// a refusal of it stops the run before any order.
func TestRun_AnnounceIntegration(t *testing.T) {
	var mu sync.Mutex
	var types []string
	var integration string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !kombo.Verify([]string{"s"}, body, r.Header.Get(kombo.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		hook, err := kombo.ParseWebhook(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		types = append(types, hook.Type)
		switch {
		case hook.IntegrationCreated != nil:
			integration = hook.IntegrationCreated.ID
		case hook.Order != nil && hook.Order.IntegrationID != integration:
			http.Error(w, "order of an integration not announced", http.StatusUnprocessableEntity)
			return
		}
	}))
	defer srv.Close()
	g, err := loadgen.New(loadgen.Config{URL: srv.URL, Secret: "s", Count: 20, Concurrency: 4, AnnounceIntegration: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unexpected != 0 || len(types) != 21 || types[0] != kombo.EventIntegrationCreated || integration != rep.Integration {
		t.Errorf("types %v, integration %q (run's %q), %d unexpected; want integration-created first, then 20 orders of it",
			types, integration, rep.Integration, rep.Unexpected)
	}

	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer refusing.Close()
	g, err = loadgen.New(loadgen.Config{URL: refusing.URL, Secret: "s", Count: 5, AnnounceIntegration: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "announce the integration") {
		t.Errorf("Run against a server refusing the integration = %v; want an error saying so", err)
	}
}
