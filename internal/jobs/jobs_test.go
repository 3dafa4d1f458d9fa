package jobs

import (
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		every time.Duration
		now   string
		want  string
	}{
		{time.Minute, "2030-01-02T03:04:05.5Z", "2030-01-02T03:05:00Z"},
		{time.Minute, "2030-01-02T03:04:00Z", "2030-01-02T03:05:00Z"}, // on an instant: the next one
		{15 * time.Minute, "2030-01-02T03:04:05Z", "2030-01-02T03:15:00Z"},
		{time.Hour, "2030-01-02T23:59:59Z", "2030-01-03T00:00:00Z"},
		{time.Second, "2030-01-02T03:04:05.999Z", "2030-01-02T03:04:06Z"},
		{time.Millisecond, "2030-01-02T03:04:05.5Z", "2030-01-02T03:04:06Z"},  // a second at least
		{24 * time.Hour, "2030-01-02T03:04:05+02:00", "2030-01-03T00:00:00Z"}, // UTC days
	}
	for _, tt := range tests {
		got := Every(tt.every).Next(at(tt.now))
		if want := at(tt.want); !got.Equal(want) {
			t.Errorf("Every(%v).Next(%s) = %v; want %v", tt.every, tt.now, got.UTC(), want)
		}
	}
	// Consecutive runs are one period apart, whatever the start.
	s := Every(time.Minute)
	first := s.Next(at("2030-01-02T03:04:05Z"))
	if next := s.Next(first); next.Sub(first) != time.Minute {
		t.Errorf("Next(%v) = %v; want a minute later", first, next)
	}
}

func TestClientID(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.FixedZone("CET", 3600))
	tests := []struct{ name, want string }{
		{"replica-1", "replica-1_2030_01_02T02_04_05_123456"},
		{"web.example.com", "web_example_com_2030_01_02T02_04_05_123456"},
		{"", "assessgate_2030_01_02T02_04_05_123456"},
	}
	for _, tt := range tests {
		if got := clientID(tt.name, start); got != tt.want {
			t.Errorf("clientID(%q) = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestJobTimeout(t *testing.T) {
	// A job is cancelled before it could be rescued while it still runs.
	tests := []struct{ rescueAfter, want time.Duration }{
		{DefaultRescueAfter, time.Minute},
		{time.Hour, time.Minute},
		{10 * time.Second, 5 * time.Second},
		{2 * time.Second, time.Second},
	}
	for _, tt := range tests {
		if got := jobTimeout(tt.rescueAfter); got != tt.want {
			t.Errorf("jobTimeout(%v) = %v; want %v", tt.rescueAfter, got, tt.want)
		}
	}
}
