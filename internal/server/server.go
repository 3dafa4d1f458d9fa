// Package server is assessgate's HTTP surface: Kombo's webhooks, the vendor
// API, the candidate link and health checks. routes.go lists all of it.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/metrics"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// Config is what the server needs.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger

	// WebhookSecrets verify X-Kombo-Signature; any one may match, so a secret
	// can be rotated.
	WebhookSecrets []string
	// APITokens are the bearer tokens of the vendor API.
	APITokens []string
	// Catalogue is the vendor's package list; orders for other packages are
	// rejected. Nil or empty accepts every package.
	Catalogue *orders.Catalogue
	// AssessmentURL is the candidate link template, with {token}, {order_id}
	// and {package_id} placeholders.
	AssessmentURL string
	// CandidateNotice, if set, is shown to a candidate before the
	// assessment (see Notice).
	CandidateNotice *Notice
	// Jobs is River's client, for dead letters.
	Jobs *jobs.Client
	// Kombo calls Kombo's API for the onboarding endpoints (Connect links,
	// tokens, relinks); nil (KOMBO_API_KEY unset) answers them 503.
	Kombo *kombo.Client
	// Reconciler runs reconciliation passes on request.
	Reconciler *jobs.Reconciler
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Admin serves the admin pages under /admin/; nil turns them off.
	Admin http.Handler
	// Metrics, if set, counts requests and serves GET /metrics.
	Metrics *metrics.Metrics
	// Retention runs retention passes on request; nil answers 503.
	Retention *jobs.Retention
	// KomboKeyStatus, if set, says what Kombo said of KOMBO_API_KEY at
	// start-up ("ok", or what is wrong), shown in /readyz's body; it does
	// not make the replica unready.
	KomboKeyStatus func() string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (ASSESSGATE_TRUSTED_PROXIES); empty
	// trusts none.
	TrustedProxies proxy.Trusted
	// NoWriteRoute mounts POST /bench/no-write/webhooks/kombo: the webhook
	// path with a store that writes nothing, to measure what storing
	// costs (docs/benchmarks.md). The route is compiled only into a binary
	// built with -tags bench; without the tag, New panics if it is set.
	NoWriteRoute bool
}

// Server serves assessgate's HTTP API.
type Server struct {
	cfg     Config
	store   *store.Store
	logger  *slog.Logger
	handler http.Handler
	srv     *http.Server
	ln      net.Listener

	readiness readiness
}

// New returns a server; Open starts it.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, store: cfg.Store, logger: cfg.Logger}
	s.handler = s.routes()
	cfg.Metrics.Readiness(func() bool { _, ok := s.ready(context.Background()); return ok })
	return s
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// Handler returns the server's handler, for tests and for mounting.
func (s *Server) Handler() http.Handler { return s.handler }

// Open binds addr, so that a bad address fails at once and ":0" picks a
// free port, and serves in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops taking requests and waits for those in flight, until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// requireToken wraps h so that it answers 401 without a valid bearer token.
func (s *Server) requireToken(h http.HandlerFunc) http.HandlerFunc {
	// Compare hashes, so the comparison takes the same time whatever the
	// lengths of the tokens.
	var sums [][32]byte
	for _, t := range s.cfg.APITokens {
		if t != "" {
			sums = append(sums, sha256.Sum256([]byte(t)))
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="assessgate"`)
			s.error(w, r, orders.Errorf(orders.EUNAUTHORIZED, "missing bearer token: send Authorization: Bearer <ASSESSGATE_API_TOKEN>"))
			return
		}
		got := sha256.Sum256([]byte(token))
		match := 0
		for _, sum := range sums {
			match |= subtle.ConstantTimeCompare(got[:], sum[:])
		}
		if match != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="assessgate", error="invalid_token"`)
			s.error(w, r, orders.Errorf(orders.EUNAUTHORIZED, "invalid bearer token"))
			return
		}
		h(w, r)
	}
}
