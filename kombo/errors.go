package kombo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Error codes Kombo returns to assessment vendors, in Error.Code. The list is
// not complete, and Kombo adds codes over time.
const (
	CodeRateLimitExceeded        = "PLATFORM.RATE_LIMIT_EXCEEDED"
	CodeConcurrencyLimitExceeded = "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
	CodeIntegrationNotFound      = "PLATFORM.INTEGRATION_NOT_FOUND"
	CodeInputInvalid             = "PLATFORM.INPUT_INVALID"
	CodeUnknownError             = "PLATFORM.UNKNOWN_ERROR"
	CodeAuthenticationInvalid    = "PLATFORM.AUTHENTICATION_INVALID"
	CodeTaskTimedOut             = "PLATFORM.TASK_TIMED_OUT"
	CodeSetupIncomplete          = "INTEGRATION.SETUP_INCOMPLETE"
	CodeSetupSyncPending         = "INTEGRATION.SETUP_SYNC_PENDING"
	CodeQAFailed                 = "INTEGRATION.QA_FAILED"
	CodeIntegrationInactive      = "INTEGRATION.INACTIVE"
	CodeRemoteServiceUnavailable = "REMOTE.SERVICE_UNAVAILABLE"
	CodeRemoteRateLimitExceeded  = "REMOTE.RATE_LIMIT_EXCEEDED"
	CodeRemoteInputInvalid       = "REMOTE.INPUT_INVALID"
)

// Error is an error response from Kombo: an HTTP status that is not 2xx,
// with the fields of Kombo's error envelope when the body has one. Code is
// Kombo's stable machine code (branch on it, not on Message); it is empty when
// Kombo sent null or no envelope, as a load balancer's bare 503 does.
// LogURL links to the request in Kombo's dashboard, for support.
//
// RetryAfter is how long Kombo asked to wait, from the Retry-After header
// (seconds or an HTTP date) or, on 429, ratelimit-reset; zero if neither was
// sent.
//
// Header holds the answer's headers and Limits the rate and concurrency
// limits they report.
type Error struct {
	StatusCode int
	Code       string
	Title      string
	Message    string
	LogURL     string
	RetryAfter time.Duration
	Header     http.Header
	Limits     Limits
}

// Error returns "kombo: HTTP <status> <code>: <message> (log <url>)", leaving
// out the parts Kombo did not send.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kombo: HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	msg := e.Message
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if e.LogURL != "" {
		b.WriteString(" (log " + e.LogURL + ")")
	}
	return b.String()
}

// IsRetryable reports whether the request that failed with err may succeed
// if sent again unchanged, after a wait: rate and concurrency limits (429),
// REMOTE.SERVICE_UNAVAILABLE, PLATFORM.TASK_TIMED_OUT, any 5xx including a
// bare 503, network errors and timeouts. It is false for nil, for context
// cancellation, for INTEGRATION.* codes (they need the customer to act), for
// PLATFORM.INPUT_INVALID and REMOTE.INPUT_INVALID (the input must change
// first), for other 4xx and for errors that are not Kombo's or the network's.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case strings.HasPrefix(e.Code, "INTEGRATION."),
			e.Code == CodeInputInvalid, e.Code == CodeRemoteInputInvalid:
			return false
		case e.Code == CodeRateLimitExceeded, e.Code == CodeConcurrencyLimitExceeded,
			e.Code == CodeRemoteRateLimitExceeded, e.Code == CodeRemoteServiceUnavailable,
			e.Code == CodeTaskTimedOut:
			return true
		}
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
	}
	// The transport failed: connection refused or reset, a timeout, or a
	// connection closed before or during the response. Look inside
	// *url.Error, which is itself a net.Error whatever went wrong (a bad
	// URL, say).
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// RetryAfter returns how long Kombo asked to wait before retrying, if err is
// an *Error with a positive RetryAfter.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// retryAfter reads the wait Kombo asks for from the response headers.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			return max(time.Duration(secs)*time.Second, 0)
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("ratelimit-reset"))); err == nil {
			return max(time.Duration(secs)*time.Second, 0)
		}
	}
	return 0
}
