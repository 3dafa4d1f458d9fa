//go:build bench

package server

import (
	"context"
	"net/http"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// mountNoWrite mounts the benchmarks' no-write route (Config.NoWriteRoute).
func (s *Server) mountNoWrite(mux *http.ServeMux) {
	mux.HandleFunc("POST /bench/no-write/webhooks/kombo", s.handleNoWriteWebhook)
}

// handleNoWriteWebhook is handleKomboWebhook with a store that writes
// nothing: the same reading, verification, decoding, checks, logging and
// answer, for measuring what storing a webhook costs (Config.NoWriteRoute).
func (s *Server) handleNoWriteWebhook(w http.ResponseWriter, r *http.Request) {
	s.takeWebhook(w, r, func(_ context.Context, in *store.Intake) (*store.IntakeResult, error) {
		res := &store.IntakeResult{}
		if o := in.Webhook.Order; o != nil {
			res.Order = &orders.Order{Order: *o, State: orders.StateReceived}
		}
		return res, nil
	})
}
