package metrics

import (
	"testing"
	"time"
)

// The job queue's age reads River's scheduled_at as each database gives
// it: a time.Time from Postgres, riversqlite's UTC text from SQLite.
func TestTimeOf(t *testing.T) {
	want := time.Date(2026, 12, 1, 16, 23, 1, 123e6, time.UTC)
	for _, v := range []any{want, "2026-12-01 16:23:01.123", []byte("2026-12-01 16:23:01.123"), "2026-12-01T16:23:01.123Z"} {
		if got, ok := timeOf(v); !ok || !got.Equal(want) {
			t.Errorf("timeOf(%v) = %v, %v; want %v", v, got, ok, want)
		}
	}
	if _, ok := timeOf(nil); ok {
		t.Errorf("timeOf(nil) ok; want no time (no job waits)")
	}
}
