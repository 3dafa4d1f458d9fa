package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

const testPassword = "correct horse battery staple"

// testAdmin is the admin pages on a fresh SQLite store, on a stub clock,
// with a River client that is not started.
type testAdmin struct {
	t   *testing.T
	h   *Handler
	st  *store.Store
	clk *clock.Stub
}

func newTestAdmin(t *testing.T, secure bool) *testAdmin {
	t.Helper()
	return newTestAdminOn(t, storetest.SQLite(t), func(c *Config) { c.SecureCookies = secure })
}

// newTestAdminOn is newTestAdmin on the database d, with the Config changed
// by edit. River's client knows the push_packages worker, to insert pushes.
func newTestAdminOn(t *testing.T, d storetest.Database, edit func(*Config)) *testAdmin {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.NewStub(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	st := store.New(storetest.Open(t, d), store.Config{Logger: logger, Clock: clk})
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.PushPackagesWorker{}) // never started: inserts only
	client, err := jobs.NewClient(jobs.Config{DB: st.DB(), Store: st, Logger: logger, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Jobs: client, Logger: logger, Password: testPassword, Now: clk.Now}
	edit(&cfg)
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testAdmin{t: t, h: h, st: st, clk: clk}
}

// do serves a request; form, if not nil, is sent as a POST body.
func (a *testAdmin) do(method, target string, form url.Values, cookie string, header map[string]string) *httptest.ResponseRecorder {
	a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

// login signs in and returns the session cookie's value.
func (a *testAdmin) login() string {
	a.t.Helper()
	w := a.do("POST", "/admin/login", url.Values{"password": {testPassword}, "next": {"/admin/orders"}}, "", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/orders" {
		a.t.Fatalf("POST /admin/login = %d %s; want 303 to /admin/orders", w.Code, w.Header().Get("Location"))
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c.Value
		}
	}
	a.t.Fatal("no session cookie after sign-in")
	return ""
}

func TestNew_Password(t *testing.T) {
	for _, p := range []string{"", "short"} {
		if _, err := New(Config{Password: p}); err == nil || !strings.Contains(err.Error(), "ASSESSGATE_ADMIN_PASSWORD") {
			t.Errorf("New(password %q) = %v; want an error naming ASSESSGATE_ADMIN_PASSWORD", p, err)
		}
	}
}

func TestSignIn(t *testing.T) {
	a := newTestAdmin(t, true)

	// Without a session: pages go to the sign-in, forms are refused.
	w := a.do("GET", "/admin/orders?email=x%40example.com", nil, "", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/login?next=%2Fadmin%2Forders%3Femail%3Dx%2540example.com" {
		t.Errorf("GET without a session = %d %q; want 303 to the sign-in, coming back after", w.Code, w.Header().Get("Location"))
	}
	if w := a.do("POST", "/admin/packages/push", url.Values{"csrf": {"x"}}, "", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("POST without a session = %d; want 401", w.Code)
	}
	if w := a.do("GET", "/admin/login", nil, "", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `type="password"`) {
		t.Errorf("GET /admin/login = %d; want the form", w.Code)
	}

	w = a.do("POST", "/admin/login", url.Values{"password": {"wrong"}}, "", nil)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Wrong password") || len(w.Result().Cookies()) != 0 {
		t.Errorf("wrong password = %d; want 401, a message and no cookie", w.Code)
	}

	cookie := a.login()
	var c *http.Cookie
	w = a.do("POST", "/admin/login", url.Values{"password": {testPassword}}, "", nil)
	for _, ck := range w.Result().Cookies() {
		c = ck
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin/" || c.MaxAge != int(SessionTTL.Seconds()) {
		t.Errorf("cookie = %+v; want HttpOnly, Secure, SameSite=Strict, Path /admin/, 12h", c)
	}
	if w := a.do("GET", "/admin/", nil, cookie, nil); w.Code != 200 || !strings.Contains(w.Body.String(), "Overview") {
		t.Errorf("GET /admin/ signed in = %d", w.Code)
	}

	// Another replica with the same password takes the cookie; another
	// password does not, nor a changed cookie, nor an old one.
	b := newTestAdmin(t, false)
	if w := b.do("GET", "/admin/", nil, cookie, nil); w.Code != 200 {
		t.Errorf("same password, other handler = %d; want 200", w.Code)
	}
	other, err := New(Config{Store: a.st, Logger: a.h.log, Password: "another password!", Jobs: a.h.cfg.Jobs})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/admin/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	rec := httptest.NewRecorder()
	other.ServeHTTP(rec, r)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("other password = %d; want 303 to the sign-in", rec.Code)
	}
	tampered := strings.Replace(cookie, "v1.", "v1.9", 1)
	if w := a.do("GET", "/admin/", nil, tampered, nil); w.Code != http.StatusSeeOther {
		t.Errorf("tampered cookie = %d; want 303", w.Code)
	}
	a.clk.Advance(SessionTTL)
	if w := a.do("GET", "/admin/", nil, cookie, nil); w.Code != http.StatusSeeOther {
		t.Errorf("expired cookie = %d; want 303", w.Code)
	}

	// Sign-in goes only to admin pages.
	for _, next := range []string{"//evil.example/", "https://evil.example/admin/", "/admin/\\evil", "/api/v1/orders"} {
		w := a.do("POST", "/admin/login", url.Values{"password": {testPassword}, "next": {next}}, "", nil)
		if loc := w.Header().Get("Location"); loc != "/admin/" {
			t.Errorf("sign-in with next=%q goes to %q; want /admin/", next, loc)
		}
	}
}

func TestSignIn_RateLimited(t *testing.T) {
	a := newTestAdmin(t, false)
	for i := range maxFailures {
		if w := a.do("POST", "/admin/login", url.Values{"password": {"guess"}}, "", nil); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d; want 401", i+1, w.Code)
		}
	}
	w := a.do("POST", "/admin/login", url.Values{"password": {testPassword}}, "", nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || len(w.Result().Cookies()) != 0 {
		t.Errorf("sign-in after %d failures = %d; want 429 with Retry-After, even with the right password", maxFailures, w.Code)
	}
	a.clk.Advance(failureWindow + time.Second)
	a.login()
}

func TestCSRF(t *testing.T) {
	a := newTestAdmin(t, false)
	cookie := a.login()
	s, err := a.h.parseSession(cookie)
	if err != nil {
		t.Fatal(err)
	}
	good := a.h.csrfToken(s)
	for _, tt := range []struct {
		name   string
		form   url.Values
		header map[string]string
		status int
	}{
		{"NoToken", url.Values{}, nil, http.StatusForbidden},
		{"BadToken", url.Values{"csrf": {"forged"}}, nil, http.StatusForbidden},
		{"OtherSessionsToken", url.Values{"csrf": {a.h.csrfToken(session{ID: "other"})}}, nil, http.StatusForbidden},
		{"CrossOrigin", url.Values{"csrf": {good}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"CrossOriginHeader", url.Values{"csrf": {good}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"Good", url.Values{"csrf": {good}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do("POST", "/admin/packages/push", tt.form, cookie, tt.header)
			if w.Code != tt.status {
				t.Errorf("POST /admin/packages/push = %d %s; want %d", w.Code, w.Body, tt.status)
			}
		})
	}
	// The pages' forms carry the token.
	if w := a.do("GET", "/admin/packages", nil, cookie, nil); !strings.Contains(w.Body.String(), `name="csrf" value="`+good+`"`) {
		t.Errorf("packages page has no CSRF token in its form")
	}
}

func TestOrderPage_Escapes(t *testing.T) {
	a := newTestAdmin(t, false)
	ctx := context.Background()
	first, job := `<img src=x onerror=alert(1)>`, `Engineer "<b>bold</b>"`
	desc := `<p>Build <b>things</b> &amp; more.</p><script>alert("x")</script><ul><li>Go</li><li>SQL</li></ul>`
	if _, _, err := a.st.CreateOrder(ctx, &kombo.Order{ID: "o-1", IntegrationID: "greenhouse:1", PackageID: "p", Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{Email: "ada@example.com", FirstName: &first},
		Job:       kombo.Job{Name: &job, Description: &desc}}, orders.SourceWebhook); err != nil {
		t.Fatal(err)
	}
	cookie := a.login()
	w := a.do("GET", "/admin/orders/o-1", nil, cookie, nil)
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("GET order = %d", w.Code)
	}
	for _, bad := range []string{"<img", "<b>bold", "<script", "alert(\"x\")"} {
		if strings.Contains(body, bad) {
			t.Errorf("order page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "Build things &amp; more.\n\nGo\nSQL", "order.received"} {
		if !strings.Contains(body, want) {
			t.Errorf("order page lacks %q", want)
		}
	}
	if w := a.do("GET", "/admin/orders/nope", nil, cookie, nil); w.Code != http.StatusNotFound {
		t.Errorf("GET unknown order = %d; want 404", w.Code)
	}
	if w := a.do("GET", "/admin/orders?state=lost", nil, cookie, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "state") {
		t.Errorf("GET orders?state=lost = %d; want 400 naming the filter", w.Code)
	}
	if w := a.do("GET", "/admin/orders?email=ADA%40example.com", nil, cookie, nil); !strings.Contains(w.Body.String(), `href="/admin/orders/o-1"`) {
		t.Errorf("orders filtered by e-mail do not list o-1")
	}
	if w := a.do("POST", "/admin/dead-letters/abc/retry", url.Values{"csrf": {a.h.csrfToken(mustSession(t, a, cookie))}}, cookie, nil); w.Code != http.StatusBadRequest {
		t.Errorf("retry of job abc = %d; want 400", w.Code)
	}
	if w := a.do("POST", "/admin/dead-letters/999/retry", url.Values{"csrf": {a.h.csrfToken(mustSession(t, a, cookie))}}, cookie, nil); w.Code != http.StatusNotFound {
		t.Errorf("retry of an unknown job = %d; want 404", w.Code)
	}
	for _, p := range []string{"/admin/", "/admin/dead-letters", "/admin/integrations", "/admin/packages"} {
		if w := a.do("GET", p, nil, cookie, nil); w.Code != 200 || w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s = %d, CSP %q; want 200 with a CSP", p, w.Code, w.Header().Get("Content-Security-Policy"))
		}
	}
	if w := a.do("GET", "/admin/static/admin.css", nil, "", nil); w.Code != 200 {
		t.Errorf("GET admin.css = %d; want 200 without a session", w.Code)
	}
}

func mustSession(t *testing.T, a *testAdmin, cookie string) session {
	t.Helper()
	s, err := a.h.parseSession(cookie)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHTMLToText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"<p>One</p><p>Two &lt;3</p>", "One\n\nTwo <3"},
		{"a<br>b<br/>c", "a\nb\nc"},
		{"<style>p{}</style>x<SCRIPT>bad()</SCRIPT>y", "xy"},
		{"x<unclosed", "x"},
		{"<ul>\n<li>A</li>\n<li>B</li>\n</ul>after", "A\nB\n\nafter"},
		{"two\n  words <b>bold</b>, then", "two words bold, then"},
		{"  ", ""},
	} {
		if got := htmlToText(tt.in); got != tt.want {
			t.Errorf("htmlToText(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzHTMLToText feeds job descriptions, which come from any ATS, to the
// converter: it never panics, and leaves no tag of the input behind.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"<p>We are looking for <b>you</b> &amp; more.</p>", "<ul><li>a<li>b</ul>", "<script>x</script", "a<", "&lt;b&gt;", "<br/><BR>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := htmlToText(s)
		if strings.Contains(got, "\n\n\n") {
			t.Errorf("htmlToText(%q) = %q: more than one blank line", s, got)
		}
		if !strings.Contains(s, "&") && strings.ContainsAny(got, "<>") && !strings.ContainsAny(s, ">") {
			t.Errorf("htmlToText(%q) = %q: a tag survived", s, got)
		}
	})
}
