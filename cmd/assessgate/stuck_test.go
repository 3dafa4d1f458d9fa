package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// metric returns the value of a metric line (name with labels) in a scrape
// of /metrics, or "" if it is not there.
func (a *app) metric(line string) string {
	a.t.Helper()
	status, body := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
	if status != http.StatusOK {
		a.t.Fatalf("GET /metrics = %d", status)
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, line+" "); ok {
			return v
		}
	}
	return ""
}

func (a *app) stuckOrders() []store.StuckOrder {
	a.t.Helper()
	var list struct {
		Data []store.StuckOrder `json:"data"`
	}
	if status := a.api("GET", "/api/v1/stuck-orders", nil, &list); status != http.StatusOK {
		a.t.Fatalf("GET /api/v1/stuck-orders = %d", status)
	}
	return list.Data
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// adminPost signs in to the admin pages, reads the CSRF token from page and
// posts an empty form (but for the token) to path; it returns the page,
// the status and the redirect's location.
func (a *app) adminPost(page, path string) (string, int, string) {
	a.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(a.URL+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader("password="+testAdminPassword))
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	get, _ := http.NewRequest("GET", a.URL+page, nil)
	get.AddCookie(cookies[0])
	resp, err = client.Do(get)
	if err != nil {
		a.t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindStringSubmatch(string(html))
	if m == nil {
		a.t.Fatalf("GET %s = %d: no CSRF token on the page", page, resp.StatusCode)
	}
	post, _ := http.NewRequest("POST", a.URL+path, strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(cookies[0])
	resp, err = client.Do(post)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return string(html), resp.StatusCode, resp.Header.Get("Location")
}

// An order Kombo holds OPEN that assessgate refused shows on the stuck list,
// in the API, on the admin overview and in /metrics; closing it from the
// admin page reaches Kombo as a CANCELLED result, and one fixed at Kombo is
// taken by a retry.
func TestStuckOrders(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a, fake := startWithKombo(t, dbURL, map[string]string{
			"ASSESSGATE_ADMIN_PASSWORD": testAdminPassword, "ASSESSGATE_PUBLIC_URL": testPublicURL,
		})
		const gh = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"
		a.webhook(fixture(t, "webhook-integration-created.json"))

		// stuck-1 comes by webhook and is refused; stuck-2 only the
		// reconciler finds. Both have an address that is not one.
		for _, id := range []string{"stuck-1", "stuck-2"} {
			body := orderBody(t, "ev-"+id, id, func(d map[string]any) {
				d["candidate"].(map[string]any)["email"] = "Maria <maria@example.com>"
			})
			var w struct{ Data kombo.Order }
			if err := json.Unmarshal(body, &w); err != nil {
				t.Fatal(err)
			}
			fake.AddOrder(gh, w.Data)
			if id == "stuck-1" {
				status, resp := a.webhook(body)
				if status != http.StatusUnprocessableEntity || !strings.Contains(string(resp), "e-mail address") || !strings.Contains(string(resp), "data.candidate.email") {
					t.Errorf("POST refused order = %d %s; want 422 naming the e-mail address and its field", status, resp)
				}
			}
		}
		if got := a.stuckOrders(); len(got) != 1 || got[0].OrderID != "stuck-1" {
			t.Errorf("stuck list after the webhook = %+v; want stuck-1", got)
		}
		var sum struct{ Skipped int }
		if status := a.api("POST", "/api/v1/reconcile", nil, &sum); status != http.StatusOK || sum.Skipped != 2 {
			t.Fatalf("POST /api/v1/reconcile = %d %+v; want 2 skipped", status, sum)
		}
		got := a.stuckOrders()
		if len(got) != 2 {
			t.Fatalf("stuck list = %+v; want stuck-1 and stuck-2", got)
		}
		for _, o := range got {
			if o.IntegrationID != gh || !strings.Contains(o.Reason, "candidate.email") || o.FirstSeen.IsZero() || o.LastSeen.Before(o.FirstSeen) {
				t.Errorf("stuck order %+v; want its integration, the reason naming the field, first and last seen", o)
			}
		}
		if v := a.metric("assessgate_stuck_orders"); v != "2" {
			t.Errorf("assessgate_stuck_orders = %q; want 2", v)
		}

		// Closed from the admin overview: Kombo gets a CANCELLED result.
		html, status, loc := a.adminPost("/admin/", "/admin/stuck-orders/stuck-1/close")
		for _, want := range []string{`data-order="stuck-1"`, `data-order="stuck-2"`, "(candidate.email: is not an e-mail address)", `action="/admin/stuck-orders/stuck-1/close"`} {
			if !strings.Contains(html, want) {
				t.Errorf("admin overview lacks %s", want)
			}
		}
		if status != http.StatusSeeOther || !strings.Contains(loc, "closed=1") {
			t.Fatalf("admin close = %d to %q; want 303 back to the overview", status, loc)
		}
		res := fake.Results("stuck-1")
		if len(res) != 1 || res[0].Status != kombo.OrderStatusCancelled || !strings.HasPrefix(res[0].ResultURL, testPublicURL) {
			t.Errorf("Kombo's results for stuck-1 = %+v; want one CANCELLED with assessgate's address", res)
		}
		if o, _ := fake.Order(gh, "stuck-1"); o.Status != kombo.OrderStatusCancelled {
			t.Errorf("stuck-1 at Kombo = %s; want CANCELLED", o.Status)
		}

		// stuck-2 is fixed in the ATS, then retried.
		o, _ := fake.Order(gh, "stuck-2")
		o.Candidate.Email = "maria@example.com"
		fake.AddOrder(gh, o)
		var retry struct {
			Taken bool `json:"taken"`
		}
		if status := a.api("POST", "/api/v1/stuck-orders/stuck-2/retry", nil, &retry); status != http.StatusOK || !retry.Taken {
			t.Errorf("retry stuck-2 = %d %+v; want taken", status, retry)
		}
		if a.count("orders", "id = 'stuck-2'") != 1 {
			t.Errorf("stuck-2 not held after the retry")
		}
		if got := a.stuckOrders(); len(got) != 0 {
			t.Errorf("stuck list = %+v; want it empty", got)
		}
		if v := a.metric("assessgate_stuck_orders"); v != "0" {
			t.Errorf("assessgate_stuck_orders = %q; want 0", v)
		}
		if status := a.api("POST", "/api/v1/stuck-orders/stuck-1/close", nil, nil); status != http.StatusNotFound {
			t.Errorf("closing an order no longer stuck = %d; want 404", status)
		}
	})
}
