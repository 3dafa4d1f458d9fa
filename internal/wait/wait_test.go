package wait_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/assessgate/assessgate/internal/wait"
)

// fakeTB records a failure as testing.T does: Fatalf ends the goroutine that
// calls it.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failed = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// run calls fn in its own goroutine, as the testing package runs a test,
// and reports whether fn returned (rather than ended in Fatalf) and the
// failure it recorded.
func run(fn func(tb testing.TB)) (returned bool, failure string) {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
		returned = true
	}()
	<-done
	return returned, f.failed
}

func TestFor(t *testing.T) {
	t.Run("Holds", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			calls := 0
			returned, failure := run(func(tb testing.TB) {
				wait.For(tb, time.Minute, "the third call", func() bool { calls++; return calls == 3 })
			})
			if !returned || failure != "" || calls != 3 {
				t.Errorf("For = returned %v, failure %q after %d calls; want it returned after 3", returned, failure, calls)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("For returned %v after it began; want at once", d)
			}
		})
	})

	t.Run("TimesOut", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			calls := 0
			returned, failure := run(func(tb testing.TB) {
				wait.For(tb, 30*time.Second, "the never", func() bool { calls++; return false })
			})
			if returned || failure != "timed out after 30s waiting for the never" {
				t.Errorf("For = returned %v, failure %q; want the test failed, naming what it waited for", returned, failure)
			}
			if d := time.Since(start); d != 30*time.Second {
				t.Errorf("For failed %v after it began; want at the deadline, 30s", d)
			}
			if calls < 2 || calls > 3000 {
				t.Errorf("cond called %d times in 30s; want it polled, not called in a busy loop", calls)
			}
		})
	})
}

func TestUntil(t *testing.T) {
	t.Run("Holds", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := 0
			var got int
			returned, failure := run(func(tb testing.TB) {
				got = wait.Until(tb, time.Minute, "five", func() int { n++; return n }, func(n int) bool { return n >= 5 })
			})
			if !returned || failure != "" || got != 5 {
				t.Errorf("Until = %d, returned %v, failure %q; want 5", got, returned, failure)
			}
		})
	})

	t.Run("TimesOut", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			type order struct{ State string }
			returned, failure := run(func(tb testing.TB) {
				wait.Until(tb, 10*time.Second, "order-1 invited", func() order { return order{"received"} },
					func(o order) bool { return o.State == "invited" })
			})
			want := "timed out after 10s waiting for order-1 invited; last seen: {State:received}"
			if returned || failure != want {
				t.Errorf("Until = returned %v, failure %q; want %q", returned, failure, want)
			}
		})
	})
}

// TestFor_ChecksAtDeadline: a condition that comes true just before the
// deadline is seen, though it falls between two checks.
func TestFor_ChecksAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		returned, failure := run(func(tb testing.TB) {
			wait.For(tb, time.Second, "the last moment", func() bool { return time.Since(start) >= time.Second })
		})
		if !returned || failure != "" {
			t.Errorf("For = returned %v, failure %q; want it returned at the deadline", returned, failure)
		}
	})
}
