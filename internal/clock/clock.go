// Package clock is the time assessgate goes by: the wall clock in
// production, and a Stub that tests move forward. Every part that reads the
// time is given one Clock when it is made (the store, River, the admin
// pages), so that a reminder due in 48 hours runs when a test says 48 hours
// passed, without sleeping.
package clock

import (
	"sync"
	"time"
)

// Stub is a clock that stands still until it is moved. It implements River's
// rivertype.TimeGenerator, so River schedules and fetches jobs by it too. It
// is safe for concurrent use.
type Stub struct {
	mu  sync.Mutex
	now time.Time
}

// NewStub returns a clock stopped at t.
func NewStub(t time.Time) *Stub {
	return &Stub{now: t.UTC()}
}

// Now returns the clock's time.
func (s *Stub) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// NowOrNil returns the clock's time; River uses it instead of the database's
// clock when it is not nil.
func (s *Stub) NowOrNil() *time.Time {
	t := s.Now()
	return &t
}

// Advance moves the clock forward by d and returns the new time.
func (s *Stub) Advance(d time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
	return s.now
}

// Set moves the clock to t.
func (s *Stub) Set(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = t.UTC()
}
