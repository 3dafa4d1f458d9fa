package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// candidateOrderJSON is an order in a candidate's export: the order as
// GET /api/v1/orders/{id} shows it, with its results and raw webhooks.
type candidateOrderJSON struct {
	orderJSON
	Results       []resultJSON  `json:"results"`
	WebhookEvents []webhookJSON `json:"webhook_events"`
}

// resultJSON is a result the vendor's platform posted, as stored.
type resultJSON struct {
	ID          int64               `json:"id"`
	Result      kombo.ResultRequest `json:"result"`
	CreatedAt   string              `json:"created_at"`
	DeliveredAt *string             `json:"delivered_at"`
	Warnings    []string            `json:"warnings,omitempty"`
}

// webhookJSON is a webhook as Kombo sent it.
type webhookJSON struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	ReceivedAt string          `json:"received_at"`
	Body       json.RawMessage `json:"body"`
}

// emailParam returns the email query parameter, or an EINVALID error.
func emailParam(_ http.ResponseWriter, r *http.Request) (string, error) {
	email := r.URL.Query().Get("email")
	if email == "" {
		return "", orders.Errorf(orders.EINVALID, "email is required: ?email=ADDRESS")
	}
	return email, nil
}

// emailBody returns the address of a JSON body {"email": "…"}, or an
// EINVALID error naming the problem.
func emailBody(w http.ResponseWriter, r *http.Request) (string, error) {
	var req struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(w, r, 4<<10, &req); err != nil {
		return "", err
	}
	if strings.TrimSpace(req.Email) == "" {
		return "", orders.Errorf(orders.EINVALID, `email is required: {"email": "ADDRESS"}`)
	}
	return req.Email, nil
}

// candidateHandler answers with do for the address that email finds in
// the request.
func (s *Server) candidateHandler(email func(http.ResponseWriter, *http.Request) (string, error),
	do func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr, err := email(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		do(w, r, addr)
	}
}

// exportCandidate answers GET /api/v1/candidates?email=… and
// POST /api/v1/candidates/export with {"email": "…"}: everything held
// about the candidate with that address, for a subject access request:
// {"orders": [...]}, each order with Kombo's data, the timeline, results and
// raw webhooks. A candidate of whom nothing is held (never seen, or erased)
// gets 200 with no orders: the answer to "what do you hold about me" is then
// "nothing". 400 without an address. The POST form keeps the address out
// of URLs, and so out of proxies' access logs.
func (s *Server) exportCandidate(w http.ResponseWriter, r *http.Request, email string) {
	d, err := s.store.FindCandidate(r.Context(), email)
	if err != nil {
		s.error(w, r, err)
		return
	}
	list := make([]candidateOrderJSON, 0, len(d.Orders))
	for _, o := range d.Orders {
		c := candidateOrderJSON{orderJSON: newOrderJSON(o), Results: []resultJSON{}, WebhookEvents: []webhookJSON{}}
		for _, res := range d.Results[o.ID] {
			c.Results = append(c.Results, resultJSON{ID: res.ID, Result: res.Request, CreatedAt: orders.FormatTime(res.CreatedAt),
				DeliveredAt: orders.FormatTimePtr(res.DeliveredAt), Warnings: res.Warnings})
		}
		for _, e := range d.WebhookEvents[o.ID] {
			c.WebhookEvents = append(c.WebhookEvents, webhookJSON{ID: e.ID, Type: e.Type, ReceivedAt: orders.FormatTime(e.ReceivedAt), Body: rawJSON(e.Body)})
		}
		list = append(list, c)
	}
	s.logger.Info("candidate data exported", "orders", len(list))
	writeJSON(w, http.StatusOK, map[string]any{"orders": list})
}

// rawJSON returns a stored webhook body as JSON: itself, or null once erased.
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		return json.RawMessage("null")
	}
	return b
}

// erasureJSON is an entry of the audit log of erasures.
type erasureJSON struct {
	ID            int64    `json:"id"`
	At            string   `json:"at"`
	Reason        string   `json:"reason"`
	Actor         string   `json:"actor"`
	Subject       string   `json:"subject,omitempty"`
	OrderIDs      []string `json:"order_ids"`
	WebhookEvents int      `json:"webhook_events"`
}

func newErasureJSON(e *orders.Erasure) erasureJSON {
	return erasureJSON{ID: e.ID, At: orders.FormatTime(e.At), Reason: e.Reason, Actor: e.Actor, Subject: e.Subject,
		OrderIDs: e.OrderIDs, WebhookEvents: e.WebhookEvents}
}

// eraseCandidate answers DELETE /api/v1/candidates?email=… and
// POST /api/v1/candidates/erase with {"email": "…"}: the personal data of
// every order of the candidate is erased at once, their links stop working
// and no more e-mail goes to them. It answers 200 with the audit log entry,
// also when nothing was held (no order ids), and 400 without an address.
func (s *Server) eraseCandidate(w http.ResponseWriter, r *http.Request, email string) {
	e, err := s.store.EraseCandidate(r.Context(), email, orders.ActorAPI)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.Info("candidate erased on request", "erasure_id", e.ID, "orders", len(e.OrderIDs), "webhook_events", e.WebhookEvents)
	writeJSON(w, http.StatusOK, newErasureJSON(e))
}

// handleListErasures answers GET /api/v1/erasures: the audit log of
// erasures, newest first, {"data": [...], "next_cursor": …}; pages: limit
// (1–500, default 100) and cursor.
func (s *Server) handleListErasures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q, 100)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var before int64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.error(w, r, orders.Errorf(orders.EINVALID, "cursor %q is not one this API returned", v))
			return
		}
		before = n
	}
	list, next, err := s.store.FindErasures(r.Context(), before, limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	data := make([]erasureJSON, 0, len(list))
	for _, e := range list {
		data = append(data, newErasureJSON(e))
	}
	var nextCursor *string
	if next != 0 {
		c := strconv.FormatInt(next, 10)
		nextCursor = &c
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next_cursor": nextCursor})
}

// handleRetention answers POST /api/v1/retention: a retention pass runs now,
// as the periodic job runs it, and says what it erased. 503 when retention
// is not configured on this server.
func (s *Server) handleRetention(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Retention == nil {
		s.error(w, r, orders.Errorf(orders.EUNAVAILABLE, "retention is not configured"))
		return
	}
	sum, err := s.cfg.Retention.Run(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
