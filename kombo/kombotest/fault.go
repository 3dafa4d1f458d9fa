package kombotest

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure the fake injects instead of answering a request
// normally. Its parts combine: the fake first waits Delay, then drops the
// connection if Drop is set, else answers Status. A Fault with only a Delay
// slows the request down and then serves it normally.
//
// Examples:
//
//	Fault{Status: 503, Body: "<html>503 Service Unavailable</html>"} // load balancer, no envelope
//	Fault{Status: 409, Code: kombo.CodeSetupIncomplete}
//	Fault{Status: 429, Code: kombo.CodeRateLimitExceeded, RetryAfter: 2 * time.Second}
//	Fault{Delay: time.Minute}                                        // for client timeouts
//	Fault{Drop: true}                                                // connection closed, no response
type Fault struct {
	// Status is the HTTP status to answer with; zero serves the request
	// normally (after Delay).
	Status int
	// Code is Kombo's error code in the envelope; empty sends code null.
	Code string
	// Message is the envelope's message; empty uses the status text.
	Message string
	// Body, if not empty, is sent as it is instead of the envelope, as
	// application/json if it is valid JSON and text/html otherwise. With
	// Status 200 it fakes any success response.
	Body string
	// RetryAfter, if positive, is sent in whole seconds, rounded up, as
	// Retry-After and, on 429, as ratelimit-reset with ratelimit-limit and
	// ratelimit-remaining.
	RetryAfter time.Duration
	// Delay is how long to wait before answering. If the client gives up
	// or the server is closed first, the connection is dropped.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
}

type countedFault struct {
	n int
	f Fault
}

type timedFault struct {
	until time.Time
	f     Fault
}

// Fail makes the next n requests fail with f. Faults queued by several calls
// apply one after the other.
func (s *Server) Fail(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &countedFault{n, f})
}

// FailFor makes every request fail with f for d from now, by the fake's
// clock, once the faults queued by Fail are used up.
func (s *Server) FailFor(d time.Duration, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timedFaults = append(s.timedFaults, timedFault{s.now().Add(d), f})
}

// FailWhen sets a function that is called with every request, before the
// faults of Fail and FailFor, and returns the fault to inject or nil. The
// function may read the request body. It is called concurrently; it may
// block, for example to hold requests in flight until the test releases them.
// FailWhen(nil) removes it.
func (s *Server) FailWhen(fn func(*http.Request) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWhen = fn
}

// ClearFaults removes all faults set by Fail, FailFor and FailWhen.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.timedFaults, s.failWhen = nil, nil, nil
}

// nextFault takes the fault that applies to the next request, if any.
func (s *Server) nextFault() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) > 0 {
		cf := s.faults[0]
		if cf.n--; cf.n == 0 {
			s.faults = s.faults[1:]
		}
		return &cf.f
	}
	now := s.now()
	for len(s.timedFaults) > 0 && !now.Before(s.timedFaults[0].until) {
		s.timedFaults = s.timedFaults[1:]
	}
	for _, tf := range s.timedFaults {
		if now.Before(tf.until) {
			return &tf.f
		}
	}
	return nil
}

// apply injects f and reports whether it answered the request (or dropped
// it), so that it must not be served normally.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f.Delay > 0 {
		s.sleep(r.Context(), f.Delay)
	}
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // closes the connection too
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		secs := strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds())))
		w.Header().Set("Retry-After", secs)
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("ratelimit-limit", "300")
			w.Header().Set("ratelimit-remaining", "0")
			w.Header().Set("ratelimit-reset", secs)
		}
	}
	if f.Body != "" {
		ct := "text/html; charset=utf-8"
		if json.Valid([]byte(f.Body)) {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		w.Write([]byte(f.Body))
		return true
	}
	writeError(w, f.Status, f.Code, f.Message)
	return true
}
