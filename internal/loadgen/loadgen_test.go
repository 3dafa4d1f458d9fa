package loadgen_test

import (
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/loadgen"
)

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 1000; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Summarize(d)
	want := loadgen.Latency{N: 1000, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000}
	if got != want {
		t.Errorf("Summarize(1ms…1000ms) = %+v; want %+v", got, want)
	}
	if got := loadgen.Summarize(nil); got != (loadgen.Latency{}) {
		t.Errorf("Summarize(nil) = %+v; want zero", got)
	}
}

func TestNew_Refuses(t *testing.T) {
	for _, cfg := range []loadgen.Config{
		{URL: "http://127.0.0.1:8080/webhooks/kombo"}, // no secret
		{URL: "http://example.com/webhooks/kombo", Secret: "s"},
		{URL: "http://127.0.0.1:8080/webhooks/kombo", APIURL: "https://api.example.com", Secret: "s"},
		{URL: "http://127.0.0.1:8080/webhooks/kombo", Secret: "s", BadSignatures: -0.1},
		{URL: "http://127.0.0.1:8080/webhooks/kombo", Secret: "s", Packages: []string{}},
	} {
		if _, err := loadgen.New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error; want one", cfg)
		}
	}
	if _, err := loadgen.New(loadgen.Config{URL: "http://[::1]:8080/webhooks/kombo", Secret: "s"}); err != nil {
		t.Errorf("New(loopback, defaults) = %v; want nil", err)
	}
}
