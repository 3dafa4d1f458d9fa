package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/assessgate/assessgate/internal/loadgen"
	"github.com/assessgate/assessgate/kombo"
)

const testSecret = "whsec_test_secret"

// receiver is a stand-in for assessgate: it verifies each webhook's
// signature, keeps its order once, and lists the orders as the vendor API
// does (one page).
func receiver(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	var ids []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/kombo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !kombo.Verify([]string{testSecret}, body, r.Header.Get(kombo.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		hook, err := kombo.ParseWebhook(body)
		if err != nil || hook.Order == nil {
			t.Errorf("ParseWebhook(%s) = %+v, %v; want an order", body, hook, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if hook.Order.PackageID == "not_in_catalogue" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		mu.Lock()
		if !seen[hook.Order.ID] {
			seen[hook.Order.ID] = true
			ids = append(ids, hook.Order.ID)
		}
		mu.Unlock()
	})
	mux.HandleFunc("GET /api/v1/orders", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		type order struct {
			ID string `json:"id"`
		}
		page := struct {
			Data []order `json:"data"`
		}{Data: []order{}}
		for _, id := range ids {
			page.Data = append(page.Data, order{id})
		}
		w.Header().Set("Content-Type", "application/json") // as assessgate answers; the client reads JSON only
		json.NewEncoder(w).Encode(page)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	srv := receiver(t)
	getenv := func(k string) string {
		return map[string]string{"KOMBO_WEBHOOK_SECRET": testSecret, "ASSESSGATE_LOAD_COUNT": "200"}[k]
	}
	var out, errOut bytes.Buffer
	args := []string{"--json", "--quiet", "--url", srv.URL + "/webhooks/kombo", "--api-token", "token",
		"--concurrency", "8", "--duplicates", "0.1", "--bad-signatures", "0.1", "--seed", "7"}
	if err := run(t.Context(), args, getenv, &out, &errOut); err != nil {
		t.Fatalf("run(%q) = %v\n%s%s", args, err, errOut.String(), out.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if rep.Sent != 200 || rep.Unexpected != 0 || rep.Check == nil || !rep.Check.OK || rep.Check.Found != rep.AcknowledgedOrders {
		t.Fatalf("report = %+v, check %+v; want 200 sent (ASSESSGATE_LOAD_COUNT), nothing unexpected, the check ok", rep, rep.Check)
	}
	if rep.BadSignatures == 0 || rep.Statuses["401"] != int(rep.BadSignatures) || rep.Duplicates == 0 {
		t.Errorf("report = %+v; want some redeliveries and some bad signatures, all 401", rep)
	}
	if !strings.HasPrefix(rep.Integration, "loadtest:") {
		t.Errorf("integration = %q; want a new loadtest:… one", rep.Integration)
	}
}

func TestRun_Refuses(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.com/webhooks/kombo"},
		{"--url", "http://10.0.0.1:8080/webhooks/kombo"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--api-url", "https://api.example.com"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--duration", "11m"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--count", "99999999"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--duplicates", "1.5"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--packages", " , "},
	} {
		args = append([]string{"--secret", "s"}, args...)
		err := run(t.Context(), args, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("run(%q) = nil; want an error", args)
		}
	}
	if err := run(t.Context(), nil, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "KOMBO_WEBHOOK_SECRET") {
		t.Errorf("run without a secret = %v; want an error naming KOMBO_WEBHOOK_SECRET", err)
	}
	bad := func(k string) string { return map[string]string{"ASSESSGATE_LOAD_RATE": "fast"}[k] }
	if err := run(t.Context(), []string{"--secret", "s"}, bad, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "ASSESSGATE_LOAD_RATE") {
		t.Errorf("run with ASSESSGATE_LOAD_RATE=fast = %v; want an error naming it", err)
	}
}

// TestRun_Refused: a run whose orders were refused (422: a package not in
// assessgate's catalogue) fails, saying how many and what to check.
func TestRun_Refused(t *testing.T) {
	srv := receiver(t)
	args := []string{"--quiet", "--secret", testSecret, "--url", srv.URL + "/webhooks/kombo", "--count", "20",
		"--packages", "typescript_test,not_in_catalogue", "--seed", "3"}
	err := run(t.Context(), args, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "webhooks were not acknowledged") || !strings.Contains(err.Error(), "catalogue") {
		t.Errorf("run with refused orders = %v; want an error saying they were refused", err)
	}
}
