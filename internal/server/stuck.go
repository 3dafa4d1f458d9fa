package server

import (
	"net/http"

	"github.com/assessgate/assessgate/internal/orders"
)

// handleListStuckOrders answers GET /api/v1/stuck-orders: the orders Kombo
// holds OPEN that assessgate refused or could not take, oldest first, each
// with Kombo's order id, its integration, the reason, first and last seen.
func (s *Server) handleListStuckOrders(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.StuckOrders(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// handleCloseStuckOrder answers POST /api/v1/stuck-orders/{id}/close: the
// order is closed at Kombo with a CANCELLED result and leaves the list.
func (s *Server) handleCloseStuckOrder(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Reconciler == nil {
		s.error(w, r, orders.Errorf(orders.EUNAVAILABLE, "reconciliation is not configured"))
		return
	}
	id := r.PathValue("id")
	if err := s.cfg.Reconciler.CloseStuck(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_id": id, "closed": true, "status": "CANCELLED"})
}

// handleRetryStuckOrder answers POST /api/v1/stuck-orders/{id}/retry: the
// order is read from Kombo again and taken if it can be now.
func (s *Server) handleRetryStuckOrder(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Reconciler == nil {
		s.error(w, r, orders.Errorf(orders.EUNAVAILABLE, "reconciliation is not configured"))
		return
	}
	res, err := s.cfg.Reconciler.RetryStuck(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
