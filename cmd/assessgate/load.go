package main

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

	"github.com/assessgate/assessgate/kombo"
)

// Bounds of one load run: it always stops by itself.
const (
	maxLoadDuration = 10 * time.Minute
	maxLoadCount    = 5_000_000
)

// loadConfig is the configuration of "assessgate load".
type loadConfig struct {
	URL           string
	APIURL        string
	Secret        string
	APIToken      string
	Rate          int
	Concurrency   int
	Duration      time.Duration
	Count         int
	Duplicates    float64
	BadSignatures float64
	Integration   string
	Packages      []string
	Seed          uint64
	Timeout       time.Duration
	Retries       int
	MaxInFlight   int
	JSON          bool
	Quiet         bool
}

func parseLoadConfig(args []string, getenv func(string) string, stderr io.Writer) (*loadConfig, error) {
	f := newEnvFlags("load", getenv, stderr)
	target := f.String("url", "ASSESSGATE_LOAD_URL", "http://127.0.0.1:8080/webhooks/kombo", "webhook URL to send to (loopback only)")
	apiURL := f.String("api-url", "ASSESSGATE_LOAD_API_URL", "", "base URL of the vendor API for the check (default: the webhook URL's origin)")
	secret := f.String("secret", "KOMBO_WEBHOOK_SECRET", "", "webhook secret to sign with")
	token := f.String("api-token", "ASSESSGATE_API_TOKEN", "", "vendor API token; with it, every acknowledged order is checked afterwards")
	rate := f.Int("rate", "ASSESSGATE_LOAD_RATE", 0, "webhooks per second on a fixed schedule (open loop); 0 sends as fast as --concurrency senders can")
	conc := f.Int("concurrency", "ASSESSGATE_LOAD_CONCURRENCY", 64, "concurrent senders when --rate is 0")
	duration := f.Duration("duration", "ASSESSGATE_LOAD_DURATION", 10*time.Second, "how long to send, at most "+maxLoadDuration.String())
	count := f.Int("count", "ASSESSGATE_LOAD_COUNT", 0, "stop after this many webhooks (0: when --duration is over)")
	dups := f.String("duplicates", "ASSESSGATE_LOAD_DUPLICATES", "0", "share of webhooks that redeliver an earlier one (0 to 1)")
	bad := f.String("bad-signatures", "ASSESSGATE_LOAD_BAD_SIGNATURES", "0", "share of webhooks signed with a wrong secret (0 to 1)")
	integ := f.String("integration", "ASSESSGATE_LOAD_INTEGRATION", "", "integration id of the orders (default: a new one per run, so the check lists only this run's orders)")
	pkgs := f.String("packages", "ASSESSGATE_LOAD_PACKAGES", "typescript_test,go_test,react_test,sql_test", "package ids to order, comma-separated")
	seed := f.Int("seed", "ASSESSGATE_LOAD_SEED", 0, "seed of the generated orders (0: random)")
	timeout := f.Duration("timeout", "ASSESSGATE_LOAD_TIMEOUT", 30*time.Second, "timeout of one request")
	retries := f.Int("retries", "ASSESSGATE_LOAD_RETRIES", 0, "send a webhook again, as Kombo does, up to this many times after no answer or a 5xx")
	maxInFlight := f.Int("max-in-flight", "ASSESSGATE_LOAD_MAX_IN_FLIGHT", 10000, "with --rate: requests in flight beyond which sends are counted as missed")
	asJSON := f.fs.Bool("json", false, "print the report as JSON")
	quiet := f.fs.Bool("quiet", false, "no progress lines")
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	cfg := &loadConfig{
		URL: *target, APIURL: strings.TrimRight(*apiURL, "/"), Secret: *secret, APIToken: *token,
		Rate: *rate, Concurrency: *conc, Duration: *duration, Count: *count, Integration: *integ,
		Packages: splitList(*pkgs), Seed: uint64(*seed), Timeout: *timeout, Retries: *retries, MaxInFlight: *maxInFlight,
		JSON: *asJSON, Quiet: *quiet,
	}
	var err error
	if cfg.Duplicates, err = parseShare("--duplicates", *dups); err != nil {
		return nil, err
	}
	if cfg.BadSignatures, err = parseShare("--bad-signatures", *bad); err != nil {
		return nil, err
	}
	if cfg.Secret == "" {
		return nil, errors.New("no secret: set --secret or KOMBO_WEBHOOK_SECRET to the server's webhook secret")
	}
	if err := requireLoopback(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.APIURL == "" {
		u, _ := url.Parse(cfg.URL)
		cfg.APIURL = u.Scheme + "://" + u.Host
	} else if err := requireLoopback(cfg.APIURL); err != nil {
		return nil, err
	}
	switch {
	case cfg.Rate < 0:
		return nil, fmt.Errorf("--rate %d: want 0 or more", cfg.Rate)
	case cfg.Concurrency < 1 || cfg.Concurrency > 4096:
		return nil, fmt.Errorf("--concurrency %d: want 1 to 4096", cfg.Concurrency)
	case cfg.Duration <= 0 || cfg.Duration > maxLoadDuration:
		return nil, fmt.Errorf("--duration %s: want more than 0 and at most %s", cfg.Duration, maxLoadDuration)
	case cfg.Count < 0 || cfg.Count > maxLoadCount:
		return nil, fmt.Errorf("--count %d: want 0 to %d", cfg.Count, maxLoadCount)
	case len(cfg.Packages) == 0:
		return nil, errors.New("--packages: want at least one package id")
	case cfg.Retries < 0 || cfg.Retries > 20:
		return nil, fmt.Errorf("--retries %d: want 0 to 20", cfg.Retries)
	case cfg.MaxInFlight < 1:
		return nil, fmt.Errorf("--max-in-flight %d: want at least 1", cfg.MaxInFlight)
	}
	return cfg, nil
}

func parseShare(name, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("%s %q: want a share from 0 to 1, such as 0.05", name, s)
	}
	return v, nil
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
	return fmt.Errorf("%s: assessgate load sends to loopback addresses only (127.0.0.1, ::1, localhost)", raw)
}

func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseLoadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	g := newLoadGen(cfg)
	if !cfg.Quiet {
		g.progress = stderr
	}
	rep, err := g.run(ctx)
	if err != nil {
		return err
	}
	if cfg.APIToken != "" {
		if err := g.check(ctx, rep); err != nil {
			return err
		}
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(stdout)
	}
	if rep.Check != nil && !rep.Check.OK {
		return fmt.Errorf("check failed: %s", rep.Check.Summary)
	}
	return nil
}

// loadGen sends signed order webhooks and records what came back.
type loadGen struct {
	cfg      *loadConfig
	client   *http.Client
	progress io.Writer // nil: no progress lines

	rngMu sync.Mutex
	rng   *rand.Rand

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

func newLoadGen(cfg *loadConfig) *loadGen {
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	if cfg.Integration == "" {
		cfg.Integration = "loadtest:" + randomID(rand.New(rand.NewPCG(seed, 1)))
	}
	conns := max(cfg.Concurrency, 64)
	return &loadGen{
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
		recent:   make([][]byte, 0, 4096),
		acked:    make(map[string]int),
		statuses: make(map[int]int),
		errs:     make(map[string]int),
	}
}

// loadReport is what a load run measured.
type loadReport struct {
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
	Latency latencySummary `json:"latency_ms"`

	Check *loadCheck `json:"check,omitempty"`

	ackedIDs []string
	badIDs   []string
}

type latencySummary struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

type loadCheck struct {
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

func summarize(d []time.Duration) latencySummary {
	if len(d) == 0 {
		return latencySummary{}
	}
	slices.Sort(d)
	ms := func(q float64) float64 {
		i := int(q*float64(len(d))+0.5) - 1
		i = min(max(i, 0), len(d)-1)
		return float64(d[i].Microseconds()) / 1000
	}
	return latencySummary{N: len(d), P50: ms(0.50), P90: ms(0.90), P99: ms(0.99), P999: ms(0.999), Max: float64(d[len(d)-1].Microseconds()) / 1000}
}

// run sends until the duration is over, the count is reached or ctx ends.
func (g *loadGen) run(ctx context.Context) (*loadReport, error) {
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
	rep := &loadReport{
		URL: g.cfg.URL, Integration: g.cfg.Integration, Seconds: elapsed.Seconds(),
		Sent: g.sent.Load(), Duplicates: g.dupsSent.Load(), BadSignatures: g.badSent.Load(),
		Missed: g.missed, Statuses: map[string]int{}, Errors: g.errs,
		Latency: summarize(g.samples),
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
func (g *loadGen) closedLoop(ctx context.Context) {
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
func (g *loadGen) openLoop(ctx context.Context, start time.Time) {
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
func (g *loadGen) send(ctx context.Context, due time.Time) {
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

// post sends one request and records its answer, or why there was none.
func (g *loadGen) post(ctx context.Context, body []byte, sig string) (int, error) {
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

// acknowledged returns how many distinct orders got a 2xx so far.
func (g *loadGen) acknowledged() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.acked)
}

func (g *loadGen) recordError(err error) {
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

func (g *loadGen) chance(p float64) bool {
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
func (g *loadGen) nextBody(keep bool) (body []byte, orderID string, dup bool) {
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
	body, orderID = newOrderWebhook(g.rng, g.cfg.Integration, g.cfg.Packages)
	g.rngMu.Unlock()
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
func (g *loadGen) reportProgress(start time.Time, stop <-chan struct{}) {
	if g.progress == nil {
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
		s := summarize(window)
		fmt.Fprintf(g.progress, "%5.1fs  sent %d  answered %d (%d/s)  unexpected %d  no answer %d  in flight %d  p50 %.1fms p99 %.1fms\n",
			time.Since(start).Seconds(), g.sent.Load(), answered, answered-lastAnswered, g.unexpected.Load(), errs, g.inFlight.Load(), s.P50, s.P99)
		lastAnswered = answered
	}
}

// check lists this run's orders through the vendor API and checks that
// every acknowledged order is there exactly once, and that no order sent
// only with a bad signature is.
func (g *loadGen) check(ctx context.Context, rep *loadReport) error {
	seen := map[string]int{}
	c := &loadCheck{}
	cursor := ""
	for {
		q := url.Values{"integration_id": {g.cfg.Integration}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		if status, err := g.api(ctx, "/api/v1/orders?"+q.Encode(), &page); err != nil || status != http.StatusOK {
			return fmt.Errorf("check: list orders: status %d: %v", status, err)
		}
		c.Pages++
		for _, o := range page.Data {
			seen[o.ID]++
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			break
		}
		cursor = *page.NextCursor
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

func (g *loadGen) api(ctx context.Context, path string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.APIURL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+g.cfg.APIToken)
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return resp.StatusCode, fmt.Errorf("%s", bytes.TrimSpace(b))
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// print writes the report for people.
func (r *loadReport) print(w io.Writer) {
	how := fmt.Sprintf("%d concurrent senders", r.Concurrency)
	if r.Mode == "rate" {
		how = fmt.Sprintf("%d/s on a fixed schedule", r.Rate)
	}
	fmt.Fprintf(w, "assessgate load: %s, %s, %.2fs\n", r.URL, how, r.Seconds)
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

// Generated orders vary the people, jobs and packages, in the shape of
// Kombo's example order (testdata/seed-assessment-order-received.json).
var (
	loadFirstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Linus", "Radia", "Tim", "Hedy", "John", "Jane", "Ming", "Amara", "Jonas", "Zoë", "Mateo"}
	loadLastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen", "Torvalds", "Perlman", "Berners-Lee", "Lamarr", "Doe", "Müller", "Okafor", "Nakamura", "Silva", "Kowalski", "García"}
	loadJobs       = []string{"Backend Engineer", "Frontend Engineer", "Data Analyst", "Site Reliability Engineer", "Product Designer", "Bottle Opener", "Support Engineer", "Engineering Manager"}
	loadCities     = []struct{ city, country string }{{"Berlin", "DE"}, {"Paris", "FR"}, {"London", "GB"}, {"Lisbon", "PT"}, {"New York", "US"}, {"Toronto", "CA"}}
	loadTools      = []string{"RECRUITER", "HIRING_MANAGER"}
)

const loadDescription = "<p>We are looking for a skilled and energetic individual to join our team. This role requires precision, attention to detail, and the ability to handle a high volume of work in a fast-paced environment. The ideal candidate will ship swiftly and safely while maintaining our standards.</p>"

// newOrderWebhook returns a signed-to-be assessment:order-received webhook
// for a new order, and the order's id.
func newOrderWebhook(rng *rand.Rand, integrationID string, packages []string) ([]byte, string) {
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	str := func(s string) *string { return &s }
	first, last := pick(loadFirstNames), pick(loadLastNames)
	city := loadCities[rng.IntN(len(loadCities))]
	jobName := pick(loadJobs)
	orderID := randomID(rng)
	o := kombo.Order{
		ID:            orderID,
		IntegrationID: integrationID,
		PackageID:     pick(packages),
		Status:        kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{
			RemoteID:  str(strconv.Itoa(rng.IntN(1_000_000))),
			Email:     strings.ToLower(fmt.Sprintf("%s.%s+%d@example.com", asciiName(first), asciiName(last), rng.IntN(100_000))),
			FirstName: str(first),
			LastName:  str(last),
			Phone:     str(fmt.Sprintf("+49 30 %07d", rng.IntN(10_000_000))),
		},
		Application: kombo.Application{RemoteID: str(strconv.Itoa(rng.IntN(1_000_000)))},
		Job: kombo.Job{
			RemoteID:    str(strconv.Itoa(rng.IntN(1_000_000))),
			Name:        str(jobName),
			JobCode:     str(fmt.Sprintf("JOB-%04d", rng.IntN(10_000))),
			Description: str(loadDescription),
			Location: &kombo.Location{
				City: str(city.city), Country: str(city.country), Raw: str(city.city + ", " + city.country),
			},
			HiringTeam: []kombo.HiringTeamMember{{
				RemoteID:        str(strconv.Itoa(rng.IntN(1_000_000))),
				Email:           str(strings.ToLower(asciiName(pick(loadFirstNames))) + "@employer.example"),
				FirstName:       str(pick(loadFirstNames)),
				LastName:        str(pick(loadLastNames)),
				HiringTeamRoles: []string{pick(loadTools)},
			}},
		},
	}
	data, _ := json.Marshal(o)
	body, _ := json.Marshal(struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}{randomID(rng), kombo.EventOrderReceived, data})
	return body, orderID
}

// asciiName keeps the letters of a name that are safe in an e-mail address.
func asciiName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// randomID returns an id of 24 letters and digits, like Kombo's.
func randomID(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
