package server

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// handleHealthz answers 200 while the process serves HTTP: liveness.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyCheck is one of /readyz's checks: a name and what fails when the
// replica should not be sent traffic.
type readyCheck struct {
	name  string
	check func(context.Context) error
}

// readyChecks are /readyz's checks, in order. One more is one more line.
func (s *Server) readyChecks() []readyCheck {
	return []readyCheck{
		{"database", func(ctx context.Context) error { return s.store.DB().Ping(ctx) }},
		{"database_writes", s.store.CheckWrites}, // recent commits, and a write probe
	}
}

// checkResult is what /readyz says of one check.
type checkResult struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "ok" or "failing"
	Error  string `json:"error,omitempty"`
}

// readiness runs the checks, at most once a second however often asked (a
// probe writes), and caches what they found.
type readiness struct {
	mu      sync.Mutex
	at      time.Time
	results []checkResult
	ok      bool
}

// readyFor is how long the checks' results are reused.
const readyFor = time.Second

// ready returns the checks' results and whether every one passed.
func (s *Server) ready(ctx context.Context) ([]checkResult, bool) {
	s.readiness.mu.Lock()
	defer s.readiness.mu.Unlock()
	if !s.readiness.at.IsZero() && time.Since(s.readiness.at) < readyFor {
		return s.readiness.results, s.readiness.ok
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	results, ok := []checkResult{}, true
	for _, c := range s.readyChecks() {
		res := checkResult{Name: c.name, Status: "ok"}
		if err := c.check(ctx); err != nil {
			res.Status, res.Error, ok = "failing", err.Error(), false
		}
		results = append(results, res)
	}
	s.readiness.at, s.readiness.results, s.readiness.ok = time.Now(), results, ok
	return results, ok
}

// handleReadyz answers 200 when every readiness check passes, 503 naming
// the failing ones otherwise: the database answers, and it can commit.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	results, ok := s.ready(r.Context())
	if !ok {
		for _, c := range results {
			if c.Error != "" {
				s.logger.Warn("not ready", "check", c.Name, "err", c.Error)
			}
		}
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, s.readyBody("unavailable", results))
		return
	}
	writeJSON(w, http.StatusOK, s.readyBody("ok", results))
}

// readyBody is /readyz's answer: the status, each check, and what Kombo
// said of KOMBO_API_KEY at start-up ("kombo_api_key"), which does not
// decide readiness (see internal/assessgate/kombokey.go).
func (s *Server) readyBody(status string, results []checkResult) map[string]any {
	body := map[string]any{"status": status, "checks": results}
	if s.cfg.KomboKeyStatus != nil {
		body["kombo_api_key"] = s.cfg.KomboKeyStatus()
	}
	return body
}
