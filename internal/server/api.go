package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// orderJSON is an order as the vendor API shows it; orders.View is shared
// with the vendor webhooks, so both show an order the same way.
type orderJSON = orders.View

func newOrderJSON(o *orders.Order) orderJSON { return orders.NewView(o) }

// handleGetOrder answers GET /api/v1/orders/{id}, where id is Kombo's order id.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.FindOrderByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	data := []orderJSON{newOrderJSON(o)}
	if err := s.addParked(r, data); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, data[0])
}

// addParked sets the parked write-back of each order that has one.
func (s *Server) addParked(r *http.Request, data []orderJSON) error {
	ids := make([]string, len(data))
	for i := range data {
		ids[i] = data[i].ID
	}
	parked, err := s.store.ParkedWriteback(r.Context(), ids...)
	if err != nil {
		return err
	}
	for i := range data {
		data[i].Writeback = orders.NewWritebackView(parked[data[i].ID])
	}
	return nil
}

// handleListParked answers GET /api/v1/parked: the work waiting, parked,
// for an integration's setup or for KOMBO_API_KEY, oldest first, with the
// filters kind and integration_id.
func (s *Server) handleListParked(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := s.store.ParkedWork(r.Context(), store.ParkedFilter{Kind: q.Get("kind"), IntegrationID: q.Get("integration_id"), Limit: 500})
	if err != nil {
		s.error(w, r, err)
		return
	}
	if list == nil {
		list = []*orders.Parked{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// handleListOrders answers GET /api/v1/orders, newest first, with the filters
// status (Kombo's), state (assessgate's), integration_id, tenant_id,
// package_id and email, and cursor pagination (cursor, limit).
func (s *Server) handleListOrders(w http.ResponseWriter, r *http.Request) {
	f, err := parseOrderFilter(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	list, next, err := s.store.FindOrders(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	data := make([]orderJSON, 0, len(list))
	for _, o := range list {
		data = append(data, newOrderJSON(o))
	}
	if err := s.addParked(r, data); err != nil {
		s.error(w, r, err)
		return
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next_cursor": nextCursor})
}

func parseOrderFilter(r *http.Request) (orders.OrderFilter, error) {
	q := r.URL.Query()
	var f orders.OrderFilter
	if v := q.Get("status"); v != "" {
		st := kombo.OrderStatus(strings.ToUpper(v))
		if !st.Valid() {
			return f, orders.Errorf(orders.EINVALID, "status %q: want OPEN, COMPLETED, CANCELLED or REJECTED", v)
		}
		f.Status = &st
	}
	if v := q.Get("state"); v != "" {
		st := orders.State(v)
		if !st.Valid() {
			return f, orders.Errorf(orders.EINVALID, "state %q: want %s", v, orders.StateNames())
		}
		f.State = &st
	}
	for name, dst := range map[string]**string{"integration_id": &f.IntegrationID, "package_id": &f.PackageID, "email": &f.Email, "tenant_id": &f.TenantID} {
		if v := q.Get(name); v != "" {
			*dst = &v
		}
	}
	f.Cursor = q.Get("cursor")
	limit, err := parseLimit(q, 0)
	if err != nil {
		return f, err
	}
	f.Limit = limit
	return f, nil
}

// parseLimit reads the page size of a listing from the query's limit: a
// whole number from 1 to 500, or def when absent.
func parseLimit(q url.Values, def int) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, orders.Errorf(orders.EINVALID, "limit %q: want a whole number from 1 to 500", v)
	}
	return n, nil
}
