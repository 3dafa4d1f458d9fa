// Package loadgen sends signed order webhooks to a local assessgate and
// measures what comes back: throughput, latency from when each webhook was
// due, and, through the vendor API, that every acknowledged order was stored
// exactly once. The command assessgate-load and the benchmarks of
// docs/benchmarks.md (TestBench in cmd/assessgate) run it; it is no part of
// the product binary.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assessgate/assessgate/client"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// Bounds of one load run: it always stops by itself.
const (
	MaxDuration = 10 * time.Minute
	MaxCount    = 5_000_000
)

// Defaults of the fields of Config left zero.
const (
	DefaultConcurrency = 64
	DefaultDuration    = 10 * time.Second
	DefaultTimeout     = 30 * time.Second
	DefaultMaxInFlight = 10000
	DefaultPackages    = "typescript_test,go_test,react_test,sql_test"
)

// Config is the configuration of a load run.
type Config struct {
	// URL is the webhook URL to send to (loopback only).
	URL string
	// APIURL is the base URL of the vendor API for the check (default:
	// URL's origin).
	APIURL string
	// Secret is the webhook secret to sign with.
	Secret string
	// APIToken is the vendor API token; Check needs it.
	APIToken string
	// Rate is webhooks per second on a fixed schedule (open loop); 0 sends
	// as fast as Concurrency senders can (closed loop).
	Rate        int
	Concurrency int
	// Duration is how long to send, at most MaxDuration.
	Duration time.Duration
	// Count stops after this many webhooks (0: when Duration is over).
	Count int
	// Duplicates is the share of webhooks that redeliver an earlier one,
	// BadSignatures the share signed with a wrong secret (0 to 1).
	Duplicates    float64
	BadSignatures float64
	// Integration is the integration id of the orders (default: a new one
	// per run, so that the check lists only this run's orders).
	Integration string
	// AnnounceIntegration sends Kombo's integration-created webhook for
	// Integration before the orders, as Kombo does when a customer
	// connects, so that the orders are those of a known integration (the
	// steady state) rather than of one never heard of, whose first orders
	// also ask for its discovery.
	AnnounceIntegration bool
	// Packages are the package ids to order.
	Packages []string
	// Seed seeds the generated orders (0: random).
	Seed    uint64
	Timeout time.Duration // of one request
	// Retries sends a webhook again, as Kombo does, up to this many times
	// after no answer or a 5xx.
	Retries int
	// MaxInFlight: with Rate, requests in flight beyond which sends are
	// counted as missed.
	MaxInFlight int
	// Progress, if set, gets a line a second.
	Progress io.Writer
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Packages == nil {
		cfg.Packages = strings.Split(DefaultPackages, ",")
	}
	if u, err := url.Parse(cfg.URL); err == nil && cfg.APIURL == "" {
		cfg.APIURL = u.Scheme + "://" + u.Host
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	return cfg
}

// validate reports the first setting out of bounds.
func (cfg *Config) validate() error {
	if cfg.Secret == "" {
		return errors.New("no secret: set --secret or KOMBO_WEBHOOK_SECRET to the server's webhook secret")
	}
	if err := requireLoopback(cfg.URL); err != nil {
		return err
	}
	if err := requireLoopback(cfg.APIURL); err != nil {
		return err
	}
	switch {
	case cfg.Duplicates < 0 || cfg.Duplicates > 1:
		return fmt.Errorf("--duplicates %v: want a share from 0 to 1, such as 0.05", cfg.Duplicates)
	case cfg.BadSignatures < 0 || cfg.BadSignatures > 1:
		return fmt.Errorf("--bad-signatures %v: want a share from 0 to 1, such as 0.05", cfg.BadSignatures)
	case cfg.Rate < 0:
		return fmt.Errorf("--rate %d: want 0 or more", cfg.Rate)
	case cfg.Concurrency < 1 || cfg.Concurrency > 4096:
		return fmt.Errorf("--concurrency %d: want 1 to 4096", cfg.Concurrency)
	case cfg.Duration <= 0 || cfg.Duration > MaxDuration:
		return fmt.Errorf("--duration %s: want more than 0 and at most %s", cfg.Duration, MaxDuration)
	case cfg.Count < 0 || cfg.Count > MaxCount:
		return fmt.Errorf("--count %d: want 0 to %d", cfg.Count, MaxCount)
	case len(cfg.Packages) == 0:
		return errors.New("--packages: want at least one package id")
	case cfg.Retries < 0 || cfg.Retries > 20:
		return fmt.Errorf("--retries %d: want 0 to 20", cfg.Retries)
	case cfg.MaxInFlight < 1:
		return fmt.Errorf("--max-in-flight %d: want at least 1", cfg.MaxInFlight)
	}
	return nil
}

// requireLoopback refuses URLs that leave the machine: the load generator is
// for measuring one's own server, not for flooding others.
func requireLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s) URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: the load generator sends to loopback addresses only (127.0.0.1, ::1, localhost)", raw)
}

// Generator sends signed order webhooks and records what came back.
type Generator struct {
	cfg    Config
	client *http.Client

	rngMu  sync.Mutex
	rng    *rand.Rand
	orders *kombotest.Orders

	recentMu sync.Mutex
	recent   [][]byte // bodies sent, for redelivery
	recentAt int

	mu       sync.Mutex
	samples  []time.Duration // latencies of validly signed requests
	acked    map[string]int  // order id → 2xx answers
	badIDs   []string        // order ids only ever sent with a bad signature (a sample)
	statuses map[int]int
	errs     map[string]int
	missed   int64

	sent, answered, inFlight, dupsSent, badSent, unexpected, retried atomic.Int64
}

// New returns a generator for cfg, whose zero fields take their defaults
// (Default…). It refuses a URL off this machine and settings out of bounds.
func New(cfg Config) (*Generator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	orders := kombotest.NewOrders(seed)
	if cfg.Integration == "" {
		cfg.Integration = "loadtest:" + orders.ID()
	}
	conns := max(cfg.Concurrency, 64)
	return &Generator{
		cfg: cfg,
		client: &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				MaxIdleConns:        conns * 2,
				MaxIdleConnsPerHost: conns * 2,
				IdleConnTimeout:     90 * time.Second,
				DisableCompression:  true,
			},
		},
		rng:      rand.New(rand.NewPCG(seed, 2)),
		orders:   orders,
		recent:   make([][]byte, 0, 4096),
		acked:    make(map[string]int),
		statuses: make(map[int]int),
		errs:     make(map[string]int),
	}, nil
}

// Report is what a load run measured.
type Report struct {
	URL         string  `json:"url"`
	Mode        string  `json:"mode"`
	Rate        int     `json:"rate,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	Integration string  `json:"integration"`
	Seconds     float64 `json:"seconds"`

	Sent          int64 `json:"sent"`
	Duplicates    int64 `json:"duplicates_sent"`
	BadSignatures int64 `json:"bad_signatures_sent"`
	Acknowledged  int64 `json:"acknowledged"` // 2xx answers
	// AcknowledgedOrders counts the distinct orders with a 2xx answer.
	AcknowledgedOrders int `json:"acknowledged_orders"`
	// Throughput is 2xx answers per second.
	Throughput float64 `json:"throughput"`
	// Missed counts scheduled sends skipped because --max-in-flight
	// requests were outstanding (open loop only).
	Missed   int64          `json:"missed"`
	Statuses map[string]int `json:"statuses"` // every answer by HTTP status
	Errors   map[string]int `json:"errors"`   // requests without an answer
	// Unexpected counts webhooks whose last answer was other than 2xx
	// (validly signed) or 401 (badly signed), or that got none.
	Unexpected int64 `json:"unexpected"`
	// Retried counts webhooks sent again after no answer or a 5xx
	// (--retries).
	Retried int64 `json:"retried"`

	// Latency of validly signed requests, in milliseconds, from the time
	// each was due to be sent (open loop) or was sent (closed loop) to the
	// end of its answer.
	Latency Latency `json:"latency_ms"`

	Check *Check `json:"check,omitempty"`

	ackedIDs []string
	badIDs   []string
}

type Latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

type Check struct {
	OK bool `json:"ok"`
	// Acknowledged orders found exactly once, missing, or found more
	// than once.
	Found   int `json:"found"`
	Missing int `json:"missing"`
	Twice   int `json:"twice"`
	// Extra orders of this run that got no 2xx (a timeout or a lost
	// connection after the commit): allowed, Kombo would redeliver them.
	Extra int `json:"extra"`
	// BadFound counts orders only ever sent with a bad signature that
	// were stored anyway: must be 0.
	BadChecked int    `json:"bad_signature_orders_checked"`
	BadFound   int    `json:"bad_signature_orders_found"`
	Pages      int    `json:"pages"`
	Summary    string `json:"summary"`
}

func Summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	ms := func(q float64) float64 {
		i := int(q*float64(len(d))+0.5) - 1
		i = min(max(i, 0), len(d)-1)
		return float64(d[i].Microseconds()) / 1000
	}
	return Latency{N: len(d), P50: ms(0.50), P90: ms(0.90), P99: ms(0.99), P999: ms(0.999), Max: float64(d[len(d)-1].Microseconds()) / 1000}
}

// Run sends until the duration is over, the count is reached or ctx ends.
func (g *Generator) Run(ctx context.Context) (*Report, error) {
	if g.cfg.AnnounceIntegration {
		if err := g.announceIntegration(ctx); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Duration)
	defer cancel()
	start := time.Now()

	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		g.reportProgress(start, stopProgress)
	}()

	if g.cfg.Rate > 0 {
		g.openLoop(ctx, start)
	} else {
		g.closedLoop(ctx)
	}
	elapsed := time.Since(start)
	close(stopProgress)
	<-progressDone
	g.client.CloseIdleConnections()

	g.mu.Lock()
	defer g.mu.Unlock()
	rep := &Report{
		URL: g.cfg.URL, Integration: g.cfg.Integration, Seconds: elapsed.Seconds(),
		Sent: g.sent.Load(), Duplicates: g.dupsSent.Load(), BadSignatures: g.badSent.Load(),
		Missed: g.missed, Statuses: map[string]int{}, Errors: g.errs,
		Latency: Summarize(g.samples),
	}
	if g.cfg.Rate > 0 {
		rep.Mode, rep.Rate = "rate", g.cfg.Rate
	} else {
		rep.Mode, rep.Concurrency = "concurrency", g.cfg.Concurrency
	}
	for st, n := range g.statuses {
		rep.Statuses[strconv.Itoa(st)] = n
		if st >= 200 && st < 300 {
			rep.Acknowledged += int64(n)
		}
	}
	for id := range g.acked {
		rep.ackedIDs = append(rep.ackedIDs, id)
	}
	sort.Strings(rep.ackedIDs)
	rep.AcknowledgedOrders = len(rep.ackedIDs)
	for _, id := range g.badIDs {
		if g.acked[id] == 0 {
			rep.badIDs = append(rep.badIDs, id)
		}
	}
	rep.Throughput = float64(rep.Acknowledged) / elapsed.Seconds()
	rep.Unexpected = g.unexpected.Load()
	rep.Retried = g.retried.Load()
	return rep, nil
}

// closedLoop runs Concurrency senders, each sending its next webhook when
// the answer to the previous one is in.
func (g *Generator) closedLoop(ctx context.Context) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range g.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if n := next.Add(1); g.cfg.Count > 0 && n > int64(g.cfg.Count) {
					return
				}
				g.send(ctx, time.Now())
			}
		}()
	}
	wg.Wait()
}

// openLoop sends Rate webhooks a second on a fixed schedule, whatever the
// answers take, and measures each from when it was due, so that a slow
// answer counts against every request it delays (no coordinated omission).
func (g *Generator) openLoop(ctx context.Context, start time.Time) {
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(g.cfg.Rate)
	for i := 0; g.cfg.Count == 0 || i < g.cfg.Count; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		if g.inFlight.Load() >= int64(g.cfg.MaxInFlight) {
			g.mu.Lock()
			g.missed++
			g.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.send(ctx, due)
		}()
	}
	wg.Wait()
}

// send sends one webhook, due at due, and records the answer. A webhook
// without an answer or with a 5xx is sent again, as Kombo redelivers, up to
// --retries times, after 50ms doubling to 1s; its latency runs to the last
// answer.
func (g *Generator) send(ctx context.Context, due time.Time) {
	bad := g.chance(g.cfg.BadSignatures)
	body, orderID, dup := g.nextBody(!bad)
	sig := kombo.Sign(g.cfg.Secret, body)
	if bad {
		sig = kombo.Sign("not-"+g.cfg.Secret, body)
		g.badSent.Add(1)
	}
	if dup {
		g.dupsSent.Add(1)
	}
	g.sent.Add(1)
	g.inFlight.Add(1)
	defer g.inFlight.Add(-1)

	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		status, err := g.post(ctx, body, sig)
		if (err != nil || status >= 500) && !bad && attempt < g.cfg.Retries && ctx.Err() == nil {
			g.retried.Add(1)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			backoff = min(2*backoff, time.Second)
			continue
		}
		if err != nil {
			g.unexpected.Add(1)
			return
		}
		latency := time.Since(due)
		ok := status >= 200 && status < 300
		g.mu.Lock()
		if !bad {
			g.samples = append(g.samples, latency)
			if ok {
				g.acked[orderID]++
			}
		} else if len(g.badIDs) < 1000 && !dup {
			g.badIDs = append(g.badIDs, orderID)
		}
		g.mu.Unlock()
		if (!bad && !ok) || (bad && status != http.StatusUnauthorized) {
			g.unexpected.Add(1)
		}
		return
	}
}

// announceIntegration sends the integration-created webhook of the run's
// integration, outside the figures, and wants a 2xx.
func (g *Generator) announceIntegration(ctx context.Context) error {
	body, err := kombotest.IntegrationWebhook("", kombo.EventIntegrationCreated,
		kombotest.Integration{ID: g.cfg.Integration, Organization: "Load Test Inc"})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = kombotest.Header(g.cfg.Secret, body)
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("announce the integration: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("announce the integration: %s: %s", resp.Status, bytes.TrimSpace(answer))
	}
	return nil
}

// post sends one request and records its answer, or why there was none.
func (g *Generator) post(ctx context.Context, body []byte, sig string) (int, error) {
	// The request is not tied to ctx: one cut off by the end of the run
	// would count as an error without being one.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, g.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(kombo.SignatureHeader, sig)
	resp, err := g.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		g.recordError(err)
		return 0, err
	}
	g.answered.Add(1)
	g.mu.Lock()
	g.statuses[resp.StatusCode]++
	g.mu.Unlock()
	return resp.StatusCode, nil
}

// Acknowledged returns how many distinct orders got a 2xx so far.
func (g *Generator) Acknowledged() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.acked)
}

// InFlight returns how many requests are outstanding.
func (g *Generator) InFlight() int64 { return g.inFlight.Load() }

func (g *Generator) recordError(err error) {
	msg := err.Error()
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		msg = opErr.Op + ": " + opErr.Err.Error()
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "Client.Timeout") {
		msg = "timeout"
	}
	g.mu.Lock()
	g.errs[msg]++
	g.mu.Unlock()
}

func (g *Generator) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	g.rngMu.Lock()
	defer g.rngMu.Unlock()
	return g.rng.Float64() < p
}

// nextBody returns the next webhook body: a redelivery of an earlier one
// with the share --duplicates, else a new order, which is kept for
// redelivery if keep is set.
func (g *Generator) nextBody(keep bool) (body []byte, orderID string, dup bool) {
	if g.chance(g.cfg.Duplicates) {
		g.recentMu.Lock()
		if n := len(g.recent); n > 0 {
			g.rngMu.Lock()
			body = g.recent[g.rng.IntN(n)]
			g.rngMu.Unlock()
		}
		g.recentMu.Unlock()
		if body != nil {
			return body, orderIDOf(body), true
		}
	}
	g.rngMu.Lock()
	o := g.orders.Order(kombotest.WithIntegration(g.cfg.Integration), kombotest.WithPackage(g.cfg.Packages[g.rng.IntN(len(g.cfg.Packages))]))
	eventID := g.orders.ID()
	g.rngMu.Unlock()
	body, orderID = kombotest.OrderWebhook(eventID, o), o.ID
	if !keep {
		return body, orderID, false
	}
	g.recentMu.Lock()
	if len(g.recent) < cap(g.recent) {
		g.recent = append(g.recent, body)
	} else {
		g.recent[g.recentAt] = body
		g.recentAt = (g.recentAt + 1) % len(g.recent)
	}
	g.recentMu.Unlock()
	return body, orderID, false
}

func orderIDOf(body []byte) string {
	var w struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	json.Unmarshal(body, &w)
	return w.Data.ID
}

// reportProgress prints a line a second until stop is closed.
func (g *Generator) reportProgress(start time.Time, stop <-chan struct{}) {
	if g.cfg.Progress == nil {
		<-stop
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastAnswered int64
	lastSamples := 0
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		answered := g.answered.Load()
		g.mu.Lock()
		window := slices.Clone(g.samples[lastSamples:])
		lastSamples = len(g.samples)
		var errs int
		for _, n := range g.errs {
			errs += n
		}
		g.mu.Unlock()
		s := Summarize(window)
		fmt.Fprintf(g.cfg.Progress, "%5.1fs  sent %d  answered %d (%d/s)  unexpected %d  no answer %d  in flight %d  p50 %.1fms p99 %.1fms\n",
			time.Since(start).Seconds(), g.sent.Load(), answered, answered-lastAnswered, g.unexpected.Load(), errs, g.inFlight.Load(), s.P50, s.P99)
		lastAnswered = answered
	}
}

// Check lists this run's orders through the vendor API and checks that
// every acknowledged order is there exactly once, and that no order sent
// only with a bad signature is.
func (g *Generator) Check(ctx context.Context, rep *Report) error {
	seen := map[string]int{}
	c := &Check{}
	api, err := client.New(g.cfg.APIURL, g.cfg.APIToken, client.WithHTTPClient(g.client))
	if err != nil {
		return err
	}
	params := client.ListOrdersParams{IntegrationId: &g.cfg.Integration, Limit: new(500)}
	for {
		resp, err := api.ListOrdersWithResponse(ctx, &params)
		if err != nil {
			return fmt.Errorf("check: list orders: %w", err)
		}
		if resp.JSON200 == nil {
			return fmt.Errorf("check: list orders: status %d: %s", resp.StatusCode(), bytes.TrimSpace(resp.Body))
		}
		c.Pages++
		for _, o := range resp.JSON200.Data {
			seen[o.Id]++
		}
		next := resp.JSON200.NextCursor
		if next == nil || *next == "" {
			break
		}
		params.Cursor = next
	}
	acked := map[string]bool{}
	for _, id := range rep.ackedIDs {
		acked[id] = true
		switch seen[id] {
		case 0:
			c.Missing++
		case 1:
			c.Found++
		default:
			c.Twice++
		}
	}
	for id := range seen {
		if !acked[id] {
			c.Extra++
		}
	}
	for _, id := range rep.badIDs {
		c.BadChecked++
		if seen[id] > 0 {
			c.BadFound++
		}
	}
	c.OK = c.Missing == 0 && c.Twice == 0 && c.BadFound == 0
	c.Summary = fmt.Sprintf("%d acknowledged orders: %d found exactly once, %d missing, %d more than once; %d stored without a 2xx; %d of %d badly signed orders stored (%d pages)",
		len(rep.ackedIDs), c.Found, c.Missing, c.Twice, c.Extra, c.BadFound, c.BadChecked, c.Pages)
	rep.Check = c
	return nil
}

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	how := fmt.Sprintf("%d concurrent senders", r.Concurrency)
	if r.Mode == "rate" {
		how = fmt.Sprintf("%d/s on a fixed schedule", r.Rate)
	}
	fmt.Fprintf(w, "assessgate-load: %s, %s, %.2fs\n", r.URL, how, r.Seconds)
	fmt.Fprintf(w, "  sent          %d (%d redeliveries, %d with a bad signature)\n", r.Sent, r.Duplicates, r.BadSignatures)
	fmt.Fprintf(w, "  acknowledged  %d (2xx), %.0f/s\n", r.Acknowledged, r.Throughput)
	l := r.Latency
	fmt.Fprintf(w, "  latency       p50 %.2fms  p90 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms  (%d validly signed)\n", l.P50, l.P90, l.P99, l.P999, l.Max, l.N)
	var codes []string
	for code := range r.Statuses {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		if code[0] == '2' {
			continue
		}
		note := ""
		if code == "401" {
			note = " (401 is expected for bad signatures)"
		}
		fmt.Fprintf(w, "  status %s    %d%s\n", code, r.Statuses[code], note)
	}
	for msg, n := range r.Errors {
		fmt.Fprintf(w, "  no answer     %d: %s\n", n, msg)
	}
	if r.Retried > 0 {
		fmt.Fprintf(w, "  sent again    %d (after no answer or a 5xx)\n", r.Retried)
	}
	if r.Missed > 0 {
		fmt.Fprintf(w, "  missed        %d sends (too many in flight)\n", r.Missed)
	}
	fmt.Fprintf(w, "  unexpected    %d\n", r.Unexpected)
	if r.Check != nil {
		verdict := "ok"
		if !r.Check.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "  check         %s: %s\n", verdict, r.Check.Summary)
	}
}
