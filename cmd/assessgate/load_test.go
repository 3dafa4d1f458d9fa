package main

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/assessgate/assessgate/internal/loadgen"
	"github.com/assessgate/assessgate/internal/store/storetest"
)

// runLoad runs the load generator (internal/loadgen, the command
// assessgate-load) with cfg, signed with testSecret, and returns its report,
// checked through the API when cfg has an API token.
func runLoad(t *testing.T, cfg loadgen.Config) *loadgen.Report {
	t.Helper()
	cfg.Secret = testSecret
	g, err := loadgen.New(cfg)
	if err != nil {
		t.Fatalf("loadgen.New(%+v) = %v", cfg, err)
	}
	rep, err := g.Run(t.Context())
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if cfg.APIToken != "" {
		if err := g.Check(t.Context(), rep); err != nil {
			t.Fatalf("Check = %v", err)
		}
	}
	return rep
}

func TestLoad(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, map[string]string{"ASSESSGATE_LOG_LEVEL": "warn"})

		t.Run("Concurrent", func(t *testing.T) {
			rep := runLoad(t, loadgen.Config{URL: a.URL + "/webhooks/kombo", APIToken: testToken,
				Count: 300, Concurrency: 16, Duplicates: 0.1, BadSignatures: 0.05, Seed: 7})
			if rep.Sent != 300 || rep.Unexpected != 0 || rep.Check == nil || !rep.Check.OK {
				t.Fatalf("report = %+v, check %+v; want 300 sent, nothing unexpected, the check ok", rep, rep.Check)
			}
			if rep.BadSignatures == 0 || rep.Statuses["401"] != int(rep.BadSignatures) {
				t.Errorf("bad signatures sent %d, 401 answers %d; want some, all 401", rep.BadSignatures, rep.Statuses["401"])
			}
			if rep.Duplicates == 0 || rep.Check.Found != rep.AcknowledgedOrders || rep.AcknowledgedOrders >= int(rep.Acknowledged) {
				t.Errorf("redeliveries %d, found %d of %d acknowledged orders in %d 2xx; want redeliveries acknowledged and stored once",
					rep.Duplicates, rep.Check.Found, rep.AcknowledgedOrders, rep.Acknowledged)
			}
			if rep.Check.BadChecked == 0 || rep.Check.BadFound != 0 {
				t.Errorf("badly signed orders: %d checked, %d stored; want some checked, none stored", rep.Check.BadChecked, rep.Check.BadFound)
			}
			if n := a.count("orders", "integration_id = $1", rep.Integration); n != rep.Check.Found {
				t.Errorf("orders in the database = %d; want %d", n, rep.Check.Found)
			}
			if rep.Latency.N == 0 || rep.Latency.P50 <= 0 || rep.Latency.P50 > rep.Latency.P99 || rep.Latency.P99 > rep.Latency.Max {
				t.Errorf("latency = %+v; want ordered percentiles", rep.Latency)
			}
		})

		t.Run("Rate", func(t *testing.T) {
			rep := runLoad(t, loadgen.Config{URL: a.URL + "/webhooks/kombo", APIToken: testToken, Rate: 200, Count: 100})
			if rep.Mode != "rate" || rep.Acknowledged != 100 || rep.Missed != 0 || !rep.Check.OK {
				t.Fatalf("report = %+v, check %+v; want 100 acknowledged on schedule, the check ok", rep, rep.Check)
			}
			// 100 at 200/s take about half a second, not less.
			if rep.Seconds < 0.45 {
				t.Errorf("sent 100 at 200/s in %.2fs; want about 0.5s", rep.Seconds)
			}
		})
	})
}

// TestNoWriteRoute_Off: without ASSESSGATE_BENCH_NO_WRITE_ROUTE there is no
// no-write route, in any build.
func TestNoWriteRoute_Off(t *testing.T) {
	off := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "off.db"), nil)
	if status, _ := off.webhook(orderBody(t, "e", "o", nil)); status != http.StatusOK {
		t.Fatalf("webhook = %d", status)
	}
	status, _ := off.post("/bench/no-write/webhooks/kombo", orderBody(t, "e", "o", nil), nil)
	if status != http.StatusNotFound {
		t.Errorf("no-write route without ASSESSGATE_BENCH_NO_WRITE_ROUTE = %d; want 404", status)
	}
}

// TestLoad_DefaultPackages: the load generator's default packages are in
// the example catalogue deploy/packages.json (which the README's serve and
// deploy/compose.yaml use), so its orders are taken, not refused with 422.
func TestLoad_DefaultPackages(t *testing.T) {
	catalogue, err := filepath.Abs(filepath.Join("..", "..", "deploy", "packages.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, storetest.SQLite(t).URL, map[string]string{"ASSESSGATE_PACKAGES_FILE": catalogue, "ASSESSGATE_LOG_LEVEL": "warn"})
	rep := runLoad(t, loadgen.Config{URL: a.URL + "/webhooks/kombo", APIToken: testToken, Count: 40, Concurrency: 4, Seed: 11})
	if rep.Unexpected != 0 || rep.Statuses["422"] != 0 || !rep.Check.OK {
		t.Errorf("load with the default packages against deploy/packages.json: %+v, check %+v; want every order taken", rep.Statuses, rep.Check)
	}
}
