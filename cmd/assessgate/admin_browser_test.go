package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// EnvChromium names the environment variable with the path of the Chromium
// the browser tests drive (Debian's: /usr/bin/chromium).
const EnvChromium = "ASSESSGATE_TEST_CHROMIUM"

// EnvUpdateScreenshot, set to 1, makes the browser test write the order
// page's screenshot to docs/order-page.png, which the README shows.
const EnvUpdateScreenshot = "ASSESSGATE_UPDATE_SCREENSHOT"

const testAdminPassword = "admin-password-for-tests"

// browser starts a headless Chromium for the test, or skips the test
// without one (fails it in CI). The flags keep Chromium off the network: the
// machine has none, and Chromium would keep trying.
func browser(t *testing.T) context.Context {
	t.Helper()
	storetest.RequireInCI(t, EnvChromium)
	bin := os.Getenv(EnvChromium)
	if bin == "" {
		storetest.Skipped(EnvChromium)
		t.Skipf("browser test skipped: %s is not set (apt-get install chromium, then %s=/usr/bin/chromium)", EnvChromium, EnvChromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}

// do runs browser actions and fails the test on an error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// submit runs steps that submit a form and returns the response of the page
// that loads.
func submit(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// placeCandidateOrder orders an assessment for a named candidate (the seed
// order otherwise), and gives the fake Kombo the same order.
func placeCandidateOrder(t *testing.T, a *app, fake *kombotest.Server, orderID, first, last, email string) {
	t.Helper()
	placeEditedOrder(t, a, fake, orderID, func(d map[string]any) {
		c := d["candidate"].(map[string]any)
		c["first_name"], c["last_name"], c["email"] = first, last, email
	})
}

// TestAdmin_Browser drives the admin pages in Chromium as a support engineer
// would: sign in, find an order by e-mail, read its timeline, see a
// write-back dead-lettered, retry it once Kombo is fixed and see it
// delivered, see the session listed, sign out; and shows that pages and
// forms refuse requests without a session or with a forged CSRF token, and
// a signed-out session's cookie replayed afterwards.
func TestAdmin_Browser(t *testing.T) {
	ctx := browser(t)
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), map[string]string{"ASSESSGATE_ADMIN_PASSWORD": testAdminPassword})
	created := `{"id":"ev-integ","type":"integration-created","data":{"id":"` + testIntegration +
		`","tool":"workday","category":"ASSESSMENT","end_user":{"organization_name":"Acme Corp","creator_email":null,"origin_id":"acme-1"}}}`
	if status, resp := a.webhook([]byte(created)); status != http.StatusOK {
		t.Fatalf("integration-created = %d %s", status, resp)
	}
	placeCandidateOrder(t, a, fake, "order-ada", "Ada", "Lovelace", "ada@example.com")
	placeCandidateOrder(t, a, fake, "order-bob", "Bob", "Kahn", "bob@example.com")

	// Kombo refuses the write-back for a failed QA, which needs the
	// customer: it becomes a dead letter at once.
	fake.FailWhen(func(r *http.Request) *kombotest.Fault {
		if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/result") {
			return nil // the package push goes through
		}
		return &kombotest.Fault{Status: http.StatusConflict, Code: kombo.CodeQAFailed, Message: "The integration failed Kombo's QA."}
	})
	if status, got := putResult(t, a, "order-ada", fixture(t, "request-put-order-result-completed.json")); status != http.StatusAccepted {
		t.Fatalf("PUT result = %d %v", status, got)
	}
	wait.For(t, 20*time.Second, "the dead letter", func() bool {
		kinds, _ := a.timeline("order-ada")
		return contains(kinds, "dead_letter")
	})

	// Without a session, pages go to the sign-in and forms are refused.
	do(t, ctx, "open the orders", chromedp.Navigate(a.URL+"/admin/orders"))
	if u := location(t, ctx); u.Path != "/admin/login" || u.Query().Get("next") != "/admin/orders" {
		t.Errorf("without a session the orders page went to %s; want the sign-in, coming back after", u)
	}
	resp, err := http.PostForm(a.URL+"/admin/dead-letters/retry", url.Values{"kind": {"writeback"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST retry without a session = %d; want 401", resp.StatusCode)
	}

	// Sign in: a wrong password first.
	r := submit(t, ctx, "sign in wrongly",
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")))
	if r.Status != http.StatusUnauthorized || !strings.Contains(text(t, ctx, "main"), "Wrong password") {
		t.Errorf("wrong password = %d %q; want 401 saying so", r.Status, text(t, ctx, "main"))
	}
	r = submit(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#password"), testAdminPassword),
		chromedp.Click(chromedp.CSS("main button[type=submit]")))
	if u := location(t, ctx); r.Status != http.StatusOK || u.Path != "/admin/orders" {
		t.Fatalf("sign-in = %d at %s; want the orders page", r.Status, u)
	}

	// Find the order by e-mail.
	submit(t, ctx, "filter by e-mail",
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), "ada@example.com"),
		chromedp.Click(chromedp.CSS("form.filters button[type=submit]")))
	list := text(t, ctx, "table.orders tbody")
	if !strings.Contains(list, "order-ada") || strings.Contains(list, "order-bob") || !strings.Contains(list, "Ada Lovelace") {
		t.Errorf("orders for ada@example.com = %q; want order-ada only", list)
	}
	if u := location(t, ctx); strings.Contains(u.String(), "ada") {
		t.Errorf("after the e-mail search the address is in the URL %s; want it POSTed", u)
	}

	// Its timeline: the failed write-back, with Kombo's code.
	submit(t, ctx, "open the order", chromedp.Click(chromedp.CSS(`a[href="/admin/orders/order-ada"]`)))
	timeline := text(t, ctx, "ol.timeline")
	for _, want := range []string{"order.received", "Kombo PUT /assessment/orders/{id}/result → HTTP 409 INTEGRATION.QA_FAILED", "dead_letter"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	do(t, ctx, "open the description", chromedp.Click(chromedp.CSS("details summary")))
	if page := text(t, ctx, "main"); !strings.Contains(page, "Bottle Opener") || !strings.Contains(page, "We are looking for a skilled") || strings.Contains(page, "<p>") {
		t.Errorf("order page does not show the job, with its description as text")
	}

	// The dead letter, with a forged CSRF token: refused.
	do(t, ctx, "open the dead letters", chromedp.Navigate(a.URL+"/admin/dead-letters"))
	if rows := text(t, ctx, "table.dead-letters tbody"); !strings.Contains(rows, "order-ada") || !strings.Contains(rows, kombo.CodeQAFailed) {
		t.Fatalf("dead letters = %q; want order-ada's write-back with Kombo's code", rows)
	}
	r = submit(t, ctx, "retry with a forged token",
		chromedp.SetValue(chromedp.CSS("table.dead-letters input[name=csrf]"), "forged-token"),
		chromedp.Click(chromedp.CSS("table.dead-letters button[type=submit]")))
	if r.Status != http.StatusForbidden || !strings.Contains(text(t, ctx, "main"), "security token") {
		t.Errorf("retry with a forged CSRF token = %d %q; want 403", r.Status, text(t, ctx, "main"))
	}
	if n := len(resultRequests(fake, "order-ada")); n != 1 {
		t.Errorf("result requests after the forged retry = %d; want 1 (no retry)", n)
	}

	// Kombo is fixed: retry, and see it delivered.
	fake.ClearFaults()
	do(t, ctx, "open the dead letters", chromedp.Navigate(a.URL+"/admin/dead-letters"))
	r = submit(t, ctx, "retry", chromedp.Click(chromedp.CSS("table.dead-letters button[type=submit]")))
	if flash := text(t, ctx, ".flash"); r.Status != http.StatusOK || !strings.Contains(flash, "Retried 1 dead letter") {
		t.Errorf("retry = %d %q; want the page saying it retried", r.Status, flash)
	}
	wait.Until(t, 20*time.Second, "result.delivered on the order page after the retry", func() string {
		do(t, ctx, "open the order", chromedp.Navigate(a.URL+"/admin/orders/order-ada"))
		return text(t, ctx, "ol.timeline")
	}, func(timeline string) bool { return strings.Contains(timeline, "result.delivered") })
	if page := text(t, ctx, "main"); !strings.Contains(page, "dead_letter.replayed") || !strings.Contains(page, "HTTP 200") {
		t.Errorf("order page after the retry lacks the replay and the 200")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if os.Getenv(EnvUpdateScreenshot) == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "order-page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The overview and the other pages show what happened.
	do(t, ctx, "open the overview", chromedp.Navigate(a.URL+"/admin/"))
	if o := text(t, ctx, "main"); !strings.Contains(o, "Write-back errors in the last 24 hours") || !strings.Contains(o, "order-ada") {
		t.Errorf("overview = %q; want the write-back error of order-ada", o)
	}
	do(t, ctx, "open the integrations", chromedp.Navigate(a.URL+"/admin/integrations"))
	if p := text(t, ctx, "main"); !strings.Contains(p, testIntegration) || !strings.Contains(p, "Acme Corp") {
		t.Errorf("integrations = %q; want %s of Acme Corp", p, testIntegration)
	}

	// The sessions page lists this one.
	do(t, ctx, "open the sessions", chromedp.Navigate(a.URL+"/admin/sessions"))
	if p := text(t, ctx, "table.sessions tbody"); !strings.Contains(p, "this session") || !strings.Contains(p, "127.0.0.1") {
		t.Errorf("sessions = %q; want this session, from 127.0.0.1", p)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{a.URL + "/admin/"}})
	if err != nil {
		t.Fatal(err)
	}
	var old string
	for _, c := range cookies.Cookies {
		if c.Name == "assessgate_admin" {
			old = c.Value
		}
	}
	if old == "" || !replayAdmin(t, a, old) {
		t.Fatalf("the browser's session cookie %q does not open /admin/ outside the browser", old)
	}

	// Signing out ends the session: in the browser, and for a copy of its
	// cookie replayed afterwards.
	submit(t, ctx, "sign out", chromedp.Click(chromedp.CSS("form.logout button")))
	do(t, ctx, "open the overview", chromedp.Navigate(a.URL+"/admin/"))
	if u := location(t, ctx); u.Path != "/admin/login" {
		t.Errorf("after signing out /admin/ went to %s; want the sign-in", u)
	}
	if replayAdmin(t, a, old) {
		t.Errorf("the signed-out session's cookie, replayed, still opens /admin/; want it refused")
	}
}

// replayAdmin reports whether GET /admin/ with the session cookie value
// answers the page (true) or sends to the sign-in (false).
func replayAdmin(t *testing.T, a *app, cookie string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+"/admin/", nil)
	req.AddCookie(&http.Cookie{Name: "assessgate_admin", Value: cookie})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return true
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/admin/login"):
		return false
	}
	t.Fatalf("GET /admin/ with a session cookie = %d %s; want 200 or 303 to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	return false
}
