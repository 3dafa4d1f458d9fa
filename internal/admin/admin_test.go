package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

const testPassword = "correct horse battery staple"

// testAdmin is the admin pages on a fresh SQLite store, on a stub clock,
// with a River client that is not started.
type testAdmin struct {
	t      *testing.T
	h      *Handler
	st     *store.Store
	clk    *clock.Stub
	remote string // the requests' peer; empty: httptest's 192.0.2.1
}

// trustedProxies is the proxy the tests' requests may come through: the
// admin pages are served behind proxy.Handler, as in assessgate.
var trustedProxies = proxy.Trusted{netip.MustParsePrefix("10.0.0.0/8")}

// replica returns another handler on a's database and clock, as another
// replica of assessgate, with the admin password password.
func (a *testAdmin) replica(password string) *testAdmin {
	a.t.Helper()
	h, err := New(Config{Store: a.st, Logger: a.h.log, Password: password, Jobs: a.h.cfg.Jobs, Now: a.clk.Now})
	if err != nil {
		a.t.Fatal(err)
	}
	return &testAdmin{t: a.t, h: h, st: a.st, clk: a.clk}
}

// from returns a with requests coming from the peer addr.
func (a *testAdmin) from(addr string) *testAdmin {
	b := *a
	b.remote = addr
	return &b
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
	if a.remote != "" {
		r.RemoteAddr = a.remote
	}
	w := httptest.NewRecorder()
	trustedProxies.Handler(a.h).ServeHTTP(w, r)
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

	// Another replica (another handler on the same database) with the
	// same password takes the cookie; another password does not, nor a
	// changed cookie, nor an old one.
	if w := a.replica(testPassword).do("GET", "/admin/", nil, cookie, nil); w.Code != 200 {
		t.Errorf("same password, other replica = %d; want 200", w.Code)
	}
	other := a.replica("another password!")
	if w := other.do("GET", "/admin/", nil, cookie, nil); w.Code != http.StatusSeeOther {
		t.Errorf("other password = %d; want 303 to the sign-in", w.Code)
	}
	if w := a.do("GET", "/admin/", nil, cookie+"x", nil); w.Code != http.StatusSeeOther {
		t.Errorf("tampered cookie = %d; want 303", w.Code)
	}
	a.clk.Advance(SessionTTL)
	if w := a.do("GET", "/admin/", nil, cookie, nil); w.Code != http.StatusSeeOther {
		t.Errorf("expired cookie = %d; want 303", w.Code)
	}

	// The new password's replica, at start-up, ends the old password's
	// sessions.
	fresh := a.login()
	if n, err := other.h.EndStaleSessions(context.Background()); err != nil || n != 1 {
		t.Errorf("EndStaleSessions on the new password = %d, %v; want 1 (the old password's session)", n, err)
	}
	if w := a.do("GET", "/admin/", nil, fresh, nil); w.Code != http.StatusSeeOther {
		t.Errorf("session of the old password after the change = %d; want 303", w.Code)
	}
}

// TestSignOut: signing out ends the session on every replica: the old
// cookie, replayed on another replica, is refused.
func TestSignOut(t *testing.T) {
	a := newTestAdmin(t, false)
	cookie := a.login()
	s := mustSession(t, a, cookie)
	w := a.do("POST", "/admin/logout", url.Values{"csrf": {a.h.csrfToken(s)}}, cookie, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/login?out=1" {
		t.Fatalf("POST /admin/logout = %d %s; want 303 to the sign-in", w.Code, w.Header().Get("Location"))
	}
	for name, h := range map[string]*testAdmin{"same": a, "other": a.replica(testPassword)} {
		if w := h.do("GET", "/admin/", nil, cookie, nil); w.Code != http.StatusSeeOther {
			t.Errorf("signed-out cookie replayed on the %s replica = %d; want 303 to the sign-in", name, w.Code)
		}
		if w := h.do("POST", "/admin/packages/push", url.Values{"csrf": {a.h.csrfToken(s)}}, cookie, nil); w.Code != http.StatusUnauthorized {
			t.Errorf("signed-out cookie's form on the %s replica = %d; want 401", name, w.Code)
		}
	}
}

// TestSessionsPage: an admin sees the active sessions and ends another's,
// whose cookie is refused from then on.
func TestSessionsPage(t *testing.T) {
	a := newTestAdmin(t, false)
	mine := a.login()
	theirs := a.from("198.51.100.9:4000").login()
	s := mustSession(t, a, mine)
	w := a.do("GET", "/admin/sessions", nil, mine, nil)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "198.51.100.9") || !strings.Contains(body, "this session") {
		t.Fatalf("GET /admin/sessions = %d; want both sessions, with their addresses, and this one marked:\n%s", w.Code, body)
	}
	their := mustSession(t, a, theirs)
	if !strings.Contains(body, `/admin/sessions/`+their.ID+`/end`) {
		t.Errorf("sessions page has no form to end the other session")
	}
	w = a.do("POST", "/admin/sessions/"+their.ID+"/end", url.Values{"csrf": {a.h.csrfToken(s)}}, mine, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("end the other session = %d; want 303", w.Code)
	}
	if w := a.do("GET", "/admin/", nil, theirs, nil); w.Code != http.StatusSeeOther {
		t.Errorf("ended session's cookie = %d; want 303 to the sign-in", w.Code)
	}
	if w := a.do("GET", "/admin/", nil, mine, nil); w.Code != 200 {
		t.Errorf("own session after ending another = %d; want 200", w.Code)
	}
}

func TestSafeNext(t *testing.T) {
	a := newTestAdmin(t, false)
	for _, next := range []string{"//evil.example/", "https://evil.example/admin/", "/admin/\\evil", "/api/v1/orders",
		"/admin/\x00x", "/admin/orders\r\nSet-Cookie: x=1", "/admin/../api/v1/orders", "/admin//evil.example", "/admin/./orders",
		"/admin/%2e%2e/api", "/admin/orders\u2028", "/admin/login?next=/admin/", "/\t/evil.example", "/admin/orders#x"} {
		w := a.do("POST", "/admin/login", url.Values{"password": {testPassword}, "next": {next}}, "", nil)
		if loc := w.Header().Get("Location"); loc != "/admin/" {
			t.Errorf("sign-in with next=%q goes to %q; want /admin/", next, loc)
		}
	}
	for _, next := range []string{"/admin/", "/admin/orders", "/admin/orders/o-1", "/admin/orders?state=failed&cursor=abc", "/admin/dead-letters/"} {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q; want it kept", next, got)
		}
	}
}

// TestSignIn_Throttled: a flood of wrong passwords from one client (behind
// the trusted proxy) slows that client only: the right password from
// another client signs in at once, and from the flooding client once its
// delay is over; the delay grows with the failures, and every replica
// counts the same attempts.
func TestSignIn_Throttled(t *testing.T) {
	a := newTestAdmin(t, false)
	replicas := []*testAdmin{a.from("10.0.0.1:1000"), a.replica(testPassword).from("10.0.0.2:1000")}
	attacker := map[string]string{"X-Forwarded-For": "203.0.113.66"}
	admin := map[string]string{"X-Forwarded-For": "198.51.100.7"}
	try := func(i int, password string, hd map[string]string) *httptest.ResponseRecorder {
		return replicas[i%2].do("POST", "/admin/login", url.Values{"password": {password}}, "", hd)
	}

	refused, lastWait := 0, 0
	for i := range 60 {
		w := try(i, "guess", attacker)
		switch w.Code {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
			wait, err := strconv.Atoi(w.Header().Get("Retry-After"))
			if err != nil || wait < 1 || !strings.Contains(w.Body.String(), "try again in") {
				t.Fatalf("429 with Retry-After %q; want a number of seconds, and the page saying so", w.Header().Get("Retry-After"))
			}
			if wait < lastWait {
				t.Errorf("wait fell from %d s to %d s", lastWait, wait)
			}
			lastWait = wait
			a.clk.Advance(time.Duration(wait) * time.Second)
		default:
			t.Fatalf("guess %d = %d; want 401 or 429", i, w.Code)
		}
		// Another client is never slowed by the flood.
		if i%10 == 9 {
			if w := try(i, testPassword, admin); w.Code != http.StatusSeeOther {
				t.Fatalf("the right password from another client, during the flood = %d; want 303", w.Code)
			}
		}
	}
	if refused == 0 || lastWait < 60 {
		t.Errorf("60 wrong guesses from one client: %d refused, last wait %d s; want the wait to grow past a minute", refused, lastWait)
	}
	if lastWait > int(MaxSignInDelay.Seconds()) {
		t.Errorf("wait %d s; want at most %s", lastWait, MaxSignInDelay)
	}

	// The right password from the flooding client, during its delay: asked
	// to wait (the password is not even looked at); after it: signed in.
	if w := try(0, testPassword, attacker); w.Code != http.StatusTooManyRequests {
		t.Errorf("right password from the flooding client during its delay = %d; want 429", w.Code)
	}
	a.clk.Advance(MaxSignInDelay)
	if w := try(1, testPassword, attacker); w.Code != http.StatusSeeOther {
		t.Errorf("right password from the flooding client after its delay = %d; want 303", w.Code)
	}
	// Signed in, the client is forgiven.
	for i := range FreeSignInAttempts {
		if w := try(i, "guess", attacker); w.Code != http.StatusUnauthorized {
			t.Errorf("guess %d after a sign-in = %d; want 401 at once", i, w.Code)
		}
	}

	// X-Forwarded-For from an untrusted peer is not believed: rotating it
	// does not escape the delay.
	direct := a.from("192.0.2.50:1000")
	for i := range FreeSignInAttempts + 1 {
		direct.do("POST", "/admin/login", url.Values{"password": {"guess"}}, "", map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)})
	}
	if w := direct.do("POST", "/admin/login", url.Values{"password": {"guess"}}, "", map[string]string{"X-Forwarded-For": "198.51.100.200"}); w.Code != http.StatusTooManyRequests {
		t.Errorf("guess from an untrusted peer with a new X-Forwarded-For = %d; want 429", w.Code)
	}
}

func TestSignInDelay(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{{1, 0}, {FreeSignInAttempts, 0}, {FreeSignInAttempts + 1, time.Second}, {FreeSignInAttempts + 2, 2 * time.Second},
		{FreeSignInAttempts + 10, 512 * time.Second}, {FreeSignInAttempts + 11, MaxSignInDelay}, {FreeSignInAttempts + 1000, MaxSignInDelay}} {
		if got := signInDelay(tt.n); got != tt.want {
			t.Errorf("signInDelay(%d) = %s; want %s", tt.n, got, tt.want)
		}
	}
	if got := throttleKey("2001:db8:1:2:3:4:5:6"); got != "2001:db8:1:2::/64" {
		t.Errorf("throttleKey(IPv6) = %q; want its /64", got)
	}
}

// TestSecureCookie: the cookie is Secure behind a trusted proxy that says
// https, not when an untrusted client says so.
func TestSecureCookie(t *testing.T) {
	a := newTestAdmin(t, false)
	https := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
	for _, tt := range []struct {
		remote string
		want   bool
	}{{"10.0.0.1:1000", true}, {"192.0.2.1:1000", false}} {
		w := a.from(tt.remote).do("POST", "/admin/login", url.Values{"password": {testPassword}}, "", https)
		c := w.Result().Cookies()
		if len(c) != 1 || c[0].Secure != tt.want {
			t.Errorf("sign-in from %s with X-Forwarded-Proto: https: cookies %+v; want one, Secure %v", tt.remote, c, tt.want)
		}
	}
}

func TestCSRF(t *testing.T) {
	a := newTestAdmin(t, false)
	cookie := a.login()
	good := a.h.csrfToken(mustSession(t, a, cookie))
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
	// The filter form is POSTed, so the address stays out of URLs.
	csrf := a.h.csrfToken(mustSession(t, a, cookie))
	if w := a.do("POST", "/admin/orders", url.Values{"csrf": {csrf}, "email": {"ada@example.com"}}, cookie, nil); w.Code != 200 ||
		!strings.Contains(w.Body.String(), `href="/admin/orders/o-1"`) || !strings.Contains(w.Body.String(), `<form method="post" action="/admin/orders"`) {
		t.Errorf("POST /admin/orders by e-mail = %d; want o-1 listed, and the form POSTing", w.Code)
	}
	if w := a.do("POST", "/admin/orders", url.Values{"csrf": {csrf}, "email": {"bob@example.com"}}, cookie, nil); strings.Contains(w.Body.String(), `href="/admin/orders/o-1"`) {
		t.Errorf("POST /admin/orders by another address lists o-1")
	}
	if w := a.do("POST", "/admin/orders", url.Values{"email": {"ada@example.com"}}, cookie, nil); w.Code != http.StatusForbidden {
		t.Errorf("POST /admin/orders without a CSRF token = %d; want 403", w.Code)
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
	r := httptest.NewRequest("GET", "/admin/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	s, err := a.h.session(r)
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

// TestParkedWork: work parked for an integration's setup or for
// KOMBO_API_KEY shows on the overview and, for a write-back, on its order's
// page, with Kombo's code, the reason and the log link.
func TestParkedWork(t *testing.T) {
	a := newTestAdmin(t, false)
	ctx := context.Background()
	if err := a.st.ConnectIntegration(ctx, &orders.Integration{ID: "greenhouse:1", Tool: "greenhouse", OrganizationName: "Acme",
		OriginID: new("acme"), State: kombo.IntegrationStateActive}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.st.CreateOrder(ctx, &kombo.Order{ID: "o-parked", IntegrationID: "greenhouse:1", PackageID: "p", Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{Email: "ada@example.com"}}, orders.SourceWebhook); err != nil {
		t.Fatal(err)
	}
	at := kombo.FormatTime(a.clk.Now())
	if _, _, err := a.st.AcceptResult(ctx, "o-parked", &kombo.ResultRequest{Status: kombo.OrderStatusCompleted, ResultURL: "https://vendor.example/r", CompletedAt: &at}); err != nil {
		t.Fatal(err)
	}
	cookie := a.login()
	if body := a.do("GET", "/admin/", nil, cookie, nil).Body.String(); !strings.Contains(body, "Nothing is parked.") {
		t.Errorf("overview without parked work lacks %q", "Nothing is parked.")
	}
	if _, err := a.st.Park(ctx, &orders.Parked{JobID: 7, Kind: "writeback", IntegrationID: "greenhouse:1", OrderID: "o-parked",
		Code: kombo.CodeSetupIncomplete, Reason: "The setup is incomplete.", LogURL: "https://app.kombo.dev/logs/7"}); err != nil {
		t.Fatal(err)
	}
	overview := a.do("GET", "/admin/", nil, cookie, nil).Body.String()
	page := a.do("GET", "/admin/orders/o-parked", nil, cookie, nil).Body.String()
	for name, body := range map[string]string{"overview": overview, "order page": page} {
		for _, want := range []string{"parked", kombo.CodeSetupIncomplete, "The setup is incomplete.", `href="https://app.kombo.dev/logs/7"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
	if !strings.Contains(overview, `href="/admin/orders/o-parked"`) || !strings.Contains(page, `id="writeback-parked"`) {
		t.Errorf("overview does not link the order, or the order page does not show its parked write-back")
	}
	// The integrations page counts the integration's parked work.
	if body := a.do("GET", "/admin/integrations", nil, cookie, nil).Body.String(); !strings.Contains(body, `<span class="badge warn">1</span>`) {
		t.Errorf("integrations page does not count the parked write-back of greenhouse:1")
	}
}
