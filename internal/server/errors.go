package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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

// bodyError is the error of a request body that could not be read whole:
// ETOOLARGE over limit, else EINVALID saying what happened in general
// terms; the underlying error names socket addresses, which the client
// has no business seeing.
func bodyError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return orders.Errorf(orders.ETOOLARGE, "body is larger than the limit of %d bytes", limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return orders.Errorf(orders.EINVALID, "could not read the body: it did not arrive in time")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return orders.Errorf(orders.EINVALID, "could not read the body: it ended before its announced length")
	}
	return orders.Errorf(orders.EINVALID, "could not read the body: the connection failed")
}

// jsonNotFound makes the 404 and 405 answers of mux JSON, in the shape of
// every other error, for the machine clients of /api/ and /webhooks/ (the
// admin pages and the candidate link answer in HTML).
func (s *Server) jsonNotFound(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/webhooks/") {
			next.ServeHTTP(w, r)
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			next.ServeHTTP(w, r)
			return
		}
		// What mux would answer: 404, or 405 with its Allow header, or a
		// redirect to a cleaned path, which goes as it is.
		rec := &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusNotFound:
			s.error(w, r, orders.Errorf(orders.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			var body errorBody
			body.Error.Code = "method_not_allowed"
			body.Error.Message = fmt.Sprintf("%s is not allowed on %s: use %s", r.Method, r.URL.Path, rec.header.Get("Allow"))
			writeJSON(w, http.StatusMethodNotAllowed, body)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// statusRecorder keeps what a handler answered but its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
