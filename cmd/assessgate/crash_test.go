package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/loadgen"
	"github.com/assessgate/assessgate/internal/store"
)

// EnvCrashScale sets the scale of TestCrash: unset for CI's (1,500 orders,
// one kill), "full" for 30,000 orders and three kills.
const EnvCrashScale = "ASSESSGATE_CRASH_SCALE"

// TestCrash sends orders to a real assessgate process and kills it with
// SIGKILL while they arrive, then starts it again on the same database and
// port while the load goes on. Every order that was answered 200 must be
// stored exactly once, and its invitation job must run to completion,
// including the jobs the killed process was running.
//
// Full scale: ASSESSGATE_CRASH_SCALE=full go test -run TestCrash -v ./cmd/assessgate
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real processes: not in -short")
	}
	orders, kills, concurrency := 1500, 1, 32
	if os.Getenv(EnvCrashScale) == "full" {
		orders, kills, concurrency = 30000, 3, 64
	}
	bin := buildAssessgate(t)
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		crash(t, bin, dbURL, orders, kills, concurrency)
	})
}

func crash(t *testing.T, bin, dbURL string, total, kills, concurrency int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{
		"KOMBO_WEBHOOK_SECRET=" + testSecret,
		"ASSESSGATE_API_TOKEN=" + testToken,
		"ASSESSGATE_DATABASE_URL=" + dbURL,
		"ASSESSGATE_ADDR=" + addr,
		"ASSESSGATE_ASSESSMENT_URL=https://assess.example/start/{order_id}?t={token}",
		"ASSESSGATE_LOG_LEVEL=warn",
		// A job left running by the killed process is rescued 2s after it
		// began, and retried after 50ms.
		"ASSESSGATE_RESCUE_AFTER=2s",
		"ASSESSGATE_RETRY_BASE=50ms",
		"PATH=" + os.Getenv("PATH"),
	}
	if out, err := exec.Command(bin, append([]string{"migrate"}, "--database-url", dbURL)...).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	gen, err := loadgen.New(loadgen.Config{
		URL: "http://" + addr + "/webhooks/kombo", APIURL: "http://" + addr, Secret: testSecret, APIToken: testToken,
		Concurrency: concurrency, Count: total, Duration: 5 * time.Minute, Duplicates: 0.05, Retries: 10,
		Packages: []string{"typescript_test", "go_test"}, Timeout: 10 * time.Second, MaxInFlight: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan result, 1)
	started := time.Now()
	proc := startReplica(t, bin, "crash-0", env)
	go func() {
		rep, err := gen.Run(context.Background())
		done <- result{rep, err}
	}()

	// Kill the process each time another share of the orders is in, and
	// start it again at once, as a supervisor would.
	var downtime time.Duration
	for k := 1; k <= kills; k++ {
		waitFor(t, 2*time.Minute, fmt.Sprintf("%d acknowledged orders", k*total/(kills+1)), func() bool {
			return gen.Acknowledged() >= k*total/(kills+1)
		})
		inFlight := gen.InFlight()
		proc.kill(t)
		killed := time.Now()
		t.Logf("kill %d: SIGKILL with %d acknowledged and %d requests in flight", k, gen.Acknowledged(), inFlight)
		proc = startReplica(t, bin, fmt.Sprintf("crash-%d", k), env)
		downtime += time.Since(killed)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	rep := res.rep
	noAnswer := 0
	for _, n := range rep.Errors {
		noAnswer += n
	}
	t.Logf("load: %d webhooks (%d redeliveries) for %d orders in %v: answers %v, %d requests without an answer, %d sent again; down %v in all",
		rep.Sent, rep.Duplicates, rep.AcknowledgedOrders, time.Since(started).Round(time.Millisecond), rep.Statuses, noAnswer,
		rep.Retried, downtime.Round(time.Millisecond))
	// Sent again as Kombo would, every webhook is answered 200 in the end.
	if rep.Unexpected != 0 {
		t.Errorf("%d webhooks never answered 200 though sent up to 10 more times", rep.Unexpected)
	}

	// Every acknowledged order is stored exactly once (through the API).
	if err := gen.Check(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Check.OK {
		t.Fatalf("after %d kills: %s", kills, rep.Check.Summary)
	}
	t.Logf("check: %s", rep.Check.Summary)

	// Every stored order, acknowledged or not, has exactly one invitation
	// job, and all of them complete: those the killed processes were
	// running are rescued and run again.
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := storedOrders(t, db, rep.Integration)
	drainStart := time.Now()
	var first string
	waitFor(t, 3*time.Minute, "every invitation job completed", func() bool {
		jobs := inviteJobs(t, db)
		completed, missing := 0, 0
		states := map[string]int{}
		for id := range stored {
			js := jobs[id]
			if len(js) > 1 {
				t.Fatalf("order %s has %d invitation jobs; want 1", id, len(js))
			}
			if len(js) == 0 {
				missing++
				continue
			}
			states[js[0]]++
			if js[0] == "completed" {
				completed++
			}
		}
		if missing > 0 {
			t.Fatalf("%d stored orders have no invitation job", missing)
		}
		if first == "" {
			first = fmt.Sprint(states)
		}
		return completed == len(stored)
	})
	rescued := 0
	db.Writer.QueryRow("SELECT count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') AND attempt > 1").Scan(&rescued)
	t.Logf("jobs: all %d invitation jobs completed %v after the last restart (%d run more than once; at the restart: %s)",
		len(stored), time.Since(drainStart).Round(time.Millisecond), rescued, first)
	proc.stop(t)
}

// storedOrders returns the ids of the orders of an integration.
func storedOrders(t *testing.T, db *store.DB, integrationID string) map[string]bool {
	t.Helper()
	rows, err := db.Reader.Query("SELECT id FROM orders WHERE integration_id = $1", integrationID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		if ids[id] {
			t.Fatalf("order %s stored twice", id)
		}
		ids[id] = true
	}
	return ids
}

// inviteJobs returns the states of the invitation jobs of every order: an
// order's own (invite) and those of the batches it is in (invite_many).
func inviteJobs(t testing.TB, db *store.DB) map[string][]string {
	t.Helper()
	args := "args::text"
	if db.Dialect == store.SQLite {
		args = "json(args)"
	}
	rows, err := db.Reader.Query("SELECT " + args + ", state FROM river_job WHERE kind IN ('invite', 'invite_many')")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	jobs := map[string][]string{}
	for rows.Next() {
		var raw sql.RawBytes
		var state string
		if err := rows.Scan(&raw, &state); err != nil {
			t.Fatal(err)
		}
		var a struct {
			OrderID  string   `json:"order_id"`
			OrderIDs []string `json:"order_ids"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("invite job args %s: %v", raw, err)
		}
		if a.OrderID != "" {
			a.OrderIDs = append(a.OrderIDs, a.OrderID)
		}
		for _, id := range a.OrderIDs {
			jobs[id] = append(jobs[id], state)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return jobs
}
