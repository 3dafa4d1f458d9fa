package kombotest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

const integrationID = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"

func newServer(tb testing.TB) *kombotest.Server {
	tb.Helper()
	s := kombotest.NewServer()
	tb.Cleanup(s.Close)
	return s
}

func testOrder(id string, status kombo.OrderStatus) kombo.Order {
	return kombo.Order{ID: id, PackageID: "p", Status: status, Candidate: kombo.Candidate{Email: id + "@example.com"}}
}

// fetch sends a raw request with the default API key and returns the
// response status and body.
func fetch(tb testing.TB, s *kombotest.Server, method, path, integration, body string) (int, string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+kombotest.DefaultAPIKey)
	if integration != "" {
		req.Header.Set("X-Integration-Id", integration)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// errorCode returns the error code of a Kombo error envelope.
func errorCode(tb testing.TB, body string) string {
	tb.Helper()
	var env struct {
		Status string `json:"status"`
		Error  struct {
			Code *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Status != "error" {
		tb.Fatalf("not an error envelope: %s", body)
	}
	if env.Error.Code == nil {
		return ""
	}
	return *env.Error.Code
}

func TestServer_checks(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddOrder(integrationID, testOrder("o1", kombo.OrderStatusOpen))
	tests := []struct {
		name        string
		method      string
		path        string
		auth        string
		integration string
		body        string
		status      int
		code        string
	}{
		{"no key", "GET", "/check-api-key", "", "", "", 401, kombo.CodeAuthenticationInvalid},
		{"wrong key", "GET", "/assessment/orders", "Bearer nope", integrationID, "", 401, kombo.CodeAuthenticationInvalid},
		{"basic auth", "GET", "/check-api-key", "Basic " + kombotest.DefaultAPIKey, "", "", 401, kombo.CodeAuthenticationInvalid},
		{"no integration", "GET", "/assessment/packages", "", "", "", 400, kombo.CodeInputInvalid},
		{"bad JSON", "PUT", "/assessment/packages", "", integrationID, "{", 400, kombo.CodeInputInvalid},
		{"wrong type", "PUT", "/assessment/packages", "", integrationID, `{"packages":{}}`, 400, kombo.CodeInputInvalid},
		{"no packages", "PUT", "/assessment/packages", "", integrationID, `{}`, 400, kombo.CodeInputInvalid},
		{"result without completed_at", "PUT", "/assessment/orders/o1/result", "", integrationID,
			`{"status":"COMPLETED","result_url":"https://x.example/r"}`, 400, kombo.CodeInputInvalid},
		{"result for another integration's order", "PUT", "/assessment/orders/o1/result", "", "lever:x",
			`{"status":"OPEN","result_url":"https://x.example/r"}`, 404, kombo.CodeInputInvalid},
		{"page size 0", "GET", "/assessment/orders?page_size=0", "", integrationID, "", 400, kombo.CodeInputInvalid},
		{"page size 251", "GET", "/assessment/orders/open?page_size=251", "", integrationID, "", 400, kombo.CodeInputInvalid},
		{"unknown status", "GET", "/assessment/orders?statuses=OPEN,DONE", "", integrationID, "", 400, kombo.CodeInputInvalid},
		{"created_after with offset", "GET", "/assessment/orders?created_after=2026-07-01T00:00:00%2B02:00", "", integrationID, "", 400, kombo.CodeInputInvalid},
		{"bad cursor", "GET", "/assessment/orders?cursor=abc", "", integrationID, "", 400, kombo.CodeInputInvalid},
		{"unknown integration", "GET", "/integrations/lever:x", "", "", "", 404, kombo.CodeIntegrationNotFound},
		{"unknown route", "DELETE", "/integrations/" + integrationID, "", "", "", 404, kombo.CodeInputInvalid},

		{"check key", "GET", "/check-api-key", "", "", "", 200, ""},
		{"created_after date", "GET", "/assessment/orders?created_after=2026-07-01", "", integrationID, "", 200, ""},
		{"created_after no zone", "GET", "/assessment/orders?created_after=2026-07-01T10:00:00.5", "", integrationID, "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, s.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+kombotest.DefaultAPIKey)
			if tt.auth != "" || tt.code == kombo.CodeAuthenticationInvalid {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.integration != "" {
				req.Header.Set("X-Integration-Id", tt.integration)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d %s; want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
			}
			if tt.code != "" {
				if code := errorCode(t, string(b)); code != tt.code {
					t.Errorf("%s %s: code %q; want %q", tt.method, tt.path, code, tt.code)
				}
			}
		})
	}
	if o, _ := s.Order(integrationID, "o1"); o.Status != kombo.OrderStatusOpen || len(s.Results("o1")) != 0 {
		t.Errorf("rejected results changed the order: %+v, %d results", o, len(s.Results("o1")))
	}
}

func TestServer_orders(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var now time.Time
	var mu sync.Mutex
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	setNow := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }

	setNow(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC))
	s.AddOrder(integrationID, testOrder("a", kombo.OrderStatusOpen))
	setNow(time.Date(2026, 7, 2, 10, 0, 0, 0, time.UTC))
	s.AddOrder(integrationID, testOrder("b", kombo.OrderStatusCompleted))
	s.AddOrder(integrationID, testOrder("c", kombo.OrderStatusOpen))
	s.AddOrder(integrationID, testOrder("d", kombo.OrderStatusOpen))
	changed := testOrder("a", kombo.OrderStatusOpen)
	changed.PackageID = "p2"
	s.AddOrder(integrationID, changed) // replaces a, keeps its place

	if o, ok := s.Order(integrationID, "a"); !ok || o.PackageID != "p2" || o.IntegrationID != integrationID {
		t.Errorf("Order(a) = %+v, %v; want package p2 and the integration id", o, ok)
	}
	if _, ok := s.Order("lever:x", "a"); ok {
		t.Error("Order(lever:x, a) found an order of another integration")
	}

	// ids lists the ids of a page and returns its next cursor.
	ids := func(body string) (got []string, next *string, statusSent bool) {
		var env struct {
			Data struct {
				Next    *string                      `json:"next"`
				Results []map[string]json.RawMessage `json:"results"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatal(err)
		}
		for _, o := range env.Data.Results {
			var id string
			json.Unmarshal(o["id"], &id)
			got = append(got, id)
			_, statusSent = o["status"]
			if _, ok := o["integration_id"]; ok {
				t.Errorf("order %s has integration_id", id)
			}
		}
		return got, env.Data.Next, statusSent
	}

	_, body := fetch(t, s, "GET", "/assessment/orders/open?page_size=2", integrationID, "")
	got, next, withStatus := ids(body)
	if strings.Join(got, ",") != "a,c" || next == nil || withStatus {
		t.Fatalf("open orders page 1 = %v, next %v, status sent %v; want [a c], a cursor, no status", got, next, withStatus)
	}
	_, body = fetch(t, s, "GET", "/assessment/orders/open?page_size=2&cursor="+*next, integrationID, "")
	if got, next, _ := ids(body); strings.Join(got, ",") != "d" || next != nil {
		t.Errorf("open orders page 2 = %v, next %v; want [d], null", got, next)
	}

	_, body = fetch(t, s, "GET", "/assessment/orders?created_after=2026-07-02T10:00:00.000Z", integrationID, "")
	if got, _, withStatus := ids(body); strings.Join(got, ",") != "b,c,d" || !withStatus {
		t.Errorf("orders created after = %v (status sent %v); want [b c d] with status", got, withStatus)
	}

	// An order added after the first page still shows up on a later one.
	_, body = fetch(t, s, "GET", "/assessment/orders?page_size=3", integrationID, "")
	_, next, _ = ids(body)
	s.AddOrder(integrationID, testOrder("e", kombo.OrderStatusOpen))
	_, body = fetch(t, s, "GET", "/assessment/orders?page_size=3&cursor="+*next, integrationID, "")
	if got, _, _ := ids(body); strings.Join(got, ",") != "d,e" {
		t.Errorf("page 2 after an insert = %v; want [d e]", got)
	}
}

func TestServer_faults(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := s.Client()
	ctx := t.Context()
	var now time.Time
	var mu sync.Mutex
	s.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	code := func() string {
		_, err := c.CheckAPIKey(ctx)
		var e *kombo.Error
		if errors.As(err, &e) {
			return e.Code
		}
		if err != nil {
			return err.Error()
		}
		return "ok"
	}

	s.Fail(2, kombotest.Fault{Status: 500, Code: kombo.CodeUnknownError})
	s.Fail(1, kombotest.Fault{Status: 409, Code: kombo.CodeSetupIncomplete})
	s.FailFor(time.Minute, kombotest.Fault{Status: 503, Code: kombo.CodeRemoteServiceUnavailable})
	want := []string{kombo.CodeUnknownError, kombo.CodeUnknownError, kombo.CodeSetupIncomplete,
		kombo.CodeRemoteServiceUnavailable, kombo.CodeRemoteServiceUnavailable}
	for i, w := range want {
		if got := code(); got != w {
			t.Errorf("request %d: %s; want %s", i, got, w)
		}
	}
	advance(time.Minute)
	if got := code(); got != "ok" {
		t.Errorf("after FailFor ended: %s; want ok", got)
	}

	s.FailWhen(func(r *http.Request) *kombotest.Fault {
		if b, _ := io.ReadAll(r.Body); strings.Contains(string(b), "poison") {
			return &kombotest.Fault{Status: 400, Code: kombo.CodeRemoteInputInvalid}
		}
		return nil
	})
	s.Fail(1, kombotest.Fault{Status: 500})
	poison := []kombo.Package{{ID: "poison", Type: kombo.PackageSkillsTest, Name: "P"}}
	if _, err := c.SetPackages(ctx, integrationID, poison); err == nil || kombo.IsRetryable(err) {
		t.Errorf("SetPackages(poison) = %v; want REMOTE.INPUT_INVALID from FailWhen", err)
	}
	if got := code(); got != "" {
		t.Errorf("after FailWhen passed: %q; want the queued 500 with code null", got)
	}
	if _, err := c.SetPackages(ctx, integrationID, []kombo.Package{{ID: "fine", Type: kombo.PackageSkillsTest, Name: "F"}}); err != nil {
		t.Errorf("SetPackages(fine) = %v", err)
	}

	s.Fail(5, kombotest.Fault{Status: 500})
	s.FailFor(time.Hour, kombotest.Fault{Status: 500})
	s.ClearFaults()
	if got := code(); got != "ok" {
		t.Errorf("after ClearFaults: %s; want ok", got)
	}
}

func TestServer_retryAfter(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Fail(1, kombotest.Fault{Status: 429, Code: kombo.CodeRateLimitExceeded, RetryAfter: 1500 * time.Millisecond})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/check-api-key", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{"Retry-After": "2", "Ratelimit-Reset": "2", "Ratelimit-Limit": "300", "Ratelimit-Remaining": "0"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q; want %q", h, got, want)
		}
	}
}

func TestServer_drop(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Fail(1, kombotest.Fault{Drop: true})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/check-api-key", nil)
	if resp, err := s.Client().HTTPClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request = %d; want an error", resp.StatusCode)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("recorded %d requests; want 1", n)
	}
}

// hold makes the requests of s for integrationID block in FailWhen until
// release is closed; entered receives a value as each one arrives.
func hold(s *kombotest.Server) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 100), make(chan struct{})
	s.FailWhen(func(r *http.Request) *kombotest.Fault {
		if r.Header.Get("X-Integration-Id") == integrationID {
			entered <- struct{}{}
			<-release
		}
		return nil
	})
	return entered, release
}

func TestServer_MaxInFlight(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := s.Client()
	entered, release := hold(s)
	const n = 4
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := c.GetPackages(t.Context(), integrationID); err != nil {
				t.Error(err)
			}
		})
	}
	for range n {
		<-entered
	}
	close(release)
	wg.Wait()
	if _, err := c.GetPackages(t.Context(), "lever:other"); err != nil {
		t.Fatal(err)
	}
	if got := s.MaxInFlight(integrationID); got != n {
		t.Errorf("MaxInFlight(%s) = %d; want %d", integrationID, got, n)
	}
	if got := s.MaxInFlight("lever:other"); got != 1 {
		t.Errorf("MaxInFlight(lever:other) = %d; want 1", got)
	}
}

func TestServer_SetConcurrencyLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := s.Client()
	s.SetConcurrencyLimit(2)
	entered, release := hold(s)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := c.GetPackages(t.Context(), integrationID); err != nil {
				t.Error(err)
			}
		})
	}
	<-entered
	<-entered
	_, err := c.GetPackages(t.Context(), integrationID)
	var e *kombo.Error
	if !errors.As(err, &e) || e.StatusCode != 429 || e.Code != kombo.CodeConcurrencyLimitExceeded || !kombo.IsRetryable(err) {
		t.Errorf("third request = %v; want retryable 429 %s", err, kombo.CodeConcurrencyLimitExceeded)
	}
	if _, err := c.CheckAPIKey(t.Context()); err != nil { // no integration, no limit
		t.Errorf("CheckAPIKey = %v", err)
	}
	close(release)
	wg.Wait()
}

func TestServer_SetLatency(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.SetLatency(30 * time.Millisecond)
	start := time.Now()
	if _, err := s.Client().CheckAPIKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("request took %v; want at least 30ms", d)
	}
}

func TestServer_closeEndsDelays(t *testing.T) {
	t.Parallel()
	s := kombotest.NewServer()
	entered := make(chan struct{})
	s.FailWhen(func(*http.Request) *kombotest.Fault {
		close(entered)
		return &kombotest.Fault{Delay: time.Hour}
	})
	errc := make(chan error)
	go func() {
		_, err := s.Client().CheckAPIKey(t.Context())
		errc <- err
	}()
	<-entered
	s.Close() // must not wait an hour
	err := <-errc
	var e *kombo.Error
	if err == nil || errors.As(err, &e) || !kombo.IsRetryable(err) {
		t.Errorf("CheckAPIKey during Close = %v; want a retryable network error", err)
	}
}

func TestServer_Requests(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	start := time.Now()
	if _, err := s.Client().ListOrders(t.Context(), integrationID, kombo.ListOrdersFilter{IDs: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("Requests() has %d requests; want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "GET" || r.Path != "/assessment/orders" || r.Query.Get("ids") != "x" ||
		r.Header.Get("X-Integration-Id") != integrationID || r.Time.Before(start) {
		t.Errorf("Requests()[0] = %+v", r)
	}
	r.Header.Set("X-Integration-Id", "changed")
	r.Query.Set("ids", "changed")
	if again := s.Requests()[0]; again.Header.Get("X-Integration-Id") != integrationID || again.Query.Get("ids") != "x" {
		t.Errorf("changing a returned Request changed the record: %+v", again)
	}
}

func TestSendWebhook(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test"
	type received struct {
		header string
		body   []byte
	}
	got := make(chan received, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Get(kombo.SignatureHeader), b}
	}))
	defer receiver.Close()

	order := testOrder("o1", kombo.OrderStatusOpen)
	order.IntegrationID = integrationID
	resp, err := kombotest.SendWebhook(t.Context(), receiver.URL, secret, kombo.EventOrderReceived, order)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec := <-got
	if !kombo.Verify([]string{secret}, rec.body, rec.header) {
		t.Errorf("Verify(%q, %s) = false; want true", rec.header, rec.body)
	}
	w, err := kombo.ParseWebhook(rec.body)
	if err != nil {
		t.Fatalf("ParseWebhook(%s) = %v", rec.body, err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{24}$`).MatchString(w.ID) || w.Type != kombo.EventOrderReceived || w.Order.ID != "o1" {
		t.Errorf("ParseWebhook = %+v; want a 24-character id and order o1", w)
	}
	if a, b := kombotest.NewID(), kombotest.NewID(); a == b {
		t.Errorf("NewID() returned %q twice", a)
	}
}

// TestSetupStatus: while an integration's setup is not complete, writes for
// it get Kombo's 409 INTEGRATION.SETUP_* answers (with a message and
// log_url), which kombo.Classify takes for setup pending; once complete,
// they go through.
func TestSetupStatus(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	s.AddOrder(integrationID, testOrder("o-setup", kombo.OrderStatusOpen))
	at := kombo.FormatTime(time.Now())
	result := &kombo.ResultRequest{Status: kombo.OrderStatusCompleted, ResultURL: "https://vendor.example/r", CompletedAt: &at}
	pkgs := []kombo.Package{{ID: "p", Type: kombo.PackageSkillsTest, Name: "P", Description: "d"}}

	for _, tc := range []struct{ setup, code string }{
		{kombotest.SetupIncomplete, kombo.CodeSetupIncomplete},
		{kombotest.SetupFinalSyncPending, kombo.CodeSetupSyncPending},
	} {
		s.SetSetupStatus(integrationID, tc.setup)
		in, err := c.GetIntegration(t.Context(), integrationID)
		if err != nil || in.SetupStatus != tc.setup {
			t.Errorf("GetIntegration = %+v, %v; want setup status %s", in, err, tc.setup)
		}
		_, rerr := c.UpdateOrderResult(t.Context(), integrationID, "o-setup", result)
		_, perr := c.SetPackages(t.Context(), integrationID, pkgs)
		for _, err := range []error{rerr, perr} {
			var e *kombo.Error
			if !errors.As(err, &e) || e.StatusCode != http.StatusConflict || e.Code != tc.code || e.Message == "" || e.LogURL == "" ||
				kombo.Classify(err) != kombo.ClassSetupPending {
				t.Errorf("write while %s = %v; want 409 %s with message and log_url, setup pending", tc.setup, err, tc.code)
			}
		}
	}
	if len(s.Results("o-setup")) != 0 || len(s.Packages(integrationID)) != 0 {
		t.Errorf("a refused write was kept")
	}
	s.SetSetupStatus(integrationID, kombotest.SetupCompleted)
	if _, err := c.UpdateOrderResult(t.Context(), integrationID, "o-setup", result); err != nil {
		t.Errorf("result once set up = %v", err)
	}
	if _, err := c.SetPackages(t.Context(), integrationID, pkgs); err != nil {
		t.Errorf("packages once set up = %v", err)
	}
}
