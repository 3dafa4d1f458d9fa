package jobs

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/clock"
)

// TestRetryPolicy_NextRetry: a retry is scheduled from the policy's clock,
// which is River's, so that a test's stub clock moves it.
func TestRetryPolicy_NextRetry(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	p := RetryPolicy{Base: time.Second, Max: time.Hour, Clock: clock.NewStub(at)}
	for attempt, want := range map[int]time.Duration{1: time.Second, 3: 4 * time.Second, 20: time.Hour} {
		got := p.NextRetry(&rivertype.JobRow{Attempt: attempt})
		if d := got.Sub(at); d > want || d < want*8/10 {
			t.Errorf("NextRetry after attempt %d = clock + %v; want clock + %v less at most 20%% jitter", attempt, d, want)
		}
	}
}
