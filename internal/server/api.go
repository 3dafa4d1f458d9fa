package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// orderJSON is an order as the vendor API shows it: Kombo's fields as Kombo
// sent them, then assessgate's state, timestamps and timeline.
type orderJSON struct {
	kombo.Order
	State     orders.State  `json:"state"`
	Source    orders.Source `json:"source"`
	EventID   string        `json:"event_id,omitempty"`
	CreatedAt string        `json:"created_at"`
	UpdatedAt string        `json:"updated_at"`
	InvitedAt *string       `json:"invited_at"`
	StartedAt *string       `json:"started_at"`
	ExpiresAt *string       `json:"expires_at"`
	ClosedAt  *string       `json:"closed_at"`
	Timeline  []eventJSON   `json:"timeline,omitempty"`
}

type eventJSON struct {
	At     string         `json:"at"`
	Kind   string         `json:"kind"`
	Detail map[string]any `json:"detail,omitempty"`
}

func newOrderJSON(o *orders.Order) orderJSON {
	j := orderJSON{
		Order:     o.Order,
		State:     o.State,
		Source:    o.Source,
		EventID:   o.EventID,
		CreatedAt: formatTime(o.CreatedAt),
		UpdatedAt: formatTime(o.UpdatedAt),
		InvitedAt: formatTimePtr(o.InvitedAt),
		StartedAt: formatTimePtr(o.StartedAt),
		ExpiresAt: formatTimePtr(o.ExpiresAt),
		ClosedAt:  formatTimePtr(o.ClosedAt),
	}
	if j.Job.HiringTeam == nil {
		j.Job.HiringTeam = []kombo.HiringTeamMember{}
	}
	for _, e := range o.Timeline {
		j.Timeline = append(j.Timeline, eventJSON{At: formatTime(e.At), Kind: e.Kind, Detail: e.Detail})
	}
	return j
}

// formatTime formats times as Kombo does: UTC, milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

// handleGetOrder answers GET /api/v1/orders/{id}, where id is Kombo's order id.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.FindOrderByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newOrderJSON(o))
}

// handleListOrders answers GET /api/v1/orders, newest first, with the filters
// status (Kombo's), state (assessgate's), integration_id, package_id and
// email, and cursor pagination (cursor, limit).
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
			return f, orders.Errorf(orders.EINVALID, "state %q: want received, invited, started, completed, cancelled or expired", v)
		}
		f.State = &st
	}
	for name, dst := range map[string]**string{"integration_id": &f.IntegrationID, "package_id": &f.PackageID, "email": &f.Email} {
		if v := q.Get(name); v != "" {
			*dst = &v
		}
	}
	f.Cursor = q.Get("cursor")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, orders.Errorf(orders.EINVALID, "limit %q: want a whole number from 1 to 500", v)
		}
		f.Limit = n
	}
	return f, nil
}
