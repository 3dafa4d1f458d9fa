package main

import (
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/admin"
	"github.com/assessgate/assessgate/internal/store/storetest"
)

// TestReplicas_AdminSessions runs two assessgate processes on one Postgres
// behind a (pretend) proxy on loopback: a session signed in on one is
// taken by the other; once signed out on the first, its cookie replayed
// on the second is refused. Failed sign-ins count on every replica: a
// client guessing on both is slowed on both, while the right password from
// another client signs in.
func TestReplicas_AdminSessions(t *testing.T) {
	pg, ok := storetest.Postgres(t)
	if !ok {
		storetest.RequireInCI(t, storetest.EnvPostgres)
		t.Skipf("two replicas need a shared Postgres: set %s", storetest.EnvPostgres)
	}
	bin := buildAssessgate(t)
	env := []string{
		"KOMBO_WEBHOOK_SECRET=" + testSecret,
		"ASSESSGATE_API_TOKEN=" + testToken,
		"ASSESSGATE_DATABASE_URL=" + pg.URL,
		"ASSESSGATE_ADDR=127.0.0.1:0",
		"ASSESSGATE_ADMIN_PASSWORD=" + testAdminPassword,
		"ASSESSGATE_TRUSTED_PROXIES=127.0.0.1",
	}
	cmd := exec.Command(bin, "migrate")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	one, two := startReplica(t, bin, "replica-1", env), startReplica(t, bin, "replica-2", env)

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(r *replica, method, path string, form url.Values, cookie, forwardedFor string) *http.Response {
		t.Helper()
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, r.url+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "assessgate_admin", Value: cookie})
		}
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	signIn := func(r *replica, password, from string) (*http.Response, string) {
		resp := do(r, "POST", "/admin/login", url.Values{"password": {password}}, "", from)
		for _, c := range resp.Cookies() {
			if c.Name == "assessgate_admin" && c.Value != "" {
				return resp, c.Value
			}
		}
		return resp, ""
	}

	resp, cookie := signIn(one, testAdminPassword, "198.51.100.7")
	if resp.StatusCode != http.StatusSeeOther || cookie == "" {
		t.Fatalf("sign-in on replica-1 = %d, cookie %q; want 303 with a session", resp.StatusCode, cookie)
	}
	if resp := do(two, "GET", "/admin/", nil, cookie, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session on replica-2 = %d; want 200", resp.StatusCode)
	}

	// Sign out on replica-1, with the form's CSRF token.
	req, _ := http.NewRequest("GET", one.url+"/admin/", nil)
	req.AddCookie(&http.Cookie{Name: "assessgate_admin", Value: cookie})
	page, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(html)
	if m == nil {
		t.Fatal("no CSRF token on the overview page")
	}
	if resp := do(one, "POST", "/admin/logout", url.Values{"csrf": {string(m[1])}}, cookie, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on replica-1 = %d; want 303", resp.StatusCode)
	}
	for _, r := range []*replica{two, one} {
		resp := do(r, "GET", "/admin/", nil, cookie, "")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
			t.Errorf("signed-out cookie replayed on %s = %d %s; want 303 to the sign-in", r.name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// A client guessing on both replicas: its free attempts are shared,
	// then it must wait on either; another client is not slowed.
	replicas := []*replica{one, two}
	for i := range admin.FreeSignInAttempts {
		if resp, _ := signIn(replicas[i%2], "guess", "203.0.113.66"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d; want 401", i+1, resp.StatusCode)
		}
	}
	signIn(one, "guess", "203.0.113.66") // the first that costs a wait
	for _, r := range replicas {
		if resp, _ := signIn(r, testAdminPassword, "203.0.113.66"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("the guessing client on %s = %d; want 429 with Retry-After", r.name, resp.StatusCode)
		}
		if resp, c := signIn(r, testAdminPassword, "198.51.100.8"); resp.StatusCode != http.StatusSeeOther || c == "" {
			t.Errorf("the right password from another client on %s = %d; want 303 with a session", r.name, resp.StatusCode)
		}
	}
}
