package server

import (
	"net/http"

	"github.com/assessgate/assessgate/internal/orders"
)

// handleGetTenant answers GET /api/v1/tenants/{tenant_id}: the tenant's
// settings (orders.TenantSettings), the defaults for a tenant known by its
// integrations that set none (no updated_at), 404 for a tenant known by
// neither.
func (s *Server) handleGetTenant(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.FindTenantSettings(r.Context(), r.PathValue("tenant_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

// handlePutTenant answers PUT /api/v1/tenants/{tenant_id}: it replaces the
// tenant's settings (a field left out takes its default) and answers 200
// with them as stored; 400 naming the field that is wrong. A tenant need
// not have an integration yet: its settings wait for it.
func (s *Server) handlePutTenant(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("tenant_id")
	var ts orders.TenantSettings
	if err := decodeJSON(w, r, 64<<10, &ts); err != nil {
		s.error(w, r, err)
		return
	}
	if ts.TenantID != "" && ts.TenantID != id {
		s.error(w, r, orders.Errorf(orders.EINVALID, "tenant_id %q: differs from the path's %q", ts.TenantID, id))
		return
	}
	if len(id) > 200 {
		s.error(w, r, orders.Errorf(orders.EINVALID, "tenant_id: at most 200 characters"))
		return
	}
	ts.TenantID = id
	stored, err := s.store.PutTenantSettings(r.Context(), ts)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.Info("tenant settings replaced", "tenant_id", id, "language", stored.Language)
	writeJSON(w, http.StatusOK, stored)
}
