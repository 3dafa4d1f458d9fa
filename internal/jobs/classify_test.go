package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// komboAnswer makes the fake answer one request with f and returns the
// client's error for it, as Kombo's documented shapes arrive.
func komboAnswer(t *testing.T, f kombotest.Fault) error {
	t.Helper()
	fake := kombotest.NewServer()
	t.Cleanup(fake.Close)
	fake.Fail(1, f)
	_, err := fake.Client().GetPackages(t.Context(), "greenhouse:classify")
	if err == nil {
		t.Fatalf("fault %+v: no error", f)
	}
	return err
}

// TestKomboFailure follows Kombo's classification (API.md §9): a
// concurrency-limit 429 backs off about a second even when the response
// carries a rate window's reset; a rate-limit 429 waits until the reset; a
// remote outage is retried with backoff; an error that needs a human is a
// dead letter at once, with Kombo's message and log_url.
func TestKomboFailure(t *testing.T) {
	job := func() *rivertype.JobRow {
		return &rivertype.JobRow{ID: 1, Kind: "writeback", Attempt: 1, MaxAttempts: 90, CreatedAt: time.Now(), Metadata: []byte(`{}`)}
	}
	snooze := func(t *testing.T, err error) time.Duration {
		t.Helper()
		var s *rivertype.JobSnoozeError
		if !errors.As(err, &s) {
			t.Fatalf("answer = %v; want a snooze", err)
		}
		return s.Duration
	}

	t.Run("concurrency limit: about a second", func(t *testing.T) {
		err := komboAnswer(t, kombotest.Fault{Status: 429, Code: kombo.CodeConcurrencyLimitExceeded, RetryAfter: time.Minute})
		if c := kombo.Classify(err); c != kombo.ClassConcurrency {
			t.Fatalf("Classify = %s; want concurrency", c)
		}
		if d := snooze(t, komboFailure(t.Context(), job(), nil, "o", err)); d < 800*time.Millisecond || d > time.Second {
			t.Errorf("snooze = %s; want about 1s, not the rate window's 60s", d)
		}
		// Refused again and again: it doubles, up to 30 s.
		j := job()
		j.Metadata = []byte(`{"snoozes": 3}`)
		if d := snooze(t, komboFailure(t.Context(), j, nil, "o", err)); d < 6400*time.Millisecond || d > 8*time.Second {
			t.Errorf("snooze after 3 = %s; want about 8s", d)
		}
	})

	t.Run("rate limit: until the window resets", func(t *testing.T) {
		err := komboAnswer(t, kombotest.Fault{Status: 429, Code: kombo.CodeRateLimitExceeded, RetryAfter: time.Minute})
		if d := snooze(t, komboFailure(t.Context(), job(), nil, "o", err)); d != time.Minute {
			t.Errorf("snooze = %s; want the 60s until ratelimit-reset", d)
		}
	})

	t.Run("remote unavailable: backoff", func(t *testing.T) {
		err := komboAnswer(t, kombotest.Fault{Status: 503, Code: kombo.CodeRemoteServiceUnavailable})
		got := komboFailure(t.Context(), job(), func(context.Context, string, string, error) { t.Error("dead-lettered") }, "o", err)
		var s *rivertype.JobSnoozeError
		var c *rivertype.JobCancelError
		if got == nil || errors.As(got, &s) || errors.As(got, &c) {
			t.Errorf("answer = %v; want the error itself (River's backoff)", got)
		}
	})

	t.Run("needs a human: dead letter at once with log_url", func(t *testing.T) {
		err := komboAnswer(t, kombotest.Fault{Status: 403, Code: "INTEGRATION.PERMISSION_MISSING", Message: "The ATS user lacks the permission to write results."})
		var dead error
		got := komboFailure(t.Context(), job(), func(_ context.Context, _, _ string, err error) { dead = err }, "o", err)
		var c *rivertype.JobCancelError
		if !errors.As(got, &c) || dead == nil {
			t.Fatalf("answer = %v (dead letter %v); want a cancel, dead-lettered", got, dead)
		}
		ev := deadLetterEvent("writeback", "needs a human", dead)
		if !strings.HasPrefix(ev.LogURL, "https://app.kombo.dev/") || !strings.Contains(ev.Error, "lacks the permission") {
			t.Errorf("dead letter = %+v; want Kombo's message and log_url", ev)
		}
	})

	t.Run("setup pending: parked, not failed", func(t *testing.T) {
		for _, code := range []string{kombo.CodeSetupIncomplete, kombo.CodeSetupSyncPending} {
			err := komboAnswer(t, kombotest.Fault{Status: 409, Code: code})
			if c := kombo.Classify(err); c != kombo.ClassSetupPending {
				t.Errorf("Classify(409 %s) = %s; want setup_pending", code, c)
			}
		}
	})
}
