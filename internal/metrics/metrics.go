// Package metrics exposes assessgate's Prometheus metrics: HTTP requests by
// route, calls to Kombo by status, and, read at scrape time, orders per
// state and jobs per state. Labels carry routes, states and status codes
// only, never ids or personal data.
package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the registry and the instruments the rest of assessgate
// updates.
type Metrics struct {
	registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	komboCalls   *prometheus.CounterVec
	komboLatency *prometheus.HistogramVec
	refused      *prometheus.CounterVec
}

// Why a webhook was not taken: the reason label of
// assessgate_webhooks_refused_total.
const (
	RefusedSignature    = "signature"           // 401: missing or wrong X-Kombo-Signature
	RefusedTooLarge     = "too_large"           // 413
	RefusedInvalid      = "invalid"             // 400: not a webhook, or its ids cannot be read
	RefusedOrderInvalid = "order_invalid"       // 422: an order whose content assessgate cannot serve
	RefusedPackage      = "package_not_offered" // 422: an order of a package not in the catalogue
	RefusedIntegration  = "integration_refused" // 422: an order of a deleted or inactive integration
	RefusedUnavailable  = "unavailable"         // 503: the database could not commit
)

var refusedReasons = []string{RefusedSignature, RefusedTooLarge, RefusedInvalid, RefusedOrderInvalid,
	RefusedPackage, RefusedIntegration, RefusedUnavailable}

// New returns metrics registered on a registry of their own, with Go's
// runtime and process metrics, gauges of orders and jobs per state read
// from db when scraped, and what group commit did, read from groupCommit
// when scraped: transactions committed and the webhooks and other writes
// they held, whose ratio is the batch size.
func New(db *sql.DB, logger *slog.Logger, groupCommit func() (transactions, writes int64)) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assessgate_http_requests_total", Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "assessgate_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		komboCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assessgate_kombo_requests_total", Help: "Requests to Kombo's API, by method and status code (0: no answer).",
		}, []string{"method", "code"}),
		komboLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "assessgate_kombo_request_duration_seconds", Help: "Time Kombo's API took to answer, by method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assessgate_webhooks_refused_total", Help: "Kombo webhooks answered other than 200, by reason.",
		}, []string{"reason"}),
	}
	for _, r := range refusedReasons {
		m.refused.WithLabelValues(r) // every reason is exported, at 0 until it happens
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.komboCalls, m.komboLatency, m.refused,
		&stateCollector{db: db, logger: logger,
			orders: prometheus.NewDesc("assessgate_orders", "Orders, by assessgate's state.", []string{"state"}, nil),
			jobs:   prometheus.NewDesc("assessgate_jobs", "Background jobs, by kind and River state.", []string{"kind", "state"}, nil),
			parked: prometheus.NewDesc("assessgate_parked_work",
				"Work parked until an integration's setup completes or KOMBO_API_KEY is set, by job kind.", []string{"kind"}, nil),
			stuck: prometheus.NewDesc("assessgate_stuck_orders",
				"Orders Kombo holds OPEN that assessgate refused or could not take: the stuck list (GET /api/v1/stuck-orders).", nil, nil),
			queueAge: prometheus.NewDesc("assessgate_job_queue_oldest_seconds",
				"How long the oldest job that is due has waited to be worked, in seconds (0: none waits).", nil, nil),
			integrations: prometheus.NewDesc("assessgate_integrations", "Integrations, by state (INVALID: the customer must reconnect) and setup status.",
				[]string{"state", "setup_status"}, nil),
		},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "assessgate_group_commit_transactions_total", Help: "Transactions begun by group commit.",
		}, func() float64 { t, _ := groupCommit(); return float64(t) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "assessgate_group_commit_writes_total", Help: "Webhooks and other writes stored by group commit's transactions.",
		}, func() float64 { _, w := groupCommit(); return float64(w) }),
	)
	return m
}

// SetWeakSecrets publishes assessgate_weak_secrets, how many settings hold
// a weak secret (the start-up log and the admin overview name them).
func (m *Metrics) SetWeakSecrets(n int) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "assessgate_weak_secrets", Help: "Settings whose secret or token is weak (short or repetitive): the start-up log and the admin overview name them.",
	})
	g.Set(float64(n))
	m.registry.MustRegister(g)
}

// SetBuildInfo publishes assessgate_build_info{version,commit,goversion} 1,
// which says which build each replica runs.
func (m *Metrics) SetBuildInfo(version, commit, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "assessgate_build_info", Help: "Always 1; its labels say which build of assessgate runs.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(version, commit, goVersion).Set(1)
	m.registry.MustRegister(g)
}

// Readiness exports ready, /readyz's verdict, as the gauge assessgate_ready
// (1 ready, 0 not), asked at each scrape. server.New calls it, once. A nil
// *Metrics exports nothing.
func (m *Metrics) Readiness(ready func() bool) {
	if m == nil {
		return
	}
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "assessgate_ready", Help: "1 while /readyz answers 200 (the database answers and commits), 0 otherwise.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}

// WebhookRefused counts a webhook not taken, for one of the Refused*
// reasons. A nil *Metrics counts nothing.
func (m *Metrics) WebhookRefused(reason string) {
	if m != nil {
		m.refused.WithLabelValues(reason).Inc()
	}
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Middleware counts and times the requests h answers, by the route pattern
// http.ServeMux matched ("unmatched" for none).
func (m *Metrics) Middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transport wraps rt (nil: http.DefaultTransport) so that calls to Kombo
// are counted and timed.
func (m *Metrics) Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := rt.RoundTrip(r)
		code := "0"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		m.komboCalls.WithLabelValues(r.Method, code).Inc()
		m.komboLatency.WithLabelValues(r.Method).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// stateCollector reads orders and jobs per state, the stuck list's length
// and the job queue's age when scraped.
type stateCollector struct {
	db                                                  *sql.DB
	logger                                              *slog.Logger
	orders, jobs, parked, stuck, queueAge, integrations *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.orders
	ch <- c.jobs
	ch <- c.parked
	ch <- c.stuck
	ch <- c.queueAge
	ch <- c.integrations
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.collect(ctx, ch, c.orders, "SELECT state, count(*) FROM orders GROUP BY state")
	c.collect(ctx, ch, c.jobs, "SELECT kind, state, count(*) FROM river_job GROUP BY kind, state")
	c.collect(ctx, ch, c.integrations, "SELECT state, setup_status, count(*) FROM integrations GROUP BY state, setup_status")
	// Every kind that parks, 0 when none is, so that alerts see the series.
	c.collect(ctx, ch, c.parked, `SELECT k.kind, count(p.job_id) FROM
		(SELECT 'writeback' AS kind UNION ALL SELECT 'push_packages' UNION ALL SELECT 'discover_integration') k
		LEFT JOIN parked_work p ON p.kind = k.kind GROUP BY k.kind`)
	// The stuck list, as store.StuckOrders reads it.
	c.collect(ctx, ch, c.stuck, `SELECT count(*) FROM stuck_orders
		WHERE closed_at IS NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = stuck_orders.order_id)`)
	c.collectQueueAge(ctx, ch)
}

// collectQueueAge reports the age of the oldest available job, whose time
// to run has come (River makes a job available when it is due).
func (c *stateCollector) collectQueueAge(ctx context.Context, ch chan<- prometheus.Metric) {
	var v any
	if err := c.db.QueryRowContext(ctx, "SELECT min(scheduled_at) FROM river_job WHERE state = 'available'").Scan(&v); err != nil {
		c.logger.Warn("metrics: read job queue age", "err", err)
		return
	}
	age := 0.0
	if at, ok := timeOf(v); ok {
		age = max(0, time.Since(at).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.queueAge, prometheus.GaugeValue, age)
}

// timeOf reads a timestamp as the drivers give it: a time.Time from
// Postgres, text from SQLite (which loses the column's type in min()).
func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case []byte:
		return timeOf(string(t))
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if at, err := time.Parse(layout, t); err == nil {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

func (c *stateCollector) collect(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, query string) {
	rows, err := c.db.QueryContext(ctx, query)
	if err != nil {
		c.logger.Warn("metrics: read states", "err", err)
		return
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		labels := make([]string, len(cols)-1)
		var n float64
		dest := make([]any, len(cols))
		for i := range labels {
			dest[i] = &labels[i]
		}
		dest[len(cols)-1] = &n
		if err := rows.Scan(dest...); err != nil {
			c.logger.Warn("metrics: read states", "err", err)
			return
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, n, labels...)
	}
}
