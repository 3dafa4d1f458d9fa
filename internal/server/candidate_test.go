package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/apitest"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

func TestCandidateLink_Pages(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite(t))
	logs := &strings.Builder{}
	st := store.New(db, store.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	h := New(Config{Store: st, Logger: slog.New(slog.NewTextHandler(logs, nil)), AssessmentURL: "https://vendor.example/t/{token}"}).Handler()
	ctx := context.Background()
	for _, id := range []string{"open", "completed"} {
		if _, _, err := st.CreateOrder(ctx, &kombo.Order{ID: id, IntegrationID: "i", PackageID: "p", Status: kombo.OrderStatusOpen,
			Candidate: kombo.Candidate{Email: "c@example.com"}}, orders.SourceWebhook); err != nil {
			t.Fatal(err)
		}
		if err := st.AddLink(ctx, id, HashToken("token-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	db.Writer.Exec("UPDATE orders SET state = 'completed' WHERE id = 'completed'")

	get := func(method, path string) *httptest.ResponseRecorder {
		return apitest.Serve(t, h, httptest.NewRequest(method, path, nil))
	}
	for _, tt := range []struct {
		method, token string
		status        int
		want          string
	}{
		{"HEAD", "token-open", http.StatusFound, ""},
		{"GET", "token-completed", http.StatusGone, "You have completed this assessment"},
		{"GET", "nope", http.StatusNotFound, "This link does not work"},
		{"GET", strings.Repeat("x", 200), http.StatusNotFound, "This link does not work"},
		{"GET", "token-open", http.StatusFound, ""},
	} {
		rec := get(tt.method, "/a/"+tt.token)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s /a/%.10s = %d %s; want %d with %q", tt.method, tt.token, rec.Code, rec.Body, tt.status, tt.want)
		}
		if rec.Code == http.StatusFound && rec.Header().Get("Location") != "https://vendor.example/t/"+tt.token {
			t.Errorf("Location = %q", rec.Header().Get("Location"))
		}
		if rec.Code != http.StatusFound && strings.Contains(rec.Body.String(), "vendor.example") {
			t.Errorf("page %d shows the vendor's link", rec.Code)
		}
	}
	if o, _ := st.FindOrderByID(ctx, "open"); o.State != orders.StateStarted {
		t.Errorf("order after HEAD then GET = %s; want started", o.State)
	}

	db.Close()
	if rec := get("GET", "/a/token-open"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "try again") {
		t.Errorf("GET with the database closed = %d %s; want the 503 page", rec.Code, rec.Body)
	}
	if strings.Contains(logs.String(), "token-") {
		t.Errorf("logs contain a token:\n%s", logs)
	}
}

func TestLogPath(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/api/v1/orders/o1", "/api/v1/orders/o1"},
		{"/a/secret-token", "/a/{token}"},
		{"/a/", "/a/{token}"},
	} {
		if got := logPath(httptest.NewRequest("GET", tt.path, nil)); got != tt.want {
			t.Errorf("logPath(%q) = %q; want %q", tt.path, got, tt.want)
		}
	}
}
