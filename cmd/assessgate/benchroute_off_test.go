//go:build !bench

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// benchTag says whether the tests are built with -tags bench, which compiles
// the no-write route into assessgate (benchroute.go).
const benchTag = false

// TestBench needs the no-write route: without -tags bench it only says so.
func TestBench(t *testing.T) {
	t.Skip("TestBench needs the benchmarks' no-write route: run bench/run.sh, or go test -tags bench -run TestBench ./cmd/assessgate with ASSESSGATE_BENCH=1")
}

// TestNoWriteRoute needs -tags bench; without it, serve refuses the setting.
func TestNoWriteRoute(t *testing.T) {
	env := map[string]string{
		"ASSESSGATE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "a.db"), "KOMBO_WEBHOOK_SECRET": testSecret,
		"ASSESSGATE_BENCH_NO_WRITE_ROUTE": "1",
	}
	err := run(t.Context(), []string{"serve"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "-tags bench") {
		t.Errorf("serve with ASSESSGATE_BENCH_NO_WRITE_ROUTE=1 in a build without -tags bench = %v; want an error that says to build with -tags bench", err)
	}
	err = run(t.Context(), []string{"serve", "--bench-no-write-route"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Errorf("serve --bench-no-write-route in a build without -tags bench = nil; want an error")
	}
}
