// Package kombotest provides a fake of Kombo's assessment API for tests, in
// the spirit of net/http/httptest: NewServer starts it on a loopback port,
// Server.Client returns a kombo.Client pointed at it, and the test seeds
// orders, injects faults and inspects the requests it received.
//
// The fake implements the endpoints an assessment vendor calls:
//
//	PUT /assessment/packages               GET /assessment/packages
//	GET /assessment/orders                 GET /assessment/orders/open
//	PUT /assessment/orders/{id}/result     GET /check-api-key
//	GET /integrations/{id}                 POST /integrations/{id}/relink
//	POST /connect/create-link              GET /connect/integration-by-token/{token}
//
// Every answer carries Kombo's ratelimit headers (RateLimit a minute, not
// enforced); with SetConcurrencyLimit, /assessment/ answers carry
// Concurrency-Limit and Concurrency-Remaining. Connect plays the customer
// who follows a Connect link.
//
// It checks the bearer API key and, on /assessment/ paths, the
// X-Integration-Id header, validates request bodies as kombo's Validate
// methods do, and answers errors with Kombo's error envelope. An integration
// springs into existence on its first /assessment/ request or AddOrder.
//
// Where Kombo's behaviour is undocumented the fake is strict: a result for an
// order that is no longer OPEN is refused with 400 PLATFORM.INPUT_INVALID,
// even if it repeats the status the order already has.
package kombotest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// DefaultAPIKey is the API key a new Server accepts.
const DefaultAPIKey = "kombotest_api_key"

// EnvironmentID is the environment GET /check-api-key reports.
const EnvironmentID = "KombotestEnvironment0001"

// maxBody bounds the request bodies the fake reads.
const maxBody = 10 << 20

// Server is a fake Kombo API server. It is safe for concurrent use; its
// methods may be called while requests are in flight.
type Server struct {
	// URL is the base URL of the fake, such as "http://127.0.0.1:1234",
	// to use as a kombo.Client's BaseURL.
	URL string

	srv  *httptest.Server
	mux  *http.ServeMux
	done chan struct{} // closed by Close, to end delays

	mu           sync.Mutex
	apiKey       string
	now          func() time.Time
	latency      time.Duration
	limit        int
	integrations map[string]*integration
	results      map[string][][]byte // accepted result bodies by order id
	requests     []Request
	seq          int
	faults       []*countedFault
	timedFaults  []timedFault
	failWhen     func(*http.Request) *Fault
	inFlight     map[string]int
	maxInFlight  map[string]int
	links        []ConnectLink
	tokens       map[string]*connected
	rateWindow   time.Time // the start of the current rate limit window
	rateCount    int       // requests in it
}

// RateLimit is the number of requests per minute the fake reports in its
// ratelimit-limit header; it does not enforce it.
const RateLimit = 300

type integration struct {
	info     kombo.Integration
	packages []storedPackage
	orders   []*storedOrder // in the order they were added
}

type storedPackage struct {
	kombo.Package
	updatedAt string
}

type storedOrder struct {
	seq     int
	created time.Time
	order   kombo.Order
}

// Request is a request the fake received, as recorded before any fault or
// check was applied.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	Time   time.Time // by the Server's clock
}

// NewServer starts a fake Kombo server on 127.0.0.1. Close it when done.
func NewServer() *Server {
	s := &Server{
		done:         make(chan struct{}),
		apiKey:       DefaultAPIKey,
		now:          time.Now,
		integrations: make(map[string]*integration),
		results:      make(map[string][][]byte),
		inFlight:     make(map[string]int),
		maxInFlight:  make(map[string]int),
		tokens:       make(map[string]*connected),
	}
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// Handler returns the fake's HTTP handler, to serve it on an address of
// one's choosing as well (assessgate simulate does); URL stays the address
// NewServer started.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close ends any delays in progress, dropping their connections, shuts the
// server down and waits for its requests to finish.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// Client returns a kombo.Client for the fake, using the API key the fake
// currently accepts.
func (s *Server) Client() *kombo.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := kombo.NewClient(s.apiKey)
	c.BaseURL = s.URL
	// A client of its own, so that changing its Timeout changes no other's,
	// on the transport that Close cleans up.
	c.HTTPClient = &http.Client{Transport: s.srv.Client().Transport, Timeout: c.HTTPClient.Timeout}
	return c
}

// SetAPIKey sets the API key the fake accepts; requests with another bearer
// token get 401 PLATFORM.AUTHENTICATION_INVALID.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// SetClock replaces time.Now as the fake's clock, which stamps requests,
// seeded orders (for created_after) and packages, and times FailFor.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetLatency makes every request take at least d of real time, during which
// it counts as in flight, so that tests can observe concurrency.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetConcurrencyLimit makes the fake answer 429
// PLATFORM.CONCURRENCY_LIMIT_EXCEEDED when more than n requests of one
// integration are in flight, as Kombo does (default cap 30). Zero, the
// default, means no limit. Unlike Kombo, the fake limits every /assessment/
// request, not only those that reach the customer's ATS.
func (s *Server) SetConcurrencyLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
}

// MaxInFlight returns the largest number of requests with X-Integration-Id
// integrationID that the fake has seen in flight at once.
func (s *Server) MaxInFlight(integrationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight[integrationID]
}

// Requests returns a copy of every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

func (r Request) clone() Request {
	r.Header = r.Header.Clone()
	r.Query = url.Values(http.Header(r.Query).Clone())
	r.Body = bytes.Clone(r.Body)
	return r
}

// AddIntegration adds or replaces an integration, as GET
// /integrations/{id} reports it.
func (s *Server) AddIntegration(in kombo.Integration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.integration(in.ID).info = clone(in)
}

// Setup statuses of an integration (kombo.Integration.SetupStatus). While
// an integration's is not SetupCompleted, the fake refuses writes for it
// (results, packages) with Kombo's 409 INTEGRATION.SETUP_* answers.
const (
	SetupIncomplete       = "INCOMPLETE"
	SetupFinalSyncPending = "FINAL_SYNC_PENDING"
	SetupCompleted        = "COMPLETED"
)

// SetSetupStatus changes an integration's setup status (one of the Setup
// constants), as GET /integrations/{id} reports it and as writes for it are
// answered; the integration is made if it is new.
func (s *Server) SetSetupStatus(integrationID, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.integration(integrationID).info.SetupStatus = status
}

// AddOrder adds an order to an integration, created now by the fake's
// clock, or replaces the order with the same id. The order is stored with
// its IntegrationID set to integrationID.
func (s *Server) AddOrder(integrationID string, o kombo.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o = clone(o)
	o.IntegrationID = integrationID
	in := s.integration(integrationID)
	for _, so := range in.orders {
		if so.order.ID == o.ID {
			so.order = o
			return
		}
	}
	s.seq++
	in.orders = append(in.orders, &storedOrder{seq: s.seq, created: s.now(), order: o})
}

// Order returns a copy of an order as the fake holds it now, with any status
// change made by a result.
func (s *Server) Order(integrationID, id string) (kombo.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if so := s.findOrder(integrationID, id); so != nil {
		return clone(so.order), true
	}
	return kombo.Order{}, false
}

// Packages returns the packages last set for an integration.
func (s *Server) Packages(integrationID string) []kombo.Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integrations[integrationID]
	if in == nil {
		return nil
	}
	out := make([]kombo.Package, len(in.packages))
	for i, p := range in.packages {
		out[i] = p.Package
	}
	return out
}

// Results returns the results the fake accepted for an order id, in any
// integration, oldest first. Rejected ones are only in Requests.
func (s *Server) Results(orderID string) []kombo.ResultRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]kombo.ResultRequest, len(s.results[orderID]))
	for i, b := range s.results[orderID] {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			panic("kombotest: stored result does not decode: " + err.Error())
		}
	}
	return out
}

// integration returns the integration with id, creating it if need be.
// s.mu must be held.
func (s *Server) integration(id string) *integration {
	in := s.integrations[id]
	if in == nil {
		tool, _, _ := strings.Cut(id, ":")
		in = &integration{info: kombo.Integration{
			ID: id,
			Tool: kombo.IntegrationTool{
				ID:      tool,
				Label:   tool,
				LogoURL: "https://kombotest.invalid/" + url.PathEscape(tool) + "/logo.svg",
				IconURL: "https://kombotest.invalid/" + url.PathEscape(tool) + "/icon.svg",
			},
			Category:     "ASSESSMENT",
			Status:       kombo.IntegrationStateActive,
			SetupStatus:  "COMPLETED",
			EndUser:      kombo.EndUser{OrganizationName: "Kombotest Org"},
			ScopeConfig:  kombo.ScopeConfig{ID: "KombotestScopeConfig0001"},
			CreatedAt:    kombo.FormatTime(s.now()),
			ReadModels:   []kombo.IntegrationModel{},
			WriteActions: []kombo.IntegrationModel{},
		}}
		s.integrations[id] = in
	}
	return in
}

// findOrder returns the order id of an integration, or nil. s.mu must be
// held.
func (s *Server) findOrder(integrationID, id string) *storedOrder {
	if in := s.integrations[integrationID]; in != nil {
		for _, so := range in.orders {
			if so.order.ID == id {
				return so
			}
		}
	}
	return nil
}

// clone deep-copies a JSON value type.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic("kombotest: " + err.Error())
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic("kombotest: " + err.Error())
	}
	return out
}

// serveHTTP records the request, tracks concurrency, applies latency and
// faults, checks authentication and then routes.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return // the client went away
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	integrationID := r.Header.Get("X-Integration-Id")

	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
		Time:   s.now(),
	})
	s.rateHeaders(w.Header())
	s.inFlight[integrationID]++
	n := s.inFlight[integrationID]
	s.maxInFlight[integrationID] = max(s.maxInFlight[integrationID], n)
	limit, latency, failWhen, apiKey := s.limit, s.latency, s.failWhen, s.apiKey
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight[integrationID]--
		s.mu.Unlock()
	}()

	if limit > 0 && integrationID != "" {
		w.Header().Set("Concurrency-Limit", strconv.Itoa(limit))
		w.Header().Set("Concurrency-Remaining", strconv.Itoa(max(limit-n, 0)))
		if n > limit {
			writeError(w, http.StatusTooManyRequests, kombo.CodeConcurrencyLimitExceeded,
				fmt.Sprintf("More than %d concurrent requests for integration %s.", limit, integrationID))
			return
		}
	}
	if latency > 0 {
		s.sleep(r.Context(), latency)
	}
	var f *Fault
	if failWhen != nil {
		f = failWhen(r)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if f == nil {
		f = s.nextFault()
	}
	if f != nil && s.apply(w, r, f) {
		return
	}

	if r.Header.Get("Authorization") != "Bearer "+apiKey {
		writeError(w, http.StatusUnauthorized, kombo.CodeAuthenticationInvalid, "The API key is invalid.")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/assessment/") && integrationID == "" {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "The X-Integration-Id header is required.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// rateHeaders sets the ratelimit headers Kombo sends with every answer,
// counting requests per minute of the fake's clock. s.mu must be held.
func (s *Server) rateHeaders(h http.Header) {
	now := s.now()
	if w := now.Truncate(time.Minute); !w.Equal(s.rateWindow) {
		s.rateWindow, s.rateCount = w, 0
	}
	s.rateCount++
	h.Set("ratelimit-limit", strconv.Itoa(RateLimit))
	h.Set("ratelimit-remaining", strconv.Itoa(max(RateLimit-s.rateCount, 0)))
	h.Set("ratelimit-reset", strconv.Itoa(int(math.Ceil(s.rateWindow.Add(time.Minute).Sub(now).Seconds()))))
}

// sleep waits for d. If the request is cancelled or the server closed first,
// it aborts the request, closing the connection without a response.
func (s *Server) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return
	case <-ctx.Done():
	case <-s.done:
	}
	panic(http.ErrAbortHandler)
}

// NewID returns a random id of 24 letters and digits, like Kombo's ids.
func NewID() string { return newID(rand.N[int]) }

func newID(intN func(int) int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	for i := range b {
		b[i] = alphabet[intN(len(alphabet))]
	}
	return string(b)
}

// SendWebhook POSTs a webhook to webhookURL as Kombo does: the envelope {id, type, data}
// with a random id, data encoded with encoding/json (pass a json.RawMessage
// to send bytes as they are), signed with secret in the X-Kombo-Signature
// header. The caller must close the response body.
func SendWebhook(ctx context.Context, webhookURL, secret, eventType string, data any) (*http.Response, error) {
	body, err := Webhook("", eventType, data)
	if err != nil {
		return nil, fmt.Errorf("kombotest: SendWebhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("kombotest: SendWebhook: %w", err)
	}
	req.Header = Header(secret, body)
	return http.DefaultClient.Do(req)
}
