//go:build bench

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/loadgen"
)

// benchTag says whether the tests are built with -tags bench, which compiles
// the no-write route into assessgate (benchroute.go).
const benchTag = true

func TestNoWriteRoute(t *testing.T) {
	on := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "on.db"), map[string]string{"ASSESSGATE_BENCH_NO_WRITE_ROUTE": "1"})
	if !strings.Contains(on.logs.String(), "without storing") {
		t.Errorf("start-up log does not warn about the benchmark route:\n%s", on.logs)
	}
	rep := runLoad(t, loadgen.Config{URL: on.URL + "/bench/no-write/webhooks/kombo", Count: 50, BadSignatures: 0.2})
	if rep.Unexpected != 0 || rep.Acknowledged == 0 || rep.Statuses["401"] != int(rep.BadSignatures) {
		t.Errorf("report = %+v; want 2xx for good signatures, 401 for bad ones", rep)
	}
	for _, table := range []string{"webhook_events", "orders", "river_job"} {
		if n := on.count(table, ""); n != 0 {
			t.Errorf("%s has %d rows after the no-write route; want 0", table, n)
		}
	}
}
