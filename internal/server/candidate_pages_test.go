package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

// TestCandidatePages_EveryLanguage: every language has every page, each
// with its words, and no two languages share a title (a page left in
// English would).
func TestCandidatePages_EveryLanguage(t *testing.T) {
	kinds := []pageKind{pageUnknown, pageExpired, pageCancelled, pageCompleted, pageUnavailable, pageNotice}
	titles := map[string]string{}
	for _, lang := range orders.Languages {
		texts, ok := pageTexts[lang]
		if !ok {
			t.Errorf("no candidate pages in %s", lang)
			continue
		}
		for _, k := range kinds {
			p, ok := texts.pages[k]
			if !ok || p.Title == "" || (p.Message == "" && k != pageNotice) {
				t.Errorf("%s: page %d missing or empty: %+v", lang, k, p)
			}
			if other, ok := titles[p.Title]; ok {
				t.Errorf("%s and %s share the title %q", lang, other, p.Title)
			}
			titles[p.Title] = lang
		}
		n := texts.notice
		if !strings.Contains(n.Processing, "%[1]s") || !strings.Contains(n.Processing, "%[2]s") || !strings.Contains(n.Privacy, "%s") ||
			n.Continue == "" || !strings.Contains(n.Unnamed, "%[2]s") || strings.Contains(n.Unnamed, "%[1]s") {
			t.Errorf("%s: notice words incomplete: %+v", lang, n)
		}
	}
	if len(pageTexts) != len(orders.Languages) {
		t.Errorf("pages in %d languages; there are %d", len(pageTexts), len(orders.Languages))
	}
}

// TestCandidatePages_Language: a known link's pages are in its order's
// language (a re-invitation's, else its tenant's, else by the job's
// country when the tenant opted in); an unknown link's in the browser's.
// The notice page, when on, comes first and starts nothing; its button
// does.
func TestCandidatePages_Language(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite(t))
	st := store.New(db, store.Config{Logger: slog.New(slog.DiscardHandler)})
	notice := &Notice{Processor: "Vendor Assess", PrivacyURL: "https://vendor.example/privacy"}
	h := New(Config{Store: st, Logger: slog.New(slog.DiscardHandler), AssessmentURL: "https://vendor.example/t/{token}",
		CandidateNotice: notice}).Handler()
	ctx := context.Background()
	if err := st.ConnectIntegration(ctx, &orders.Integration{ID: "i", Tool: "personio", OrganizationName: "Acme Corp",
		OriginID: new("acme"), State: kombo.IntegrationStateActive}); err != nil {
		t.Fatal(err)
	}
	berlin := &kombo.Location{Country: new("DE")}
	for _, id := range []string{"fr", "berlin", "done", "unnamed"} {
		integration := "i"
		if id == "unnamed" {
			integration = "not-yet-known" // no organisation, no tenant
		}
		o := &kombo.Order{ID: id, IntegrationID: integration, PackageID: "p", Status: kombo.OrderStatusOpen,
			Candidate: kombo.Candidate{Email: "c@example.com"}}
		o.Job.Location = berlin
		if _, _, err := st.CreateOrder(ctx, o, orders.SourceWebhook); err != nil {
			t.Fatal(err)
		}
		if err := st.AddLink(ctx, id, HashToken("token-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	db.Writer.Exec("UPDATE orders SET state = 'completed' WHERE id = 'done'")
	// A re-invitation in French (store.RequestInviteIn; its test is the store's).
	db.Writer.Exec("UPDATE orders SET language = 'fr' WHERE id = 'fr'")
	if _, err := st.PutTenantSettings(ctx, orders.TenantSettings{TenantID: "acme", Language: "it", LanguageByCountry: true}); err != nil {
		t.Fatal(err)
	}

	get := func(path, acceptLanguage string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept-Language", acceptLanguage)
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tt := range []struct {
		path, accept string
		status       int
		lang, want   string
	}{
		{"/a/nope", "de-AT,de;q=0.9,en;q=0.5", http.StatusNotFound, "de", "Dieser Link funktioniert nicht"},
		{"/a/nope", "es-MX", http.StatusNotFound, "es", "Este enlace no funciona"},
		{"/a/nope", "pt-BR", http.StatusNotFound, "en", "This link does not work"},
		{"/a/token-done", "en", http.StatusGone, "de", "Sie haben diesen Test abgeschlossen"}, // Berlin: German
		{"/a/token-berlin", "en", http.StatusOK, "de", "Acme Corp führt diesen Test mit Vendor Assess durch"},
		{"/a/token-fr", "de", http.StatusOK, "fr", "Acme Corp fait passer ce test avec Vendor Assess"},
		{"/a/token-unnamed", "de", http.StatusOK, "en", "The company that invited you runs this assessment with Vendor Assess. Vendor Assess processes"},
	} {
		rec := get(tt.path, tt.accept)
		body := rec.Body.String()
		if rec.Code != tt.status || !strings.Contains(body, `<html lang="`+tt.lang+`">`) || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s (Accept-Language %s) = %d:\n%s\nwant %d, lang %s, %q", tt.path, tt.accept, rec.Code, body, tt.status, tt.lang, tt.want)
		}
		if strings.Contains(body, "%!") {
			t.Errorf("GET %s: a format verb left in the page:\n%s", tt.path, body)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: Content-Security-Policy = %q", tt.path, csp)
		}
	}
	// The notice links the privacy policy and started nothing; its button
	// starts the order and goes to the assessment.
	body := get("/a/token-berlin", "").Body.String()
	for _, want := range []string{`href="https://vendor.example/privacy"`, `href="?continue=1"`, "Weiter zum Test"} {
		if !strings.Contains(body, want) {
			t.Errorf("notice page without %q:\n%s", want, body)
		}
	}
	if o, _ := st.FindOrderByID(ctx, "berlin"); o.State == orders.StateStarted {
		t.Errorf("the notice page started the order")
	}
	rec := get("/a/token-berlin?continue=1", "")
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://vendor.example/t/token-berlin" {
		t.Errorf("continue = %d %s; want 302 to the assessment", rec.Code, rec.Header().Get("Location"))
	}
	if o, _ := st.FindOrderByID(ctx, "berlin"); o.State != orders.StateStarted {
		t.Errorf("order after continue = %s; want started", o.State)
	}
	if !slices.Contains(orders.Languages, browserLanguage(httptest.NewRequest("GET", "/", nil))) {
		t.Errorf("browserLanguage without Accept-Language is none of the languages")
	}
}
