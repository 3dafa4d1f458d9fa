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
}

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
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.komboCalls, m.komboLatency,
		&stateCollector{db: db, logger: logger,
			orders: prometheus.NewDesc("assessgate_orders", "Orders, by assessgate's state.", []string{"state"}, nil),
			jobs:   prometheus.NewDesc("assessgate_jobs", "Background jobs, by kind and River state.", []string{"kind", "state"}, nil),
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

// SetBuildInfo publishes assessgate_build_info{version,commit,goversion} 1,
// which says which build each replica runs.
func (m *Metrics) SetBuildInfo(version, commit, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "assessgate_build_info", Help: "Always 1; its labels say which build of assessgate runs.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(version, commit, goVersion).Set(1)
	m.registry.MustRegister(g)
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

// stateCollector reads orders and jobs per state when scraped.
type stateCollector struct {
	db           *sql.DB
	logger       *slog.Logger
	orders, jobs *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.orders
	ch <- c.jobs
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.collect(ctx, ch, c.orders, "SELECT state, count(*) FROM orders GROUP BY state")
	c.collect(ctx, ch, c.jobs, "SELECT kind, state, count(*) FROM river_job GROUP BY kind, state")
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
