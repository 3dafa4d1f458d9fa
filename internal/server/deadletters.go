package server

import (
	"net/http"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
)

// handleListDeadLetters answers GET /api/v1/dead-letters: jobs River gave up
// on, oldest first, with their last error. Filters: kind; pages: limit,
// cursor.
func (s *Server) handleListDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q, 100)
	if err != nil {
		s.error(w, r, err)
		return
	}
	list, next, err := jobs.ListDeadLetters(r.Context(), s.cfg.Jobs, q.Get("kind"), limit, q.Get("cursor"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list, "next_cursor": nextCursor})
}

// retryRequest is the body of POST /api/v1/dead-letters/retry: the ids to
// replay, or every dead letter of a kind, or all of them.
type retryRequest struct {
	IDs  []int64 `json:"ids"`
	Kind string  `json:"kind"`
	All  bool    `json:"all"`
}

// handleRetryDeadLetters answers POST /api/v1/dead-letters/retry.
func (s *Server) handleRetryDeadLetters(w http.ResponseWriter, r *http.Request) {
	var req retryRequest
	if err := decodeJSON(w, r, 1<<20, &req); err != nil {
		s.error(w, r, err)
		return
	}
	switch {
	case len(req.IDs) > 0 && (req.Kind != "" || req.All):
		s.error(w, r, orders.Errorf(orders.EINVALID, "give either ids, or kind, or all: true"))
	case len(req.IDs) > 0:
		// All or none: a bad id leaves the others dead too.
		retried, err := jobs.RetryDeadLetterIDs(r.Context(), s.cfg.Jobs, s.store, req.IDs)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.logger.Info("dead letters replayed", "count", len(retried))
		writeJSON(w, http.StatusOK, map[string]any{"retried": len(retried), "data": retried})
	case req.Kind != "" || req.All:
		n, err := jobs.RetryDeadLetters(r.Context(), s.cfg.Jobs, s.store, req.Kind)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.logger.Info("dead letters replayed", "kind", req.Kind, "count", n)
		writeJSON(w, http.StatusOK, map[string]any{"retried": n})
	default:
		s.error(w, r, orders.Errorf(orders.EINVALID, `say what to retry: {"ids": [...]}, {"kind": "writeback"} or {"all": true}`))
	}
}

// handleReconcile answers POST /api/v1/reconcile: one reconciliation pass
// now, and what it found.
func (s *Server) handleReconcile(w http.ResponseWriter, r *http.Request) {
	sum, err := s.cfg.Reconciler.Run(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
