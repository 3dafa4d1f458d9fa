package orders

import (
	"errors"
	"fmt"
)

// Error codes, each mapped to one HTTP status by the server.
const (
	ECONFLICT      = "conflict"      // 409
	EINTERNAL      = "internal"      // 500
	EINVALID       = "invalid"       // 400
	ENOTFOUND      = "not_found"     // 404
	EUNAUTHORIZED  = "unauthorized"  // 401
	EUNPROCESSABLE = "unprocessable" // 422: valid, but refused (e.g. an unknown package)
	EUNAVAILABLE   = "unavailable"   // 503: try again later
	ETOOLARGE      = "too_large"     // 413
	EBADGATEWAY    = "bad_gateway"   // 502: Kombo failed
)

// Error is an error a user of assessgate should see: its Message is shown as
// it is. Any other error is internal and shown as "internal error".
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the *Error in err's chain, or
// "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
