package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
)

// buildAssessgate builds the assessgate binary into a temporary directory,
// with the race detector when the tests have it: the packages are then in
// the build cache already, and a data race in a replica fails its exit.
func buildAssessgate(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "assessgate")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if benchTag {
		args = append(args, "-tags", "bench")
	}
	start := time.Now()
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s (race detector %v) in %v", bin, raceEnabled, time.Since(start).Round(time.Millisecond))
	return bin
}

// replica is one assessgate process.
type replica struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // what Wait said, once exited is closed
}

// startReplica starts "bin serve" named name with env, waits until it
// listens, and kills it when the test ends if it still runs.
func startReplica(t *testing.T, bin, name string, env []string) *replica {
	t.Helper()
	return startReplicaLogging(t, bin, name, env, nil)
}

// startReplicaLogging is startReplica with the process's log (its stderr)
// written to logs instead of kept in memory, when logs is not nil.
func startReplicaLogging(t *testing.T, bin, name string, env []string, logs io.Writer) *replica {
	t.Helper()
	r := &replica{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Env = append(slices.Clone(env), "ASSESSGATE_REPLICA_NAME="+name)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if logs != nil {
		r.cmd.Stderr = logs
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, r.stderr)
		}
	})
	wait.For(t, 30*time.Second, name+" listening", func() bool {
		select {
		case <-r.exited:
			t.Fatalf("%s exited: %v\n%s", name, r.err, r.stderr)
		default:
		}
		line, _, ok := strings.Cut(r.stdout.String(), "\n")
		r.url = strings.TrimPrefix(line, "listening on ")
		return ok
	})
	return r
}

// kill kills the replica with SIGKILL, as a crash or the OOM killer does,
// and waits until it is gone.
func (r *replica) kill(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", r.name, err)
	}
	<-r.exited
}

// stop asks the replica to shut down, as an orchestrator does, and checks
// that it exits cleanly.
func (r *replica) stop(t testing.TB) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
		if r.err != nil {
			t.Errorf("%s exited with %v after SIGTERM; want 0\n%s", r.name, r.err, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not exit within 30s of SIGTERM", r.name)
	}
}

// sender posts signed webhooks to the replicas over kept-alive connections.
type sender struct {
	client *http.Client
	mu     sync.Mutex
	errs   []string
}

func newSender(t testing.TB) *sender {
	return &sender{client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &apitest.Transport{T: t, Base: &http.Transport{MaxIdleConnsPerHost: 64}},
	}}
}

// send posts body to r and records anything but a 200. It may be called from
// any goroutine.
func (s *sender) send(r *replica, body []byte) {
	req, err := http.NewRequest(http.MethodPost, r.url+"/webhooks/kombo", bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(kombo.SignatureHeader, kombo.Sign(testSecret, body))
		var resp *http.Response
		if resp, err = s.client.Do(req); err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%d %s", resp.StatusCode, b.Bytes())
			}
		}
	}
	if err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.errs = append(s.errs, fmt.Sprintf("POST to %s: %v", r.name, err))
	}
}

// delivery is one order sent to one replica, or to two at once.
type delivery struct {
	to     []*replica
	bodies [][]byte
}

// deliverAll sends every delivery with n concurrent senders; the copies of a
// delivery go out at the same moment. It fails the test on any answer but 200.
func (s *sender) deliverAll(t testing.TB, ds []delivery, n int) {
	t.Helper()
	work := make(chan delivery)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for d := range work {
				var copies sync.WaitGroup
				for i, r := range d.to {
					copies.Go(func() { s.send(r, d.bodies[i]) })
				}
				copies.Wait()
			}
		})
	}
	for _, d := range ds {
		work <- d
	}
	close(work)
	wg.Wait()
	if len(s.errs) > 0 {
		t.Fatalf("%d webhooks not answered 200, first: %s", len(s.errs), s.errs[0])
	}
}

// pgQuery runs a query that returns one row on the test's database.
func pgQuery(t testing.TB, db *sql.DB, dest []any, q string, args ...any) {
	t.Helper()
	if err := db.QueryRow(q, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func pgCount(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	pgQuery(t, db, []any{&n}, q, args...)
	return n
}

// workerEvents selects the timeline events a job wrote, as opposed to those
// the intake writes: one per worked invitation.
var workerEvents = fmt.Sprintf("kind NOT IN ('%s', '%s', '%s')", orders.EventReceived, orders.EventDuplicate, orders.EventLinkIssued)

// lastAttemptedBy is the River client that last worked a job.
const lastAttemptedBy = "attempted_by[array_length(attempted_by, 1)]"

// TestReplicas runs three assessgate processes on one Postgres database, as
// a vendor runs them behind a load balancer, and checks what the issue asks:
// 1,000 orders, a fifth of them delivered twice at once to two replicas,
// are stored once and invited once; periodic work runs once per period, not
// once per replica; and when a replica is killed while its jobs run, the
// others finish them.
func TestReplicas(t *testing.T) {
	pg, ok := storetest.Postgres(t)
	if !ok {
		storetest.RequireInCI(t, storetest.EnvPostgres)
		storetest.Skipped(storetest.EnvPostgres)
		t.Skipf("three replicas need a shared Postgres: set %s (eval \"$(.ci/postgres.sh start)\")", storetest.EnvPostgres)
	}
	if testing.Short() {
		t.Skip("three replicas and 1,150 orders: not in -short")
	}
	testStart := time.Now()
	bin := buildAssessgate(t)
	db, err := store.Open(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pgdb := db.Writer

	env := []string{
		"KOMBO_WEBHOOK_SECRET=" + testSecret,
		"ASSESSGATE_API_TOKEN=" + testToken,
		"ASSESSGATE_DATABASE_URL=" + pg.URL,
		"ASSESSGATE_ADDR=127.0.0.1:0",
		"ASSESSGATE_ASSESSMENT_URL=https://assess.example/start/{order_id}?t={token}",
		// Short enough for a test: the heartbeat names each second, and a
		// job left running by a dead replica is rescued 8s after it began.
		"ASSESSGATE_HEARTBEAT_INTERVAL=1s",
		"ASSESSGATE_RESCUE_AFTER=8s",
	}

	// Three processes migrate the empty database at once, as replicas
	// started together with --migrate would; then the replicas serve
	// without --migrate, which they refuse unless the schema is complete.
	var migrations sync.WaitGroup
	for i := range 3 {
		migrations.Go(func() {
			cmd := exec.Command(bin, "migrate")
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("migrate #%d: %v\n%s", i, err, out)
			}
		})
	}
	migrations.Wait()
	if t.Failed() {
		t.FailNow()
	}

	replicas := make([]*replica, 3)
	for i := range replicas {
		replicas[i] = startReplica(t, bin, fmt.Sprintf("replica-%d", i+1), env)
	}
	byClient := func(clientID string) *replica {
		for _, r := range replicas {
			if strings.HasPrefix(clientID, r.name+"_") {
				return r
			}
		}
		t.Fatalf("River client %q is none of the replicas", clientID)
		return nil
	}
	leader := func() (id string, electedAt time.Time) {
		t.Helper()
		wait.For(t, 30*time.Second, "River leader", func() bool {
			return pgCount(t, pgdb, "SELECT count(*) FROM river_leader WHERE expires_at > now()") == 1
		})
		pgQuery(t, pgdb, []any{&id, &electedAt}, "SELECT leader_id, elected_at FROM river_leader")
		return id, electedAt
	}
	firstLeader, firstElected := leader()
	t.Logf("3 replicas up after %v; leader %s", time.Since(testStart).Round(time.Millisecond), byClient(firstLeader).name)

	// Phase 1: 1,000 orders spread over the replicas; every fifth goes to a
	// second replica at the same moment, half of those as the same event
	// (Kombo's redelivery), half as a new event for the same order.
	const total = 1000
	var ds []delivery
	var duplicates, newEvents int
	for i := range total {
		id := fmt.Sprintf("order-%04d", i)
		d := delivery{to: []*replica{replicas[i%3]}, bodies: [][]byte{orderBody(t, "ev-"+id, id, nil)}}
		if i%5 == 0 {
			duplicates++
			second := d.bodies[0]
			if i%10 == 5 {
				newEvents++
				second = orderBody(t, "ev-"+id+"-again", id, nil)
			}
			d.to = append(d.to, replicas[(i+1)%3])
			d.bodies = append(d.bodies, second)
		}
		ds = append(ds, d)
	}
	s := newSender(t)
	sendStart := time.Now()
	s.deliverAll(t, ds, 24)
	sent := time.Since(sendStart)
	t.Logf("phase 1: %d webhooks (%d orders, %d sent twice) answered 200 in %v (%.0f/s)",
		total+duplicates, total, duplicates, sent.Round(time.Millisecond), float64(total+duplicates)/sent.Seconds())

	if n := pgCount(t, pgdb, "SELECT count(*) FROM orders"); n != total {
		t.Errorf("orders = %d; want %d", n, total)
	}
	if n := pgCount(t, pgdb, "SELECT count(*) FROM webhook_events"); n != total+newEvents {
		t.Errorf("webhook events = %d; want %d (a redelivered event is kept once)", n, total+newEvents)
	}
	if n := pgCount(t, pgdb, "SELECT count(*) FROM order_events WHERE kind = $1", orders.EventDuplicate); n != newEvents {
		t.Errorf("%s events = %d; want %d", orders.EventDuplicate, n, newEvents)
	}
	// The orders of one intake transaction share one invite_many job.
	var invites, jobOrders int
	pgQuery(t, pgdb, []any{&invites, &jobOrders}, `SELECT count(*), count(DISTINCT o)
		FROM river_job, jsonb_array_elements_text(args->'order_ids') o WHERE kind = 'invite_many'`)
	jobs := pgCount(t, pgdb, "SELECT count(*) FROM river_job WHERE kind = 'invite_many'")
	if invites != total || jobOrders != total {
		t.Errorf("orders in invite jobs = %d, %d distinct; want each of %d once", invites, jobOrders, total)
	}
	wait.For(t, 60*time.Second, "completion of every invite job", func() bool {
		return pgCount(t, pgdb, "SELECT count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') AND state <> 'completed'") == 0
	})
	t.Logf("phase 1: all %d invite jobs (%d orders) completed %v after the first webhook", jobs, total, time.Since(sendStart).Round(time.Millisecond))
	if n := pgCount(t, pgdb, "SELECT count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') AND attempt <> 1"); n != 0 {
		t.Errorf("invite jobs worked more than once = %d; want 0", n)
	}
	var events, eventOrders int
	pgQuery(t, pgdb, []any{&events, &eventOrders}, "SELECT count(*), count(DISTINCT order_id) FROM order_events WHERE "+workerEvents)
	if events != total || eventOrders != total {
		t.Errorf("invitation events = %d on %d orders; want exactly one on each of %d", events, eventOrders, total)
	}
	logWorkedBy(t, pgdb, byClient, "phase 1")

	// One heartbeat per period, not one per replica: River's leader alone
	// schedules periodic jobs. With the leader unchanged, the periods have
	// no gaps either.
	wait.For(t, 30*time.Second, "five heartbeat periods", func() bool {
		return pgCount(t, pgdb, "SELECT count(DISTINCT scheduled_at) FROM river_job WHERE kind = 'heartbeat'") >= 5
	})
	periods := heartbeats(t, pgdb)
	if id, elected := leader(); id == firstLeader && elected.Equal(firstElected) {
		for i := 1; i < len(periods); i++ {
			if gap := periods[i].Sub(periods[i-1]); gap != time.Second {
				t.Errorf("heartbeats at %v and then %v; want one every second under one leader", periods[i-1], periods[i])
			}
		}
	} else {
		t.Logf("leadership moved from %s to %s during phase 1: periods between may be missing", firstLeader, id)
	}
	t.Logf("phase 1: %d heartbeat periods, one job each", len(periods))

	// Phase 2: jobs that take a while, and a replica killed while it runs
	// some. A trigger in this test's database holds every invitation event
	// until the test lets go of a lock; the binaries are unchanged.
	for _, q := range []string{
		`CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_advisory_xact_lock_shared(4711); RETURN NEW; END $$`,
		"CREATE TRIGGER test_gate BEFORE INSERT ON order_events FOR EACH ROW WHEN (NEW." + workerEvents + ") EXECUTE FUNCTION test_gate()",
	} {
		if _, err := pgdb.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	gate, err := pgdb.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close()
	if _, err := gate.ExecContext(context.Background(), "SELECT pg_advisory_lock(4711)"); err != nil {
		t.Fatal(err)
	}

	const slow = 150
	ds = ds[:0]
	for i := range slow {
		id := fmt.Sprintf("slow-%03d", i)
		ds = append(ds, delivery{to: []*replica{replicas[i%3]}, bodies: [][]byte{orderBody(t, "ev-"+id, id, nil)}})
	}
	held := time.Now()
	s.deliverAll(t, ds, 24)

	victimID, _ := leader()
	victim := byClient(victimID)
	runningOnVictim := "SELECT count(*) FROM river_job WHERE kind = 'invite_many' AND state = 'running' AND " + lastAttemptedBy + " = $1"
	wait.For(t, 20*time.Second, "invite jobs running on the leader", func() bool {
		return pgCount(t, pgdb, runningOnVictim, victimID) > 0
	})
	victim.kill(t)
	killed := time.Now()
	var stuck []int64
	rows, err := pgdb.Query("SELECT id FROM river_job WHERE kind = 'invite_many' AND state = 'running' AND "+lastAttemptedBy+" = $1", victimID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stuck = append(stuck, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("phase 2: %d orders stored; killed %s, the leader, with %d invite jobs running on it, %v after the first",
		slow, victim.name, len(stuck), killed.Sub(held).Round(time.Millisecond))
	if _, err := gate.ExecContext(context.Background(), "SELECT pg_advisory_unlock(4711)"); err != nil {
		t.Fatal(err)
	}

	wait.For(t, 90*time.Second, "completion of every invite job after the kill", func() bool {
		return pgCount(t, pgdb, "SELECT count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') AND state <> 'completed'") == 0
	})
	t.Logf("phase 2: all invite jobs (%d orders) completed %v after the kill", total+slow, time.Since(killed).Round(time.Millisecond))

	// Every order was invited once: the killed replica's attempts never
	// committed, the rescued ones did.
	pgQuery(t, pgdb, []any{&events, &eventOrders}, "SELECT count(*), count(DISTINCT order_id) FROM order_events WHERE "+workerEvents)
	if events != total+slow || eventOrders != total+slow {
		t.Errorf("invitation events = %d on %d orders; want exactly one on each of %d", events, eventOrders, total+slow)
	}
	var rescued int
	for _, id := range stuck {
		var (
			attempt  int
			by, errs string
		)
		pgQuery(t, pgdb, []any{&attempt, &by, &errs}, "SELECT attempt, "+lastAttemptedBy+", errors::text FROM river_job WHERE id = $1", id)
		if attempt < 2 || by == victimID || !strings.Contains(errs, "Stuck job rescued") {
			t.Errorf("job %d of the killed replica: attempt %d by %s, errors %s; want rescued and worked again by another replica", id, attempt, by, errs)
			continue
		}
		rescued++
	}
	if rescued == 0 {
		t.Errorf("no job was rescued; want the killed replica's %d", len(stuck))
	}
	if n := pgCount(t, pgdb, "SELECT count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') AND attempt > 1") - rescued; n > 0 {
		// Not a second invitation (the events say so), but a job that hit
		// its timeout while held, on a machine slower than expected.
		t.Logf("phase 2: %d jobs of live replicas were retried after a timeout", n)
	}
	logWorkedBy(t, pgdb, byClient, "phase 2")

	// Another replica leads now, and periodic work goes on, still once per
	// period.
	newLeader, _ := leader()
	if newLeader == victimID {
		t.Errorf("leader after the kill = %s; want another replica", newLeader)
	}
	wait.For(t, 30*time.Second, "a heartbeat after the kill", func() bool {
		return pgCount(t, pgdb, "SELECT count(*) FROM river_job WHERE kind = 'heartbeat' AND state = 'completed' AND scheduled_at > $1", killed) > 0
	})
	periods = heartbeats(t, pgdb)
	t.Logf("phase 2: %s leads; %d heartbeat periods in all, one job each; %d of %d rescued jobs; test took %v",
		byClient(newLeader).name, len(periods), rescued, len(stuck), time.Since(testStart).Round(time.Millisecond))

	for _, r := range replicas {
		if r != victim {
			r.stop(t)
		}
	}
}

// heartbeats returns the periods of the heartbeat jobs so far, oldest first,
// and fails the test for any period with more than one.
func heartbeats(t testing.TB, db *sql.DB) []time.Time {
	t.Helper()
	// A period is named by its second: a leader that takes over may run a
	// period it finds missed at once, off the second, which still counts
	// as that period's one run.
	rows, err := db.Query("SELECT date_trunc('second', scheduled_at), count(*) FROM river_job WHERE kind = 'heartbeat' GROUP BY 1 ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var periods []time.Time
	for rows.Next() {
		var (
			at time.Time
			n  int
		)
		if err := rows.Scan(&at, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("heartbeat period %v has %d jobs; want 1", at, n)
		}
		periods = append(periods, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return periods
}

// logWorkedBy logs how many invite jobs each replica worked.
func logWorkedBy(t testing.TB, db *sql.DB, byClient func(string) *replica, phase string) {
	t.Helper()
	rows, err := db.Query("SELECT " + lastAttemptedBy + ", count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') GROUP BY 1 ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var (
			client string
			n      int
		)
		if err := rows.Scan(&client, &n); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s %d", byClient(client).name, n))
	}
	t.Logf("%s: invite jobs last worked by %s", phase, strings.Join(parts, ", "))
}
