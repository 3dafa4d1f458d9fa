// Package wait lets a test wait for something to happen instead of sleeping
// for as long as it usually takes, in the spirit of River's
// riversharedtest.WaitOrTimeout: it checks a condition until it holds and
// fails the test, saying what it waited for, when it does not hold in time.
//
// Use it for what happens in other goroutines or processes on the wall
// clock: a job River runs, a message reaching an SMTP server, a process
// listening. Time that the code under test reads from a clock is moved with
// a clock.Stub instead, never waited out.
package wait

import (
	"testing"
	"time"
)

// The first check comes at once, the next after minInterval; the interval
// doubles up to maxInterval, so that a quick condition is seen quickly and a
// slow one is not checked in a busy loop.
const (
	minInterval = time.Millisecond
	maxInterval = 25 * time.Millisecond
)

// For calls cond until it returns true. When it has not within timeout, For
// fails the test with t.Fatalf, saying that it waited for what, so it must
// be called from the goroutine running the test.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Until calls get until ok accepts the value it returned, and returns that
// value. When that has not happened within timeout, Until fails the test with
// t.Fatalf, saying that it waited for what and showing the last value get
// returned, so it must be called from the goroutine running the test.
func Until[T any](t testing.TB, timeout time.Duration, what string, get func() T, ok func(T) bool) T {
	t.Helper()
	var last T
	if !poll(timeout, func() bool { last = get(); return ok(last) }) {
		t.Fatalf("timed out after %v waiting for %s; last seen: %+v", timeout, what, last)
	}
	return last
}

// poll calls cond until it returns true, and reports whether it did within
// timeout. It checks cond once more at the deadline.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for interval := minInterval; ; interval = min(2*interval, maxInterval) {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(interval, left))
	}
}
