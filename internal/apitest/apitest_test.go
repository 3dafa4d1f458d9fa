package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records Errorf instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

// TestTransport: an answer that matches the document passes; one with a
// wrong field, an undocumented status or an undocumented /api/ endpoint
// fails the test.
func TestTransport(t *testing.T) {
	answers := map[string]struct {
		status int
		body   string
	}{
		"/healthz":                {200, `{"status": "ok"}`},
		"/api/v1/orders/x/invite": {202, `{"status": "queued", "order_id": "x"}`},
		"/api/v1/orders":          {200, `{"data": [], "next_cursor": null}`},
		"/api/v1/packages":        {200, `{"packages": [{"id": "p", "type": "NOT_A_TYPE", "name": "n"}]}`},
		"/api/v1/parked":          {418, `{"error": {"code": "invalid", "message": "m"}}`},
		"/api/v1/secret-thing":    {200, `{}`},
		"/api/v1/nothing-here":    {404, `{"error": {"code": "not_found", "message": "no such path"}}`},
		"/api/v1/integrations":    {500, `{"error": {"code": "internal", "message": "internal error"}}`},
		"/api/v1/erasures":        {200, `{"data": [{"id": 1}], "next_cursor": null}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	defer srv.Close()

	for _, tt := range []struct {
		method, path, body string
		fails              bool
	}{
		{"GET", "/healthz", "", false},
		{"POST", "/api/v1/orders/x/invite", "", false},
		{"GET", "/api/v1/orders", "", false},
		{"GET", "/api/v1/orders?limit=0", "", true}, // the document refuses limit=0, assessgate answered 200
		{"GET", "/api/v1/packages", "", true},       // an enum value the document does not have
		{"GET", "/api/v1/parked", "", true},         // an undocumented status
		{"GET", "/api/v1/secret-thing", "", true},   // an endpoint missing from the document
		{"GET", "/api/v1/nothing-here", "", false},  // an unknown path, answered as such
		{"GET", "/api/v1/integrations", "", false},  // a 500 in the document's Error shape
		{"GET", "/api/v1/erasures", "", true},       // required fields missing
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := &recorder{TB: t}
			client := Client(rec)
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer x")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := len(rec.errors) > 0; got != tt.fails {
				t.Errorf("failed = %v, want %v: %q", got, tt.fails, rec.errors)
			}
		})
	}
}

func TestCheckVendorWebhook(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", "1764151200")
	h.Set("webhook-signature", "v1,abc=")
	good := `{"type": "order.started", "timestamp": "2026-11-26T10:15:00.000Z", "data": {
		"id": "o1", "package_id": "p", "status": "OPEN", "candidate": {"email": "a@example.com"}, "application": {"remote_id": null},
		"job": {"hiring_team": []}, "state": "started", "source": "webhook", "created_at": "2026-11-26T10:00:00.000Z",
		"updated_at": "2026-11-26T10:15:00.000Z", "invited_at": null, "started_at": "2026-11-26T10:15:00.000Z",
		"expires_at": null, "closed_at": null, "erased": false}}`
	if err := CheckVendorWebhook(h, []byte(good)); err != nil {
		t.Errorf("a good webhook: %v", err)
	}
	bad := strings.Replace(good, `"state": "started"`, `"state": "begun"`, 1)
	if err := CheckVendorWebhook(h, []byte(bad)); err == nil {
		t.Error("a webhook with an unknown state passed")
	}
	h.Del("webhook-signature")
	if err := CheckVendorWebhook(h, []byte(good)); err == nil {
		t.Error("a webhook without webhook-signature passed")
	}
}
