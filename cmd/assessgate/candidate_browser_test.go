package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/assessgate/assessgate/internal/mail/mailtest"
)

// EnvUpdateInvitationScreenshot, set to 1, makes TestCandidatePages_Browser
// write the German invitation's screenshot to docs/invitation-de.png, which
// the README shows.
const EnvUpdateInvitationScreenshot = "ASSESSGATE_UPDATE_INVITATION_SCREENSHOT"

// axeResult is what axe.run answers, as far as the test reads it.
type axeResult struct {
	Violations []struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			HTML    string `json:"html"`
			Summary string `json:"failureSummary"`
		} `json:"nodes"`
	} `json:"violations"`
	Passes []struct {
		ID string `json:"id"`
	} `json:"passes"`
}

// TestCandidatePages_Browser opens the candidate pages in Chromium, in
// German (the tenant's language) and French (an unknown link, the browser's
// Accept-Language), on a phone's screen, and checks each with axe-core
// against WCAG 2.1 A and AA and axe's best practices: no violations, the
// page's lang, nothing loaded from anywhere else, no sideways scrolling. It
// also renders the German invitation as it arrives, for the README.
func TestCandidatePages_Browser(t *testing.T) {
	ctx := browser(t)
	axe, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	c := startCandidates(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), 0, map[string]string{
		"ASSESSGATE_CANDIDATE_NOTICE": "true",
		"ASSESSGATE_PRIVACY_URL":      "https://acme-assess.example/privacy",
	})
	if status := c.api("PUT", "/api/v1/tenants/cust_000123", []byte(`{"language": "de", "accent_color": "#0b6e4f"}`), nil); status != http.StatusOK {
		t.Fatalf("PUT tenant settings = %d", status)
	}
	c.order("ev-1", "order-1", "john@cand.example")
	c.order("ev-2", "order-2", "done@cand.example")
	invitation := c.mp.WaitFor(t, "john@cand.example", 1, 30*time.Second)[0]
	done := c.mp.WaitFor(t, "done@cand.example", 1, 30*time.Second)[0]
	c.waitOrder("order-2", "invited", func(o orderView) bool { return o.State == "invited" })
	if status, got := putResult(t, c.app, "order-2", fixture(t, "request-put-order-result-completed.json")); status != http.StatusAccepted {
		t.Fatalf("PUT result = %d %v", status, got)
	}

	app, _ := url.Parse(c.URL)
	var (
		mu      sync.Mutex
		foreign []string
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			if u, err := url.Parse(e.Request.URL); err == nil && u.Host != app.Host && u.Scheme != "data" {
				mu.Lock()
				foreign = append(foreign, e.Request.URL)
				mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "a phone's screen", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2)))

	for _, tt := range []struct {
		name, path, accept, lang, want string
	}{
		{"NoticeDE", "/a/" + token(t, invitation), "fr", "de", "Weiter zum Test"},
		{"CompletedDE", "/a/" + token(t, done) + "?continue=1", "fr", "de", "Sie haben diesen Test abgeschlossen"},
		{"UnknownFR", "/a/no-such-token", "fr-FR,fr;q=0.9", "fr", "Ce lien ne fonctionne pas"},
		{"UnknownDE", "/a/no-such-token", "de", "de", "Dieser Link funktioniert nicht"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Accept-Language": tt.accept}}); err != nil {
				t.Fatal(err)
			}
			do(t, ctx, "open "+tt.name, chromedp.Navigate(c.URL+tt.path))
			if page := text(t, ctx, "main"); !strings.Contains(page, tt.want) {
				t.Errorf("page = %q; want %q", page, tt.want)
			}
			lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			if err != nil || lang != tt.lang {
				t.Errorf("lang = %q (%v); want %q", lang, err, tt.lang)
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil || wide {
				t.Errorf("the page scrolls sideways on a phone (%v)", err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
				t.Fatalf("inject axe-core: %v", err)
			}
			res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](
				`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})`,
				chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("axe.run: %v", err)
			}
			for _, v := range res.Violations {
				for _, n := range v.Nodes {
					t.Errorf("axe: %s (%s) at %s: %s", v.ID, v.Help, n.HTML, n.Summary)
				}
			}
			passed := map[string]bool{}
			for _, p := range res.Passes {
				passed[p.ID] = true
			}
			t.Logf("axe: %d rules passed, %d violated", len(res.Passes), len(res.Violations))
			for _, rule := range []string{"html-has-lang", "html-lang-valid", "color-contrast", "page-has-heading-one", "document-title"} {
				if !passed[rule] {
					t.Errorf("axe did not pass %s (checked rules: %d)", rule, len(res.Passes))
				}
			}
		})
	}
	mu.Lock()
	if len(foreign) > 0 {
		t.Errorf("the candidate pages requested from elsewhere: %v", foreign)
	}
	mu.Unlock()

	t.Run("InvitationScreenshot", func(t *testing.T) {
		shot(t, c, invitation)
	})
}

// shot renders the HTML part of a received invitation in Chromium, as a
// mail client shows it, and writes it to docs/invitation-de.png when
// EnvUpdateInvitationScreenshot is 1.
func shot(t *testing.T, c *candidatesApp, m mailtest.Message) {
	ctx := browser(t)
	// The message's headers as a mail client shows them, above its HTML
	// part in a frame of its own.
	from := m.From.Address
	if m.From.Name != "" {
		from = m.From.Name + " <" + m.From.Address + ">"
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/html" {
			fmt.Fprint(w, m.HTML)
			return
		}
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>%[1]s</title></head>
<body style="margin: 0; font-family: Arial, sans-serif; font-size: 14px; color: #222;">
<div style="padding: 12px 16px; border-bottom: 1px solid #ddd; background: #fff;">
<div style="font-size: 18px; font-weight: bold; margin-bottom: 6px;">%[1]s</div>
<div><span style="color: #666;">Von:</span> %[2]s</div><div><span style="color: #666;">An:</span> John Doe &lt;john@cand.example&gt;</div></div>
<iframe src="/html" style="border: 0; width: 100%%; height: 560px; display: block;"></iframe></body></html>`,
			html.EscapeString(m.Subject), html.EscapeString(from))
	}))
	t.Cleanup(srv.Close)
	do(t, ctx, "open the invitation", chromedp.EmulateViewport(640, 660), chromedp.Navigate(srv.URL+"/html"))
	if lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || lang != "de" {
		t.Errorf("invitation lang = %q (%v); want de", lang, err)
	}
	do(t, ctx, "open the invitation in its frame", chromedp.Navigate(srv.URL))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(EnvUpdateInvitationScreenshot) == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "invitation-de.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
