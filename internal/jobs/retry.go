package jobs

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/clock"
)

// RetryPolicy backs off exponentially with jitter: the first retry after
// about Base, doubling each time, capped at Max. With Base 1s and Max 1h, 90
// attempts span about 80 hours.
type RetryPolicy struct {
	Base time.Duration
	Max  time.Duration
	// Clock is the time retries are scheduled from: River's (Config.Clock),
	// so that a test's stub clock moves retries as it moves every other job.
	// Nil is the wall clock.
	Clock clock.Clock
}

// NextRetry implements river.ClientRetryPolicy.
func (p RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return clock.Or(p.Clock).Now().Add(p.Delay(job.Attempt))
}

// Delay is the wait after the given failed attempt (1 for the first): up to
// 20% less than Base·2^(attempt-1), and never more than Max. A zero Base or
// Max is the default's (1 s, 1 h).
func (p RetryPolicy) Delay(attempt int) time.Duration {
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = time.Hour
	}
	d := p.Max
	if shift := attempt - 1; shift < 40 {
		if exp := p.Base << max(shift, 0); exp > 0 && exp < p.Max {
			d = exp
		}
	}
	// Jitter downwards only, so Max is a true cap and retries of many jobs
	// that failed together spread out.
	return d - time.Duration(rand.Float64()*0.2*float64(d))
}

// Limiter bounds the calls in flight per key (Kombo integration).
type Limiter struct {
	max   int
	mu    sync.Mutex
	slots map[string]chan struct{}
}

// NewLimiter returns a Limiter allowing max calls in flight per key.
func NewLimiter(max int) *Limiter {
	if max < 1 {
		max = 1
	}
	return &Limiter{max: max, slots: map[string]chan struct{}{}}
}

// Acquire waits for a slot of key and returns its release function, or the
// context's error.
func (l *Limiter) Acquire(ctx context.Context, key string) (release func(), err error) {
	l.mu.Lock()
	ch, ok := l.slots[key]
	if !ok {
		ch = make(chan struct{}, l.max)
		l.slots[key] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
