package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/store/storetest"
)

// TestVersion: "assessgate version" prints the module version, the commit
// and the Go version; a running serve logs them at start-up and publishes
// them in /metrics as assessgate_build_info.
func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("assessgate version: %v", err)
	}
	b := assessgate.ReadBuildInfo()
	if b.GoVersion != runtime.Version() || b.Version == "" || b.Commit == "" {
		t.Errorf("ReadBuildInfo() = %+v; want the module version, a commit and %s", b, runtime.Version())
	}
	want := fmt.Sprintf("assessgate %s (commit %s, %s)\n", b.Version, b.Commit, runtime.Version())
	if stdout.String() != want {
		t.Errorf("assessgate version printed %q; want %q", stdout.String(), want)
	}

	a := startApp(t, storetest.SQLite(t).URL, nil)
	status, body := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d", status)
	}
	metric := fmt.Sprintf(`assessgate_build_info{commit=%q,goversion=%q,version=%q} 1`, b.Commit, b.GoVersion, b.Version)
	if !strings.Contains(string(body), metric) {
		t.Errorf("/metrics lacks %s", metric)
	}
	logLine := fmt.Sprintf(`version=%s commit=%s go=%s`, b.Version, b.Commit, b.GoVersion)
	if !strings.Contains(a.logs.String(), logLine) {
		t.Errorf("the start-up log lacks %q:\n%s", logLine, a.logs)
	}
}
