package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/kombo"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"90s", 90 * time.Second, false},
		{"48h", 48 * time.Hour, false},
		{"14d", 14 * 24 * time.Hour, false},
		{"1.5d", 36 * time.Hour, false},
		{" 5m ", 5 * time.Minute, false},
		{"0", 0, false},
		{"14 days", 0, true},
		{"d", 0, true},
		{"-1h", 0, true},
		{"-2d", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestParseServeConfig_Parked: the bound of parked work takes days, from
// the environment or the flag, and defaults to 7 days.
func TestParseServeConfig_Parked(t *testing.T) {
	env := map[string]string{"KOMBO_WEBHOOK_SECRET": "s"}
	getenv := func(k string) string { return env[k] }
	cfg, err := parseServeConfig(nil, getenv, io.Discard)
	if err != nil || cfg.ParkedMaxAge != 7*24*time.Hour || cfg.ParkedCheckInterval != 10*time.Minute {
		t.Fatalf("defaults = %v, %v, %v; want 7d and 10m", cfg.ParkedMaxAge, cfg.ParkedCheckInterval, err)
	}
	env["ASSESSGATE_PARKED_MAX_AGE"] = "3d"
	if cfg, err = parseServeConfig(nil, getenv, io.Discard); err != nil || cfg.ParkedMaxAge != 72*time.Hour {
		t.Errorf("ASSESSGATE_PARKED_MAX_AGE=3d = %v, %v; want 72h", cfg.ParkedMaxAge, err)
	}
	if cfg, err = parseServeConfig([]string{"--parked-max-age", "12h"}, getenv, io.Discard); err != nil || cfg.ParkedMaxAge != 12*time.Hour {
		t.Errorf("--parked-max-age 12h = %v, %v; want 12h, the flag over the environment", cfg.ParkedMaxAge, err)
	}
}

func TestServe_BadSettings(t *testing.T) {
	base := map[string]string{"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db"}
	tests := []struct{ env, value, want string }{
		{"ASSESSGATE_RECONCILE_INTERVAL", "often", "ASSESSGATE_RECONCILE_INTERVAL"},
		{"ASSESSGATE_INVITE_TTL", "2 weeks", "ASSESSGATE_INVITE_TTL"},
		{"ASSESSGATE_KOMBO_CONCURRENCY", "ten", "ASSESSGATE_KOMBO_CONCURRENCY"},
		{"ASSESSGATE_KOMBO_CONCURRENCY", "0", "ASSESSGATE_KOMBO_CONCURRENCY"},
		{"KOMBO_API_URL", "api.kombo.dev", "KOMBO_API_URL"},
		{"ASSESSGATE_ASSESSMENT_URL", "/relative/{token}", "ASSESSGATE_ASSESSMENT_URL"},
		{"ASSESSGATE_ASSESSMENT_URL", "https://a.example/same-for-all", "ASSESSGATE_ASSESSMENT_URL"},
		{"ASSESSGATE_LOG_LEVEL", "loud", "ASSESSGATE_LOG_LEVEL"},
		{"ASSESSGATE_LOG_FORMAT", "xml", "ASSESSGATE_LOG_FORMAT"},
		{"ASSESSGATE_DATABASE_URL", "mysql://x", "database URL"},
		{"ASSESSGATE_PARKED_MAX_AGE", "a week", "ASSESSGATE_PARKED_MAX_AGE"},
		{"ASSESSGATE_PARKED_MAX_AGE", "30s", "ASSESSGATE_PARKED_MAX_AGE"},
		{"ASSESSGATE_PARKED_CHECK_INTERVAL", "10ms", "ASSESSGATE_PARKED_CHECK_INTERVAL"},
	}
	for _, tt := range tests {
		env := map[string]string{tt.env: tt.value}
		getenv := func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return base[k]
		}
		err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, getenv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve with %s=%q = %v; want an error naming %s", tt.env, tt.value, err, tt.want)
		}
	}
}

// TestServe_OnlySecret runs serve as the README's first command does: only
// KOMBO_WEBHOOK_SECRET set (and a free port), the database the default
// ./assessgate.db, and JSON logs to check they are structured.
func TestServe_OnlySecret(t *testing.T) {
	seed := fixture(t, "seed-assessment-order-received.json")
	t.Chdir(t.TempDir())
	env := map[string]string{"KOMBO_WEBHOOK_SECRET": "only-secret", "ASSESSGATE_LOG_FORMAT": "json"}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw, &logs)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, logs.String())
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/kombo", bytes.NewReader(seed))
	req.Header.Set(kombo.SignatureHeader, kombo.Sign("only-secret", seed))
	resp, err := apitest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST seed = %d; want 200", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v", err)
	}
	if _, err := os.Stat("assessgate.db"); err != nil {
		t.Errorf("default database ./assessgate.db: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil {
			t.Errorf("log line %q is not a JSON record with msg and level", l)
		}
	}
}

// TestServe_FlagErrors: an error names the flag when the flag was given and
// the variable when the variable was; a mistaken flag is one line pointing
// at -h, not the page of every flag, which -h prints.
func TestServe_FlagErrors(t *testing.T) {
	env := map[string]string{"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db"}
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), []string{"serve", "--intake-batch", "5000"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "--intake-batch 5000: ") {
		t.Errorf("serve --intake-batch 5000 = %v; want an error naming --intake-batch", err)
	}
	env["ASSESSGATE_INTAKE_BATCH"] = "5000"
	err = run(context.Background(), []string{"serve"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "ASSESSGATE_INTAKE_BATCH 5000: ") {
		t.Errorf("serve with ASSESSGATE_INTAKE_BATCH=5000 = %v; want an error naming the variable", err)
	}
	delete(env, "ASSESSGATE_INTAKE_BATCH")

	var stderr strings.Builder
	err = run(context.Background(), []string{"serve", "--intake-bach", "5"}, getenv, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "-intake-bach") || !strings.Contains(err.Error(), `"assessgate serve -h"`) {
		t.Errorf("serve --intake-bach = %v; want the flag named and -h pointed at", err)
	}
	if stderr.Len() > 0 {
		t.Errorf("serve --intake-bach printed %d bytes of usage besides the error:\n%s", stderr.Len(), stderr.String())
	}
	stderr.Reset()
	if err := run(context.Background(), []string{"serve", "-h"}, getenv, io.Discard, &stderr); err != nil || !strings.Contains(stderr.String(), "-intake-batch") {
		t.Errorf("serve -h = %v, printed %q; want every flag", err, stderr.String())
	}
}
