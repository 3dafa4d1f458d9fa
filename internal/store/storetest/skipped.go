package storetest

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	skipMu  sync.Mutex
	skipped = map[string]int{} // environment variable → tests that ran without its service
)

// Skipped records that a test ran without the service env names (it
// skipped the test, or the part of it that needs the service), for Main's
// summary.
func Skipped(env string) {
	skipMu.Lock()
	skipped[env]++
	skipMu.Unlock()
}

// Main runs a package's tests (from its TestMain) and then says, in one
// line, which services its tests ran without and how to give them. go test
// shows a passing package's output only with -v, so the line goes to the
// terminal (/dev/tty) when there is one, and to stderr otherwise; in CI,
// where RequireInCI fails a test that lacks a service, there is none to
// report.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	if line := skipLine(pkg); line != "" {
		var w io.Writer = os.Stderr
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			w = tty
		}
		fmt.Fprintln(w, line)
	}
	os.Exit(code)
}

// skipLine is the summary Main prints, or "" when nothing was skipped.
func skipLine(pkg string) string {
	skipMu.Lock()
	defer skipMu.Unlock()
	if len(skipped) == 0 {
		return ""
	}
	var parts []string
	for _, env := range slices.Sorted(func(yield func(string) bool) {
		for k := range skipped {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%d without %s (%s is not set)", skipped[env], serviceOf(env), env))
	}
	return fmt.Sprintf("%s: tests skipped: %s; README.md, \"Tests that need a service\", says how to run them",
		pkg, strings.Join(parts, ", "))
}

func serviceOf(env string) string {
	switch env {
	case EnvPostgres:
		return "Postgres"
	case "ASSESSGATE_TEST_MAILPIT":
		return "mailpit"
	case "ASSESSGATE_TEST_CHROMIUM":
		return "Chromium"
	}
	return env
}
