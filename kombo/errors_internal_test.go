package kombo

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 7, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		status int
		header http.Header
		want   time.Duration
	}{
		{429, http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{503, http.Header{"Retry-After": {" 120 "}}, 2 * time.Minute},
		{429, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{503, http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0},
		{429, http.Header{"Retry-After": {"-3"}}, 0},
		{429, http.Header{"Ratelimit-Reset": {"12"}}, 12 * time.Second},
		{429, http.Header{"Retry-After": {"5"}, "Ratelimit-Reset": {"12"}}, 5 * time.Second},
		{429, http.Header{"Retry-After": {"soon"}, "Ratelimit-Reset": {"12"}}, 12 * time.Second},
		{503, http.Header{"Ratelimit-Reset": {"12"}}, 0}, // ratelimit-reset counts on 429 only
		{429, http.Header{}, 0},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.status, Header: tt.header}
		if got := retryAfter(resp, now); got != tt.want {
			t.Errorf("retryAfter(%d %v) = %v; want %v", tt.status, tt.header, got, tt.want)
		}
	}
}
