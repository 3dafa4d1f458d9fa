package kombo

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits are the rate and concurrency limit headers of one of Kombo's
// answers (API.md §9.2, §9.3): ratelimit-limit, ratelimit-remaining,
// ratelimit-reset (seconds until the window resets), and, on actions that run
// against the customer's tool, Concurrency-Limit and Concurrency-Remaining.
// A header Kombo did not send leaves its Has… flag false and its value zero.
type Limits struct {
	RateLimit, RateRemaining int
	RateReset                time.Duration
	HasRate                  bool

	ConcurrencyLimit, ConcurrencyRemaining int
	HasConcurrency                         bool
}

// ParseLimits reads Limits from response headers.
func ParseLimits(h http.Header) Limits {
	var l Limits
	limit, okL := headerInt(h, "ratelimit-limit")
	remaining, okR := headerInt(h, "ratelimit-remaining")
	reset, okS := headerInt(h, "ratelimit-reset")
	if okL || okR || okS {
		l.HasRate = true
		l.RateLimit, l.RateRemaining, l.RateReset = limit, remaining, time.Duration(reset)*time.Second
	}
	climit, okCL := headerInt(h, "Concurrency-Limit")
	cremaining, okCR := headerInt(h, "Concurrency-Remaining")
	if okCL || okCR {
		l.HasConcurrency = true
		l.ConcurrencyLimit, l.ConcurrencyRemaining = climit, cremaining
	}
	return l
}

func headerInt(h http.Header, name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	return n, err == nil
}

// Response is what a Client tells its OnResponse hook of every answer it
// received, successful or not.
type Response struct {
	Method     string
	Path       string // the API path, such as "/assessment/packages"
	StatusCode int
	Header     http.Header
	Limits     Limits
}
