package kombo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

const integrationID = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"

// newServer starts a fake Kombo for the test and returns it with a client.
func newServer(tb testing.TB) (*kombotest.Server, *kombo.Client) {
	tb.Helper()
	s := kombotest.NewServer()
	tb.Cleanup(s.Close)
	return s, s.Client()
}

// testOrder returns a minimal valid order.
func testOrder(id string, status kombo.OrderStatus) kombo.Order {
	return kombo.Order{ID: id, PackageID: "ts-coding-60", Status: status, Candidate: kombo.Candidate{Email: id + "@example.com"}}
}

// readResult returns the example result request testdata/name.
func readResult(tb testing.TB, name string) *kombo.ResultRequest {
	tb.Helper()
	var r kombo.ResultRequest
	if err := json.Unmarshal(readFile(tb, name), &r); err != nil {
		tb.Fatal(err)
	}
	return &r
}

// clock is a settable clock for kombotest.Server.SetClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func TestClient_headers(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	c.UserAgent = "assessgate-test/1.0"
	s.AddOrder(integrationID, testOrder("order1", kombo.OrderStatusOpen))
	ctx := t.Context()

	calls := []struct {
		name        string
		call        func() error
		method      string
		path        string
		integration bool // X-Integration-Id sent
		body        bool
	}{
		{"SetPackages", func() error {
			_, err := c.SetPackages(ctx, integrationID, []kombo.Package{{ID: "p", Type: kombo.PackageSkillsTest, Name: "P"}})
			return err
		}, "PUT", "/assessment/packages", true, true},
		{"GetPackages", func() error { _, err := c.GetPackages(ctx, integrationID); return err },
			"GET", "/assessment/packages", true, false},
		{"ListOrders", func() error { _, err := c.ListOrders(ctx, integrationID, kombo.ListOrdersFilter{}); return err },
			"GET", "/assessment/orders", true, false},
		{"UpdateOrderResult", func() error {
			_, err := c.UpdateOrderResult(ctx, integrationID, "order1", readResult(t, "request-put-order-result-open-progress.json"))
			return err
		}, "PUT", "/assessment/orders/order1/result", true, true},
		{"CheckAPIKey", func() error { _, err := c.CheckAPIKey(ctx); return err },
			"GET", "/check-api-key", false, false},
		{"GetIntegration", func() error { _, err := c.GetIntegration(ctx, integrationID); return err },
			"GET", "/integrations/" + integrationID, false, false},
	}
	for i, tt := range calls {
		if err := tt.call(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		reqs := s.Requests()
		if len(reqs) != i+1 {
			t.Fatalf("%s sent %d requests; want 1", tt.name, len(reqs)-i)
		}
		r := reqs[i]
		if r.Method != tt.method || r.Path != tt.path {
			t.Errorf("%s sent %s %s; want %s %s", tt.name, r.Method, r.Path, tt.method, tt.path)
		}
		want := map[string]string{
			"Authorization": "Bearer " + kombotest.DefaultAPIKey,
			"Accept":        "application/json",
			"User-Agent":    "assessgate-test/1.0",
		}
		if tt.integration {
			want["X-Integration-Id"] = integrationID
		}
		if tt.body {
			want["Content-Type"] = "application/json"
		}
		for _, h := range []string{"Authorization", "Accept", "User-Agent", "X-Integration-Id", "Content-Type"} {
			if got := r.Header.Get(h); got != want[h] {
				t.Errorf("%s sent %s: %q; want %q", tt.name, h, got, want[h])
			}
		}
		if tt.body != (len(r.Body) > 0) {
			t.Errorf("%s sent body %q", tt.name, r.Body)
		}
	}
}

func TestClient_ListOrders(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	clk := &clock{t: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	s.SetClock(clk.Now)
	statuses := []kombo.OrderStatus{kombo.OrderStatusOpen, kombo.OrderStatusCompleted, kombo.OrderStatusOpen, kombo.OrderStatusCancelled}
	var all, open []string
	for i := range 9 {
		id := fmt.Sprintf("order%d", i)
		st := statuses[i%len(statuses)]
		s.AddOrder(integrationID, testOrder(id, st))
		all = append(all, id)
		if st == kombo.OrderStatusOpen {
			open = append(open, id)
		}
		clk.Add(time.Hour)
	}
	s.AddOrder("workday:other", testOrder("elsewhere", kombo.OrderStatusOpen))

	tests := []struct {
		name   string
		filter kombo.ListOrdersFilter
		want   []string
	}{
		{"all", kombo.ListOrdersFilter{}, all},
		{"one page each", kombo.ListOrdersFilter{PageSize: 1}, all},
		{"exact pages", kombo.ListOrdersFilter{PageSize: 3}, all},
		{"open in pages", kombo.ListOrdersFilter{Statuses: []kombo.OrderStatus{kombo.OrderStatusOpen}, PageSize: 2}, open},
		{"two statuses", kombo.ListOrdersFilter{Statuses: []kombo.OrderStatus{kombo.OrderStatusCompleted, kombo.OrderStatusCancelled}},
			[]string{"order1", "order3", "order5", "order7"}},
		{"ids", kombo.ListOrdersFilter{IDs: []string{"order8", "order2", "nope"}, PageSize: 1}, []string{"order2", "order8"}},
		{"created after", kombo.ListOrdersFilter{CreatedAfter: time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC), PageSize: 2},
			[]string{"order6", "order7", "order8"}},
		{"created after, other zone", kombo.ListOrdersFilter{CreatedAfter: time.Date(2026, 7, 1, 8, 30, 0, 0, time.FixedZone("CEST", 2*3600))},
			[]string{"order7", "order8"}},
		{"everything", kombo.ListOrdersFilter{
			Statuses:     []kombo.OrderStatus{kombo.OrderStatusOpen},
			IDs:          []string{"order0", "order2", "order4", "order8"},
			CreatedAfter: time.Date(2026, 7, 1, 1, 0, 0, 0, time.UTC),
			PageSize:     1,
		}, []string{"order2", "order4", "order8"}},
		{"none", kombo.ListOrdersFilter{Statuses: []kombo.OrderStatus{kombo.OrderStatusRejected}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Requests())
			orders, err := c.ListOrders(t.Context(), integrationID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range orders {
				got = append(got, o.ID)
				if o.IntegrationID != "" {
					t.Errorf("order %s has integration_id %q; want none in lists", o.ID, o.IntegrationID)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListOrders(%+v) = %v; want %v", tt.filter, got, tt.want)
			}

			// Every page repeats the filter; all but the first carry a cursor.
			reqs := s.Requests()[before:]
			pageSize := 100
			if tt.filter.PageSize > 0 {
				pageSize = tt.filter.PageSize
			}
			if wantPages := max((len(tt.want)+pageSize-1)/pageSize, 1); len(reqs) != wantPages {
				t.Errorf("ListOrders sent %d requests; want %d", len(reqs), wantPages)
			}
			first := reqs[0].Query
			for i, r := range reqs {
				q := r.Query
				cursor := q.Get("cursor")
				q.Del("cursor")
				if (i == 0) != (cursor == "") {
					t.Errorf("page %d has cursor %q", i, cursor)
				}
				if i > 0 && !reflect.DeepEqual(q, first) {
					t.Errorf("page %d has query %v; want the filter of page 0, %v", i, q, first)
				}
			}
		})
	}
}

func TestClient_ListOrdersPage(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	s.Fail(1, kombotest.Fault{Status: http.StatusOK, Body: string(readFile(t, "response-get-assessment-orders.json"))})
	orders, next, err := c.ListOrdersPage(t.Context(), integrationID, kombo.ListOrdersFilter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if next != "eyJwYWdlIjoyfQ" || len(orders) != 2 {
		t.Fatalf("ListOrdersPage = %d orders, next %q; want 2, eyJwYWdlIjoyfQ", len(orders), next)
	}
	for _, o := range orders {
		if err := kombo.ValidateOrder(&o); err != nil {
			t.Errorf("ValidateOrder(%s) = %v", o.ID, err)
		}
	}
	if o := orders[1]; o.Status != kombo.OrderStatusCompleted || o.Job.Location != nil || o.Candidate.FirstName != nil {
		t.Errorf("second order = %+v", o)
	}

	if _, _, err := c.ListOrdersPage(t.Context(), integrationID, kombo.ListOrdersFilter{}, "garbage"); !isCode(err, 400, kombo.CodeInputInvalid) {
		t.Errorf("ListOrdersPage(cursor garbage) = %v; want 400 %s", err, kombo.CodeInputInvalid)
	}
	for _, size := range []int{-1, 251} {
		var ve *kombo.ValidationError
		if _, err := c.ListOrders(t.Context(), integrationID, kombo.ListOrdersFilter{PageSize: size}); !errors.As(err, &ve) || ve.Field != "page_size" {
			t.Errorf("ListOrders(PageSize %d) = %v; want page_size error", size, err)
		}
	}
}

func TestClient_UpdateOrderResult(t *testing.T) {
	t.Parallel()
	for _, name := range glob(t, "request-put-order-result-*.json") {
		t.Run(name, func(t *testing.T) {
			s, c := newServer(t)
			s.AddOrder(integrationID, testOrder("order1", kombo.OrderStatusOpen))
			r := readResult(t, name)
			resp, err := c.UpdateOrderResult(t.Context(), integrationID, "order1", r)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Warnings == nil || len(resp.Warnings) != 0 {
				t.Errorf("Warnings = %#v; want empty", resp.Warnings)
			}
			if o, _ := s.Order(integrationID, "order1"); o.Status != r.Status {
				t.Errorf("order status = %s; want %s", o.Status, r.Status)
			}
			got := s.Results("order1")
			if len(got) != 1 {
				t.Fatalf("Results = %+v; want 1 result", got)
			}
			if a, b := mustMarshal(t, &got[0]), mustMarshal(t, r); !jsonEqual(t, a, b) {
				t.Errorf("Results = [%s]; want [%s]", a, b)
			}
			reqs := s.Requests()
			if body := reqs[len(reqs)-1].Body; !jsonEqual(t, body, readFile(t, name)) {
				t.Errorf("sent %s; want %s", body, readFile(t, name))
			}
		})
	}

	t.Run("status changes only from OPEN", func(t *testing.T) {
		s, c := newServer(t)
		s.AddOrder(integrationID, testOrder("order1", kombo.OrderStatusOpen))
		ctx := t.Context()
		steps := []struct {
			file string
			code string // "" for success
		}{
			{"request-put-order-result-open-progress.json", ""},
			{"request-put-order-result-open-progress.json", ""},
			{"request-put-order-result-completed.json", ""},
			{"request-put-order-result-completed.json", kombo.CodeInputInvalid},
			{"request-put-order-result-cancelled.json", kombo.CodeInputInvalid},
		}
		for i, st := range steps {
			_, err := c.UpdateOrderResult(ctx, integrationID, "order1", readResult(t, st.file))
			if st.code == "" && err != nil || st.code != "" && !isCode(err, 400, st.code) {
				t.Errorf("step %d: UpdateOrderResult(%s) = %v; want code %q", i, st.file, err, st.code)
			}
		}
		if o, _ := s.Order(integrationID, "order1"); o.Status != kombo.OrderStatusCompleted {
			t.Errorf("status = %s; want COMPLETED", o.Status)
		}
		if n := len(s.Results("order1")); n != 3 {
			t.Errorf("%d results recorded; want 3", n)
		}
	})

	t.Run("unknown order", func(t *testing.T) {
		_, c := newServer(t)
		_, err := c.UpdateOrderResult(t.Context(), integrationID, "nope", readResult(t, "request-put-order-result-completed.json"))
		if !isCode(err, 404, kombo.CodeInputInvalid) || kombo.IsRetryable(err) {
			t.Errorf("UpdateOrderResult(unknown) = %v; want 404, not retryable", err)
		}
	})

	t.Run("invalid result is not sent", func(t *testing.T) {
		s, c := newServer(t)
		r := readResult(t, "request-put-order-result-completed.json")
		r.Attachments[1].ContentType = "zip"
		_, err := c.UpdateOrderResult(t.Context(), integrationID, "order1", r)
		wantField(t, "UpdateOrderResult", err, "attachments[1].content_type")
		if n := len(s.Requests()); n != 0 {
			t.Errorf("sent %d requests; want none", n)
		}
	})

	t.Run("warnings", func(t *testing.T) {
		s, c := newServer(t)
		s.Fail(1, kombotest.Fault{Status: http.StatusOK, Body: string(readFile(t, "response-put-order-result.json"))})
		resp, err := c.UpdateOrderResult(t.Context(), integrationID, "order1", readResult(t, "request-put-order-result-completed.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0].Message, "Code Submission.zip") {
			t.Errorf("Warnings = %+v; want the one of the example", resp.Warnings)
		}
	})
}

func TestClient_packages(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	var l kombo.PackageList
	if err := json.Unmarshal(readFile(t, "request-put-assessment-packages.json"), &l); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetPackages(t.Context(), integrationID, l.Packages); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetPackages(t.Context(), integrationID)
	for i := range got {
		if got[i].UpdatedAt == nil {
			t.Errorf("GetPackages: package %s has no updated_at", got[i].ID)
		}
		got[i].UpdatedAt = nil
	}
	if err != nil || !reflect.DeepEqual(got, l.Packages) {
		t.Errorf("GetPackages = %+v, %v; want %+v", got, err, l.Packages)
	}
	// What GetPackages returned can be sent back: updated_at stays Kombo's.
	back := slices.Clone(got)
	back[0].UpdatedAt = new("2026-07-01T08:00:00.000Z")
	if _, err := c.SetPackages(t.Context(), integrationID, back); err != nil {
		t.Fatal(err)
	}
	if reqs := s.Requests(); strings.Contains(string(reqs[len(reqs)-1].Body), "updated_at") {
		t.Errorf("SetPackages sent updated_at: %s", reqs[len(reqs)-1].Body)
	}
	if got := s.Packages(integrationID); !reflect.DeepEqual(got, l.Packages) {
		t.Errorf("Server.Packages = %+v; want %+v", got, l.Packages)
	}

	if _, err := c.SetPackages(t.Context(), integrationID, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.Packages(integrationID); len(got) != 0 {
		t.Errorf("after SetPackages(nil): %+v; want none", got)
	}
	reqs := s.Requests()
	if body := string(reqs[len(reqs)-1].Body); body != `{"packages":[]}` {
		t.Errorf("SetPackages(nil) sent %s; want an empty list", body)
	}

	dup := []kombo.Package{l.Packages[0], l.Packages[0]}
	_, err = c.SetPackages(t.Context(), integrationID, dup)
	wantField(t, "SetPackages(duplicate)", err, "packages[1].id")
}

func TestClient_CheckAPIKey(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	info, err := c.CheckAPIKey(t.Context())
	if err != nil || info.EnvironmentID != kombotest.EnvironmentID {
		t.Errorf("CheckAPIKey = %+v, %v; want environment %s", info, err, kombotest.EnvironmentID)
	}

	s.Fail(1, kombotest.Fault{Status: http.StatusOK, Body: string(readFile(t, "response-check-api-key.json"))})
	info, err = c.CheckAPIKey(t.Context())
	if err != nil || info.EnvironmentID != "2Uev1YUTqLFdvMPD3Jtrg2FX" || info.CustomerID != info.EnvironmentID {
		t.Errorf("CheckAPIKey(example) = %+v, %v", info, err)
	}

	s.SetAPIKey("rotated")
	_, err = c.CheckAPIKey(t.Context())
	if !isCode(err, 401, kombo.CodeAuthenticationInvalid) || kombo.IsRetryable(err) {
		t.Errorf("CheckAPIKey(wrong key) = %v; want 401 %s, not retryable", err, kombo.CodeAuthenticationInvalid)
	}
}

func TestClient_GetIntegration(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	if _, err := c.GetIntegration(t.Context(), "personio:unknown"); !isCode(err, 404, kombo.CodeIntegrationNotFound) {
		t.Errorf("GetIntegration(unknown) = %v; want 404 %s", err, kombo.CodeIntegrationNotFound)
	}
	s.AddOrder(integrationID, testOrder("order1", kombo.OrderStatusOpen))
	in, err := c.GetIntegration(t.Context(), integrationID)
	if err != nil || in.ID != integrationID || in.Tool.ID != "greenhouse" || in.Category != "ASSESSMENT" {
		t.Errorf("GetIntegration = %+v, %v", in, err)
	}

	s.Fail(1, kombotest.Fault{Status: http.StatusOK, Body: string(readFile(t, "response-get-integration.json"))})
	in, err = c.GetIntegration(t.Context(), integrationID)
	if err != nil {
		t.Fatal(err)
	}
	if in.Tool.Label != "Greenhouse" || in.Tool.InternalLabel != nil || in.Status != kombo.IntegrationStateActive ||
		in.EndUser.OriginID == nil || *in.EndUser.OriginID != "cust_000123" || in.ScopeConfig.Name != nil ||
		in.DataExpiredAt != nil || in.CreatedAt != "2026-07-01T08:30:00.000Z" || in.Beta {
		t.Errorf("GetIntegration(example) = %+v", in)
	}
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// isCode reports whether err is a *kombo.Error with status and code.
func isCode(err error, status int, code string) bool {
	var e *kombo.Error
	return errors.As(err, &e) && e.StatusCode == status && e.Code == code
}

func TestClient_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     kombotest.Fault
		want      kombo.Error
		text      string // substring of Error()
		retryable bool
	}{
		{"ats example", kombotest.Fault{Status: 400, Body: string(readFile(t, "response-error-ats.json"))},
			kombo.Error{
				StatusCode: 400,
				Code:       kombo.CodeInputInvalid,
				Title:      "The request input is invalid.",
				Message:    `Invalid request body: "result_url" is required.`,
				LogURL:     "https://app.kombo.dev/acme-prod/logs?interactionId=Wq3Lx8Vb2TnR9pKc5YmHs7Dz",
			}, `kombo: HTTP 400 PLATFORM.INPUT_INVALID: Invalid request body: "result_url" is required. (log https://app.kombo.dev/`, false},
		{"minimal example, code null", kombotest.Fault{Status: 401, Body: string(readFile(t, "response-error-minimal.json"))},
			kombo.Error{StatusCode: 401, Message: "Unauthorized"}, "kombo: HTTP 401: Unauthorized", false},
		{"bare 503", kombotest.Fault{Status: 503, Body: "<html><body>503 Service Temporarily Unavailable</body></html>"},
			kombo.Error{StatusCode: 503}, "kombo: HTTP 503: Service Unavailable", true},
		{"500 unknown", kombotest.Fault{Status: 500, Code: kombo.CodeUnknownError, Message: "boom"},
			kombo.Error{StatusCode: 500, Code: kombo.CodeUnknownError, Title: "Internal Server Error", Message: "boom"}, "HTTP 500 PLATFORM.UNKNOWN_ERROR: boom", true},
		{"setup incomplete", kombotest.Fault{Status: 409, Code: kombo.CodeSetupIncomplete},
			kombo.Error{StatusCode: 409, Code: kombo.CodeSetupIncomplete, Title: "Conflict", Message: "Conflict"}, "HTTP 409 INTEGRATION.SETUP_INCOMPLETE", false},
		{"rate limited", kombotest.Fault{Status: 429, Code: kombo.CodeRateLimitExceeded, RetryAfter: 1500 * time.Millisecond},
			kombo.Error{StatusCode: 429, Code: kombo.CodeRateLimitExceeded, Title: "Too Many Requests", Message: "Too Many Requests", RetryAfter: 2 * time.Second},
			"HTTP 429 PLATFORM.RATE_LIMIT_EXCEEDED", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newServer(t)
			s.Fail(1, tt.fault)
			_, err := c.CheckAPIKey(t.Context())
			var e *kombo.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckAPIKey = %v; want *kombo.Error", err)
			}
			if tt.want.LogURL == "" && strings.HasPrefix(e.LogURL, "https://app.kombo.dev/kombotest/") {
				e.LogURL = "" // random
			}
			got := *e
			got.Header, got.Limits = nil, kombo.Limits{} // checked in TestClient_limits
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckAPIKey = %#v; want %#v", *e, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Error() = %q; want it to contain %q", err, tt.text)
			}
			if got := kombo.IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable(%v) = %v; want %v", err, got, tt.retryable)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	s, c := newServer(t)
	s.Fail(1, kombotest.Fault{Status: 429, Code: kombo.CodeConcurrencyLimitExceeded, RetryAfter: 3 * time.Second})
	_, err := c.ListOrders(t.Context(), integrationID, kombo.ListOrdersFilter{})
	if d, ok := kombo.RetryAfter(err); !ok || d != 3*time.Second {
		t.Errorf("RetryAfter(%v) = %v, %v; want 3s, true", err, d, ok)
	}
	if !kombo.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false; want true", err)
	}

	s.Fail(1, kombotest.Fault{Status: 500})
	_, err = c.ListOrders(t.Context(), integrationID, kombo.ListOrdersFilter{})
	if d, ok := kombo.RetryAfter(err); ok {
		t.Errorf("RetryAfter(%v) = %v, true; want false", err, d)
	}
	if d, ok := kombo.RetryAfter(errors.New("x")); ok {
		t.Errorf("RetryAfter(plain error) = %v, true; want false", d)
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	kerr := func(status int, code string) error { return &kombo.Error{StatusCode: status, Code: code} }
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("decoding response: invalid character"), false},
		{kerr(429, kombo.CodeRateLimitExceeded), true},
		{kerr(429, kombo.CodeConcurrencyLimitExceeded), true},
		{kerr(429, kombo.CodeRemoteRateLimitExceeded), true},
		{kerr(429, ""), true},
		{kerr(503, kombo.CodeRemoteServiceUnavailable), true},
		{kerr(502, kombo.CodeRemoteServiceUnavailable), true},
		{kerr(504, kombo.CodeTaskTimedOut), true},
		{kerr(500, kombo.CodeUnknownError), true},
		{kerr(500, ""), true},
		{kerr(503, ""), true},
		{kerr(502, "REMOTE.UNKNOWN_HTTP_ERROR"), true},
		{fmt.Errorf("write back: %w", kerr(503, "")), true},
		{kerr(409, kombo.CodeSetupIncomplete), false},
		{kerr(503, kombo.CodeSetupIncomplete), false}, // before 2026-05-19 Kombo sent 503
		{kerr(409, kombo.CodeSetupSyncPending), false},
		{kerr(409, kombo.CodeQAFailed), false},
		{kerr(403, "INTEGRATION.PERMISSION_MISSING"), false},
		{kerr(400, kombo.CodeInputInvalid), false},
		{kerr(400, kombo.CodeRemoteInputInvalid), false},
		{kerr(502, kombo.CodeRemoteInputInvalid), false},
		{kerr(401, kombo.CodeAuthenticationInvalid), false},
		{kerr(404, kombo.CodeIntegrationNotFound), false},
		{kerr(400, "ATS.JOB_CLOSED"), false},
		{kerr(422, ""), false},
		{&url.Error{Op: "Put", URL: "https://api.kombo.dev/v1/x", Err: io.EOF}, true},
		{&url.Error{Op: "Get", URL: "https://api.kombo.dev/v1/x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, true},
		{&url.Error{Op: "Get", URL: "https://api.kombo.dev/v1/x", Err: timeoutError{}}, true},
		{&url.Error{Op: "Get", URL: "https://api.kombo.dev/v1/x", Err: context.DeadlineExceeded}, true},
		{&url.Error{Op: "Get", URL: "https://api.kombo.dev/v1/x", Err: context.Canceled}, false},
		{&url.Error{Op: "Get", URL: "ftp://x", Err: errors.New(`unsupported protocol scheme "ftp"`)}, false},
		{fmt.Errorf("reading response: %w", io.ErrUnexpectedEOF), true},
		{context.Canceled, false},
		{fmt.Errorf("kombo: %w", context.Canceled), false},
	}
	for _, tt := range tests {
		if got := kombo.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%#v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

func TestClient_networkErrors(t *testing.T) {
	t.Parallel()
	t.Run("dropped connection", func(t *testing.T) {
		s, c := newServer(t)
		s.AddOrder(integrationID, testOrder("order1", kombo.OrderStatusOpen))
		s.Fail(1, kombotest.Fault{Drop: true})
		_, err := c.UpdateOrderResult(t.Context(), integrationID, "order1", readResult(t, "request-put-order-result-completed.json"))
		if err == nil || !kombo.IsRetryable(err) {
			t.Errorf("UpdateOrderResult(dropped) = %v; want a retryable error", err)
		}
		var e *kombo.Error
		if errors.As(err, &e) {
			t.Errorf("UpdateOrderResult(dropped) = %#v; want a network error", e)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		s, c := newServer(t)
		c.HTTPClient.Timeout = 50 * time.Millisecond
		s.Fail(1, kombotest.Fault{Delay: time.Minute})
		_, err := c.CheckAPIKey(t.Context())
		if err == nil || !kombo.IsRetryable(err) {
			t.Errorf("CheckAPIKey(slow) = %v; want a retryable error", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		s, c := newServer(t)
		ctx, cancel := context.WithCancel(t.Context())
		s.FailWhen(func(*http.Request) *kombotest.Fault {
			cancel() // while the request is in flight
			return &kombotest.Fault{Delay: time.Minute}
		})
		_, err := c.CheckAPIKey(ctx)
		if !errors.Is(err, context.Canceled) || kombo.IsRetryable(err) {
			t.Errorf("CheckAPIKey(cancelled) = %v; want context.Canceled, not retryable", err)
		}
	})

	t.Run("huge response", func(t *testing.T) {
		s, c := newServer(t)
		s.Fail(1, kombotest.Fault{Status: http.StatusOK, Body: strings.Repeat("x", 10<<20+1)})
		if _, err := c.CheckAPIKey(t.Context()); err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("CheckAPIKey(11 MiB) = %v; want a size error", err)
		}
	})

	t.Run("missing integration id", func(t *testing.T) {
		s, c := newServer(t)
		if _, err := c.ListOrders(t.Context(), "", kombo.ListOrdersFilter{}); err == nil {
			t.Error("ListOrders(\"\") = nil; want error")
		}
		if n := len(s.Requests()); n != 0 {
			t.Errorf("sent %d requests; want none", n)
		}
	})
}
