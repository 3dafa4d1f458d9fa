package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// MaxResultBytes bounds a result body; attachments may be inline base64.
const MaxResultBytes = 20 << 20

// handlePutResult answers PUT /api/v1/orders/{id}/result. It takes the body
// of Kombo's result endpoint, validates it, and stores it with the job that
// writes it back, answering 202: delivery to Kombo happens in the background
// and shows on the order's timeline.
func (s *Server) handlePutResult(w http.ResponseWriter, r *http.Request) {
	var req kombo.ResultRequest
	if err := decodeJSON(w, r, MaxResultBytes, &req); err != nil {
		s.error(w, r, s.unknownOrderFirst(r, err))
		return
	}
	if _, closes := orders.ClosingState(req.Status); closes && req.CompletedAt == nil {
		now := kombo.FormatTime(s.now())
		req.CompletedAt = &now
	}
	if err := req.Validate(); err != nil {
		s.error(w, r, s.unknownOrderFirst(r, orders.Errorf(orders.EINVALID, "invalid result: %v", err)))
		return
	}
	o, res, err := s.store.AcceptResult(r.Context(), r.PathValue("id"), &req)
	if orders.ErrorCode(err) == orders.ECONFLICT {
		// Say what the order is now, so the caller can tell a duplicate from
		// a mistake.
		writeJSON(w, http.StatusConflict, map[string]any{
			"error": map[string]string{"code": orders.ECONFLICT, "message": orders.ErrorMessage(err)},
			"order": newOrderJSON(o),
		})
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"result_id": res.ID, "order": newOrderJSON(o)})
}

// unknownOrderFirst returns ENOTFOUND when the request's order does not
// exist, and bodyErr otherwise: a result for an unknown order is a 404
// whatever its body, as documented, not a 400 that sends the caller to fix
// a body that could never be taken. When the order cannot be looked up (a
// client gone, the database away), the body's error stands.
func (s *Server) unknownOrderFirst(r *http.Request, bodyErr error) error {
	id := r.PathValue("id")
	found, err := s.store.ExistingOrderIDs(r.Context(), []string{id})
	if err != nil {
		return bodyErr
	}
	if len(found) == 0 {
		return orders.Errorf(orders.ENOTFOUND, "order %q not found", id)
	}
	return bodyErr
}

// decodeJSON decodes a request body of at most limit bytes into v, refusing
// unknown fields (a misspelt field would otherwise be dropped silently), and
// returns an EINVALID or ETOOLARGE error that names the problem.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return bodyError(err, limit)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return orders.Errorf(orders.EINVALID, "%s: wrong type (%s)", typeErr.Field, typeErr.Value)
		case errors.As(err, &syntaxErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return orders.Errorf(orders.EINVALID, "body is not valid JSON: %v", err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return orders.Errorf(orders.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return orders.Errorf(orders.EINVALID, "invalid body: %v", err)
		}
	}
	if dec.More() {
		return orders.Errorf(orders.EINVALID, "body has more than one JSON value")
	}
	return nil
}
