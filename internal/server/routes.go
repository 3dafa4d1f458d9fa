package server

import "net/http"

// routes is the whole HTTP surface of assessgate.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)

	mux.HandleFunc("POST /webhooks/kombo", s.handleKomboWebhook)

	mux.HandleFunc("GET /api/v1/orders", s.requireToken(s.handleListOrders))
	mux.HandleFunc("GET /api/v1/orders/{id}", s.requireToken(s.handleGetOrder))
	mux.HandleFunc("POST /api/v1/orders/{id}/invite", s.requireToken(s.handleInvite))
	mux.HandleFunc("GET /a/{token}", s.handleCandidateLink)

	return mux
}
