package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

var codeStatus = map[string]int{
	orders.ECONFLICT:      http.StatusConflict,
	orders.EINTERNAL:      http.StatusInternalServerError,
	orders.EINVALID:       http.StatusBadRequest,
	orders.ENOTFOUND:      http.StatusNotFound,
	orders.EUNAUTHORIZED:  http.StatusUnauthorized,
	orders.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	orders.EUNAVAILABLE:   http.StatusServiceUnavailable,
	orders.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	orders.EBADGATEWAY:    http.StatusBadGateway,
}

// errorBody is the JSON of every error answer: {"error": {"code", "message"}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// error answers with the status for err's code. Internal errors are logged
// here, once, and shown as "internal error"; a database that cannot commit is
// shown as 503.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := orders.ErrorCode(err)
	message := orders.ErrorMessage(err)
	if code == orders.EINTERNAL {
		if store.IsUnavailable(err) {
			code, message = orders.EUNAVAILABLE, "the database is unavailable; try again later"
		}
		s.logger.Error("request failed", "method", r.Method, "path", logPath(r), "err", err)
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, message
	if code == orders.EUNAVAILABLE {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, codeStatus[code], body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// recoverPanics answers 500 for a handler that panics, instead of net/http's
// dropped connection, and logs the panic once with its stack.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("handler panicked", "method", r.Method, "path", logPath(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				var body errorBody
				body.Error.Code, body.Error.Message = orders.EINTERNAL, "internal error"
				writeJSON(w, http.StatusInternalServerError, body)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// logPath returns a request's path for logs: as it is, but for a candidate
// link, whose token is in the path and must not be logged.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/a/") {
		return "/a/{token}"
	}
	return r.URL.Path
}
