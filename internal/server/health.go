package server

import (
	"context"
	"net/http"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
)

// handleHealthz answers 200 while the process serves HTTP.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the database answers, 503 otherwise. Its
// body says too what Kombo said of KOMBO_API_KEY ("kombo_api_key"), which
// does not decide readiness (see internal/assessgate/kombokey.go).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.DB().Ping(ctx); err != nil {
		s.logger.Warn("not ready", "err", err)
		s.error(w, r, orders.Errorf(orders.EUNAVAILABLE, "the database does not answer"))
		return
	}
	body := map[string]string{"status": "ok"}
	if s.cfg.KomboKeyStatus != nil {
		body["kombo_api_key"] = s.cfg.KomboKeyStatus()
	}
	writeJSON(w, http.StatusOK, body)
}
