package kombo

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Class is what to do about a failed call, following Kombo's own retry
// guidance (API.md §9.1): which failures are safe to retry, which wait for
// the customer to finish setting up the integration, and which need a human.
type Class int

const (
	// ClassRetry: retry with exponential backoff (REMOTE.SERVICE_UNAVAILABLE,
	// PLATFORM.TASK_TIMED_OUT, a 5xx or a bare 503, network errors).
	ClassRetry Class = iota
	// ClassRateLimited: a rate limit (PLATFORM.RATE_LIMIT_EXCEEDED,
	// REMOTE.RATE_LIMIT_EXCEEDED, another 429); retry after the wait Kombo
	// asks for (RetryAfter), else with backoff.
	ClassRateLimited
	// ClassConcurrency: PLATFORM.CONCURRENCY_LIMIT_EXCEEDED, too many calls
	// in flight for one integration; retry after about a second, backing
	// off exponentially (ConcurrencyBackoff), not when the rate window
	// resets.
	ClassConcurrency
	// ClassSetupPending: INTEGRATION.SETUP_INCOMPLETE or
	// INTEGRATION.SETUP_SYNC_PENDING (409): the customer has not finished
	// setting the integration up. Wait until it is usable, then send again.
	ClassSetupPending
	// ClassHuman: anything else Kombo refused (QA failed, permissions,
	// invalid input, an inactive integration, …): no blind retries; a
	// person must act, with Kombo's message and log_url.
	ClassHuman
	// ClassNone: not a failure (nil) or the caller's own cancellation.
	ClassNone
)

func (c Class) String() string {
	switch c {
	case ClassRetry:
		return "retry"
	case ClassRateLimited:
		return "rate_limited"
	case ClassConcurrency:
		return "concurrency"
	case ClassSetupPending:
		return "setup_pending"
	case ClassHuman:
		return "human"
	}
	return "none"
}

// Classify says what to do about err, an error of a Client's method.
func Classify(err error) Class {
	if err == nil || errors.Is(err, context.Canceled) {
		return ClassNone
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e.Code == CodeSetupIncomplete, e.Code == CodeSetupSyncPending:
			return ClassSetupPending
		case e.Code == CodeConcurrencyLimitExceeded:
			return ClassConcurrency
		case e.Code == CodeRateLimitExceeded, e.Code == CodeRemoteRateLimitExceeded:
			return ClassRateLimited
		case strings.HasPrefix(e.Code, "INTEGRATION."), e.Code == CodeInputInvalid, e.Code == CodeRemoteInputInvalid:
			return ClassHuman
		case e.StatusCode == http.StatusTooManyRequests:
			return ClassRateLimited
		}
	}
	if IsRetryable(err) {
		return ClassRetry
	}
	return ClassHuman
}

// ConcurrencyBackoff is the wait before retrying a call refused with
// PLATFORM.CONCURRENCY_LIMIT_EXCEEDED for the n-th time in a row (0 for the
// first): about one second, doubling, at most 30 s, with up to 20% jitter
// downwards so that the calls refused together do not return together.
func ConcurrencyBackoff(n int) time.Duration {
	d := 30 * time.Second
	if n >= 0 && n < 5 {
		d = time.Second << n
	}
	return d - time.Duration(rand.Float64()*0.2*float64(d))
}
