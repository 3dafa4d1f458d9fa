package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// runLoadJSON runs "assessgate load" with args and returns its report.
func runLoadJSON(t *testing.T, args ...string) *loadReport {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"load", "--json", "--quiet", "--secret", testSecret}, args...)
	if err := run(t.Context(), args, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("run(%q) = %v\n%s%s", args, err, errOut.String(), out.String())
	}
	var rep loadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return &rep
}

func TestLoad(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, map[string]string{"ASSESSGATE_LOG_LEVEL": "warn"})

		t.Run("Concurrent", func(t *testing.T) {
			rep := runLoadJSON(t, "--url", a.URL+"/webhooks/kombo", "--api-token", testToken,
				"--count", "300", "--concurrency", "16", "--duplicates", "0.1", "--bad-signatures", "0.05", "--seed", "7")
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
			rep := runLoadJSON(t, "--url", a.URL+"/webhooks/kombo", "--api-token", testToken, "--rate", "200", "--count", "100")
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

func TestLoad_NoWriteRoute(t *testing.T) {
	dir := t.TempDir()
	off := startApp(t, "sqlite:"+filepath.Join(dir, "off.db"), nil)
	if status, _ := off.webhook(orderBody(t, "e", "o", nil)); status != http.StatusOK {
		t.Fatalf("webhook = %d", status)
	}
	status, _ := off.post("/bench/no-write/webhooks/kombo", orderBody(t, "e", "o", nil), nil)
	if status != http.StatusNotFound {
		t.Errorf("no-write route without ASSESSGATE_BENCH_NO_WRITE_ROUTE = %d; want 404", status)
	}

	on := startApp(t, "sqlite:"+filepath.Join(dir, "on.db"), map[string]string{"ASSESSGATE_BENCH_NO_WRITE_ROUTE": "1"})
	if !strings.Contains(on.logs.String(), "without storing") {
		t.Errorf("start-up log does not warn about the benchmark route:\n%s", on.logs)
	}
	rep := runLoadJSON(t, "--url", on.URL+"/bench/no-write/webhooks/kombo", "--count", "50", "--bad-signatures", "0.2")
	if rep.Unexpected != 0 || rep.Acknowledged == 0 || rep.Statuses["401"] != int(rep.BadSignatures) {
		t.Errorf("report = %+v; want 2xx for good signatures, 401 for bad ones", rep)
	}
	for _, table := range []string{"webhook_events", "orders", "river_job"} {
		if n := on.count(table, ""); n != 0 {
			t.Errorf("%s has %d rows after the no-write route; want 0", table, n)
		}
	}
}

func TestLoad_Refuses(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.com/webhooks/kombo"},
		{"--url", "http://10.0.0.1:8080/webhooks/kombo"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--api-url", "https://api.example.com"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--duration", "11m"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--count", "99999999"},
		{"--url", "http://127.0.0.1:8080/webhooks/kombo", "--duplicates", "1.5"},
	} {
		args = append([]string{"load", "--secret", "s"}, args...)
		err := run(t.Context(), args, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("run(%q) = nil; want an error", args)
		}
	}
}
