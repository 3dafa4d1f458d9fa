package server

import "net/http"

// routes is the whole HTTP surface of assessgate.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.HandleFunc("GET /api/v1/openapi.yaml", s.handleOpenAPIYAML) // the contract: package api
	mux.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPIJSON)
	mux.HandleFunc("GET /api/docs", s.handleAPIDocs)

	mux.HandleFunc("POST /webhooks/kombo", s.handleKomboWebhook)
	if s.cfg.NoWriteRoute {
		s.mountNoWrite(mux) // only in a binary built with -tags bench: see nowrite.go
	}

	mux.HandleFunc("GET /api/v1/orders", s.requireToken(s.handleListOrders))
	mux.HandleFunc("GET /api/v1/orders/{id}", s.requireToken(s.handleGetOrder))
	mux.HandleFunc("PUT /api/v1/orders/{id}/result", s.requireToken(s.handlePutResult))
	mux.HandleFunc("POST /api/v1/orders/{id}/invite", s.requireToken(s.handleInvite))
	mux.HandleFunc("GET /a/{token}", s.handleCandidateLink)

	mux.HandleFunc("GET /api/v1/packages", s.requireToken(s.handleGetPackages))
	mux.HandleFunc("PUT /api/v1/packages", s.requireToken(s.handlePutPackages))
	mux.HandleFunc("GET /api/v1/integrations", s.requireToken(s.handleListIntegrations))
	mux.HandleFunc("GET /api/v1/integrations/{id}", s.requireToken(s.handleGetIntegration))
	mux.HandleFunc("POST /api/v1/integrations/{id}/relink", s.requireToken(s.handleRelink))
	mux.HandleFunc("POST /api/v1/connect/links", s.requireToken(s.handleConnectLink))
	mux.HandleFunc("POST /api/v1/connect/tokens", s.requireToken(s.handleConnectToken))
	mux.HandleFunc("GET /api/v1/tenants/{tenant_id}", s.requireToken(s.handleGetTenant))
	mux.HandleFunc("PUT /api/v1/tenants/{tenant_id}", s.requireToken(s.handlePutTenant))

	mux.HandleFunc("GET /api/v1/dead-letters", s.requireToken(s.handleListDeadLetters))
	mux.HandleFunc("POST /api/v1/dead-letters/retry", s.requireToken(s.handleRetryDeadLetters))
	mux.HandleFunc("GET /api/v1/parked", s.requireToken(s.handleListParked))
	mux.HandleFunc("POST /api/v1/reconcile", s.requireToken(s.handleReconcile))
	mux.HandleFunc("GET /api/v1/stuck-orders", s.requireToken(s.handleListStuckOrders))
	mux.HandleFunc("POST /api/v1/stuck-orders/{id}/close", s.requireToken(s.handleCloseStuckOrder))
	mux.HandleFunc("POST /api/v1/stuck-orders/{id}/retry", s.requireToken(s.handleRetryStuckOrder))
	mux.Handle("/admin/", s.admin()) // its own pages: see package admin

	mux.HandleFunc("POST /api/v1/candidates/export", s.requireToken(s.candidateHandler(emailBody, s.exportCandidate)))
	mux.HandleFunc("POST /api/v1/candidates/erase", s.requireToken(s.candidateHandler(emailBody, s.eraseCandidate)))
	// The address in the URL: kept for compatibility; the POST forms above
	// keep it out of access logs.
	mux.HandleFunc("GET /api/v1/candidates", s.requireToken(s.candidateHandler(emailParam, s.exportCandidate)))
	mux.HandleFunc("DELETE /api/v1/candidates", s.requireToken(s.candidateHandler(emailParam, s.eraseCandidate)))
	mux.HandleFunc("GET /api/v1/erasures", s.requireToken(s.handleListErasures))
	mux.HandleFunc("POST /api/v1/retention", s.requireToken(s.handleRetention))

	var h http.Handler = s.jsonNotFound(mux, mux)
	if m := s.cfg.Metrics; m != nil {
		// Metrics tell how much business runs through assessgate: they
		// take the API token too.
		mux.HandleFunc("GET /metrics", s.requireToken(m.Handler().ServeHTTP))
		h = m.Middleware(h)
	}
	return s.cfg.TrustedProxies.Handler(s.recoverPanics(h))
}
