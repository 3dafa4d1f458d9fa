//go:build bench

package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/loadgen"
	"github.com/assessgate/assessgate/internal/mail/catcher"
	"github.com/assessgate/assessgate/internal/mail/mailtest"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// EnvBench turns TestBench on: it measures the figures of
// docs/benchmarks.md for minutes, so it runs only when asked
// (bench/run.sh sets it). ASSESSGATE_BENCH_SECONDS sets the length of one
// measurement (default 10).
const EnvBench = "ASSESSGATE_BENCH"

// TestBench measures the targets of docs/benchmarks.md against real
// assessgate processes, on SQLite and on Postgres, each comparison in one
// run: the load generator (in this process) takes turns between the two
// sides, so that both see the same machine.
func TestBench(t *testing.T) {
	if os.Getenv(EnvBench) == "" {
		t.Skipf("benchmarks take minutes: run bench/run.sh, or set %s=1", EnvBench)
	}
	if raceEnabled {
		t.Fatal("benchmarks measure nothing useful under -race")
	}
	secs := 10
	if v, err := strconv.Atoi(os.Getenv("ASSESSGATE_BENCH_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	d := time.Duration(secs) * time.Second
	b := &bench{t: t, bin: buildAssessgate(t), bare: buildBareReceiver(t), d: d}
	dbs := storetest.Databases(t)
	only := os.Getenv("ASSESSGATE_BENCH_ONLY") // e.g. "Intake64,Node"
	run := func(name string, f func(t *testing.T)) {
		if only != "" && !slices.Contains(strings.Split(only, ","), name) {
			return
		}
		t.Run(name, f)
	}

	run("Intake64", func(t *testing.T) {
		for _, db := range dbs {
			b.intake64(t, db)
		}
	})
	run("Steady1000", func(t *testing.T) {
		for _, db := range dbs {
			b.steady(t, db, 1000)
		}
	})
	run("Node", func(t *testing.T) { b.node(t) })
	run("Startup", func(t *testing.T) {
		for _, db := range dbs {
			b.startup(t, db)
		}
	})
	run("Invitations", func(t *testing.T) {
		for _, db := range dbs {
			mp := mailtest.Start(t, nil)
			b.invitations(t, db, 500, "mailpit", mp.SMTPURL())
			// The same with an SMTP server that costs next to nothing
			// (the demo's, in this process): mailpit, which parses and
			// stores every message, takes most of a core of the two at
			// 500 a second.
			c, err := catcher.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			b.invitations(t, db, 500, "catcher", c.URL())
			c.Close()
		}
	})
	run("Writeback", func(t *testing.T) {
		for _, db := range dbs {
			b.writeback(t, db)
		}
	})
	t.Log("\n" + b.summary())
}

type bench struct {
	t    *testing.T
	bin  string // assessgate, with the no-write route
	bare string // bench/bare-receiver
	d    time.Duration

	mu   sync.Mutex
	rows []string
}

// figure records a line of the summary and logs it.
func (b *bench) figure(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	b.mu.Lock()
	b.rows = append(b.rows, line)
	b.mu.Unlock()
}

func (b *bench) summary() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return "FIGURES\n" + strings.Join(b.rows, "\n")
}

// freshDB returns a new database of the same kind as db.
func freshDB(t *testing.T, db storetest.Database) storetest.Database {
	if db.Name == "postgres" {
		pg, _ := storetest.Postgres(t)
		return pg
	}
	return storetest.SQLite(t)
}

// server starts assessgate on a fresh database with env and the no-write
// route on, logging as by default (info: a line per webhook) to a file, as
// a log collector would read it.
func (b *bench) server(t *testing.T, db storetest.Database, name string, env ...string) *replica {
	t.Helper()
	db = freshDB(t, db)
	if out, err := exec.Command(b.bin, "migrate", "--database-url", db.URL).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	base := []string{
		"KOMBO_WEBHOOK_SECRET=" + testSecret,
		"ASSESSGATE_API_TOKEN=" + testToken,
		"ASSESSGATE_DATABASE_URL=" + db.URL,
		"ASSESSGATE_ADDR=127.0.0.1:0",
		"ASSESSGATE_ASSESSMENT_URL=https://assess.example/start/{order_id}?t={token}",
		"ASSESSGATE_BENCH_NO_WRITE_ROUTE=1",
		"PATH=" + os.Getenv("PATH"),
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	return startReplicaLogging(t, b.bin, name, append(base, env...), logs)
}

// buildBareReceiver builds bench/bare-receiver, the ceiling the intake is
// measured against.
func buildBareReceiver(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "bare-receiver")
	if out, err := exec.Command("go", "build", "-o", bin, "../../bench/bare-receiver").CombinedOutput(); err != nil {
		t.Fatalf("go build bench/bare-receiver: %v\n%s", err, out)
	}
	return bin
}

// startBare starts the bare receiver and returns its webhook URL.
func (b *bench) startBare(t *testing.T) string {
	cmd := exec.Command(b.bare)
	cmd.Env = []string{"KOMBO_WEBHOOK_SECRET=" + testSecret}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("bare receiver did not start: %q %v", line, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on ")) + "/webhooks/kombo"
}

// load runs the load generator against url and returns its report, after
// the check through the API when check is set.
func (b *bench) load(t *testing.T, url string, cfg loadgen.Config, check bool) *loadgen.Report {
	t.Helper()
	cfg.URL, cfg.Secret, cfg.AnnounceIntegration = url, testSecret, true
	if check {
		cfg.APIToken = testToken
	}
	if cfg.Duration == 0 {
		cfg.Duration = b.d
	}
	g, err := loadgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if check {
		if err := g.Check(context.Background(), rep); err != nil {
			t.Fatal(err)
		}
		if !rep.Check.OK {
			t.Errorf("check: %s", rep.Check.Summary)
		}
	}
	if rep.Unexpected > 0 {
		t.Errorf("%s: %d unexpected answers: %v %v", url, rep.Unexpected, rep.Statuses, rep.Errors)
	}
	return rep
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// intake64: 64 concurrent senders, in turns against the bare receiver,
// assessgate's no-write route and its real one, three rounds, with one
// server process each.
func (b *bench) intake64(t *testing.T, db storetest.Database) {
	bareURL := b.startBare(t)
	r := b.server(t, db, "intake64-"+db.Name)
	var bare, nowrite, write, ratios, nwRatios []float64
	var last *loadgen.Report
	for round := 1; round <= 3; round++ {
		br := b.load(t, bareURL, loadgen.Config{Concurrency: 64}, false)
		nw := b.load(t, r.url+"/bench/no-write/webhooks/kombo", loadgen.Config{Concurrency: 64}, false)
		w := b.load(t, r.url+"/webhooks/kombo", loadgen.Config{Concurrency: 64, Duplicates: 0.02}, true)
		bare, nowrite, write = append(bare, br.Throughput), append(nowrite, nw.Throughput), append(write, w.Throughput)
		ratios, nwRatios = append(ratios, w.Throughput/br.Throughput), append(nwRatios, w.Throughput/nw.Throughput)
		t.Logf("%s round %d: bare %.0f/s (p99 %.1fms), no-write %.0f/s (p99 %.1fms), write %.0f/s (p99 %.1fms): %.2f of bare, %.2f of no-write",
			db.Name, round, br.Throughput, br.Latency.P99, nw.Throughput, nw.Latency.P99, w.Throughput, w.Latency.P99,
			w.Throughput/br.Throughput, w.Throughput/nw.Throughput)
		last = w
	}
	b.figure(t, "intake, 64 senders, %-8s  write %6.0f/s  bare %6.0f/s  no-write %6.0f/s  ratio to bare %.2f (rounds %s)  to no-write %.2f (rounds %s); %s; check: %s",
		db.Name, median(write), median(bare), median(nowrite), median(ratios), fmtList(ratios), median(nwRatios), fmtList(nwRatios),
		groupCommitFigures(t, r.url), last.Check.Summary)
	r.stop(t)
}

func fmtList(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(s, " ")
}

// groupCommitFigures reads group commit's counters from /metrics.
func groupCommitFigures(t *testing.T, url string) string {
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tx, writes float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "assessgate_group_commit_transactions_total "); ok {
			tx, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "assessgate_group_commit_writes_total "); ok {
			writes, _ = strconv.ParseFloat(v, 64)
		}
	}
	if tx == 0 {
		return "group commit: no figures"
	}
	return fmt.Sprintf("group commit: %.0f writes in %.0f transactions, %.1f a transaction", writes, tx, writes/tx)
}

// steady: a fixed rate, open loop, no-write then write; the resident memory
// of the process is sampled while it writes.
func (b *bench) steady(t *testing.T, db storetest.Database, rate int) {
	r := b.server(t, db, "steady-"+db.Name)
	nw := b.load(t, r.url+"/bench/no-write/webhooks/kombo", loadgen.Config{Rate: rate}, false)
	sync := fdatasyncLatency(t, dbDir(t, r), 2*time.Second)
	stop := sampleRSS(r.cmd.Process.Pid)
	w := b.load(t, r.url+"/webhooks/kombo", loadgen.Config{Rate: rate, Duplicates: 0.02}, true)
	rss, hwm := stop()
	b.figure(t, "steady %d/s, %-8s  write p50 %.2fms p99 %.2fms p99.9 %.2fms  no-write p50 %.2fms p99 %.2fms  disk fdatasync p50 %.2fms p99 %.2fms  (%d and %d answered, %d missed)",
		rate, db.Name, w.Latency.P50, w.Latency.P99, w.Latency.P999, nw.Latency.P50, nw.Latency.P99, sync.P50, sync.P99,
		w.Acknowledged, nw.Acknowledged, w.Missed+nw.Missed)
	b.figure(t, "memory at %d/s, %-8s  RSS max %.1f MiB (peak %.1f MiB over the process's life)", rate, db.Name, rss, hwm)
	r.stop(t)
}

// dbDir returns the directory of a replica's SQLite file, or, on Postgres,
// a directory on the disk the tests' files go to.
func dbDir(t *testing.T, r *replica) string {
	if p, ok := strings.CutPrefix(envOf(r, "ASSESSGATE_DATABASE_URL"), "sqlite:"); ok {
		return filepath.Dir(strings.TrimPrefix(p, "//"))
	}
	return t.TempDir()
}

// fdatasyncLatency measures the disk's floor under one durable commit: for
// d, it appends 16 KiB (a small commit's WAL frames) to a file in dir and
// fdatasyncs it, one after the other, and summarizes how long each took.
func fdatasyncLatency(t *testing.T, dir string, d time.Duration) loadgen.Latency {
	f, err := os.CreateTemp(dir, "fdatasync-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 16<<10)
	var took []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		start := time.Now()
		if _, err := f.Write(page); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	return loadgen.Summarize(took)
}

// sampleRSS samples a process's resident memory every 100ms until the
// returned function is called, which returns the largest sample and the
// kernel's high-water mark, in MiB.
func sampleRSS(pid int) func() (rss, hwm float64) {
	read := func(field string) float64 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, field+":"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				return float64(kb) / 1024
			}
		}
		return 0
	}
	done := make(chan struct{})
	result := make(chan float64)
	go func() {
		var top float64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			top = max(top, read("VmRSS"))
			select {
			case <-done:
				result <- top
				return
			case <-tick.C:
			}
		}
	}()
	return func() (float64, float64) {
		close(done)
		return <-result, read("VmHWM")
	}
}

// node: the hand-written Node receiver against assessgate on SQLite, the
// same load generator, in turns.
func (b *bench) node(t *testing.T) {
	dir, err := filepath.Abs("../../bench/node-receiver")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "better-sqlite3")); err != nil {
		t.Fatalf("the Node receiver's dependencies are missing: npm ci --prefix bench/node-receiver (%v)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("node", filepath.Join(dir, "server.js"))
	cmd.Env = append(os.Environ(), "KOMBO_WEBHOOK_SECRET="+testSecret, "PORT="+strconv.Itoa(port),
		"DB="+filepath.Join(t.TempDir(), "receiver.db"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		t.Fatalf("node receiver did not start: %q %v", line, err)
	}
	nodeURL := strings.TrimSpace(strings.TrimPrefix(line, "listening on ")) + "/webhooks/kombo"
	version, _ := exec.Command("node", "--version").Output()

	r := b.server(t, storetest.SQLite(t), "vs-node")
	var nodes, ours, ratios []float64
	var nodeP99, ourP99 []float64
	for round := 1; round <= 2; round++ {
		n := b.load(t, nodeURL, loadgen.Config{Concurrency: 64, Duplicates: 0.02}, false)
		a := b.load(t, r.url+"/webhooks/kombo", loadgen.Config{Concurrency: 64, Duplicates: 0.02}, true)
		nodes, ours = append(nodes, n.Throughput), append(ours, a.Throughput)
		nodeP99, ourP99 = append(nodeP99, n.Latency.P99), append(ourP99, a.Latency.P99)
		ratios = append(ratios, a.Throughput/n.Throughput)
		t.Logf("round %d: node %.0f/s (p99 %.1fms, p99.9 %.1fms), assessgate %.0f/s (p99 %.1fms)",
			round, n.Throughput, n.Latency.P99, n.Latency.P999, a.Throughput, a.Latency.P99)
	}
	b.figure(t, "vs Node %s + better-sqlite3, 64 senders: assessgate %6.0f/s (p99 %.1fms)  node %6.0f/s (p99 %.1fms)  ratio %.2f (rounds %s)",
		strings.TrimSpace(string(version)), median(ours), median(ourP99), median(nodes), median(nodeP99), median(ratios), fmtList(ratios))
	r.stop(t)
}

// startup: from exec to the "listening on" line and to the first 200 from
// /healthz, ten times on a database already migrated, after one start
// that migrates a new one.
func (b *bench) startup(t *testing.T, db storetest.Database) {
	db = freshDB(t, db)
	env := []string{
		"KOMBO_WEBHOOK_SECRET=" + testSecret, "ASSESSGATE_DATABASE_URL=" + db.URL, "ASSESSGATE_ADDR=127.0.0.1:0",
		"PATH=" + os.Getenv("PATH"),
	}
	if out, err := exec.Command(b.bin, "migrate", "--database-url", db.URL).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	var listening, healthy []float64
	for i := range 11 {
		l, h := startOnce(t, b.bin, env)
		if i > 0 { // the first warms the page cache
			listening = append(listening, float64(l.Microseconds())/1000)
			healthy = append(healthy, float64(h.Microseconds())/1000)
		}
	}
	b.figure(t, "start-up, %-8s  to listening: median %.0fms, max %.0fms; to /healthz 200: median %.0fms, max %.0fms (10 starts)",
		db.Name, median(listening), slices.Max(listening), median(healthy), slices.Max(healthy))
}

// startOnce starts "bin serve" and returns how long it took to print its
// "listening on" line and to answer /healthz, then stops it.
func startOnce(t *testing.T, bin string, env []string) (listening, healthy time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve exited with %v\n%s", err, stderr.String())
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("serve did not start: %v\n%s", err, stderr.String())
	}
	listening = time.Since(start)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	client := &http.Client{Timeout: time.Second}
	wait.For(t, 10*time.Second, "/healthz 200", func() bool {
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return listening, time.Since(start)
}

// invitations: orders at a fixed rate with SMTP (mailpit) configured; the
// latency of each is the time from its order.received to its mail.sent
// event, both stamped by assessgate.
func (b *bench) invitations(t *testing.T, db storetest.Database, rate int, smtpName, smtpURL string) {
	r := b.server(t, db, "invitations-"+db.Name+"-"+smtpName,
		"ASSESSGATE_SMTP_URL="+smtpURL, "ASSESSGATE_MAIL_FROM=Acme Assessments <noreply@acme-assess.example>",
		"ASSESSGATE_PUBLIC_URL=https://assess.vendor.example")
	rep := b.load(t, r.url+"/webhooks/kombo", loadgen.Config{Rate: rate}, false)
	dbURL := envOf(r, "ASSESSGATE_DATABASE_URL")
	sdb, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	n := int(rep.Acknowledged)
	start := time.Now()
	wait.For(t, 5*time.Minute, "every invitation sent", func() bool {
		return queryCount(t, sdb.Reader, "SELECT count(*) FROM order_events WHERE kind = 'mail.sent'") >= n
	})
	drain := time.Since(start)
	lat := timelineLatencies(t, sdb.Reader, "order.received", "mail.sent")
	s := summarizeMillis(lat)
	b.figure(t, "order → invitation handed to SMTP (%s) at %d orders/s, %-8s  p50 %.0fms p90 %.0fms p99 %.0fms max %.0fms (%d orders; the last sent %v after the load ended)",
		smtpName, rate, db.Name, s.P50, s.P90, s.P99, s.Max, len(lat), drain.Round(time.Millisecond))
	r.stop(t)
}

// envOf returns a variable of a replica's environment.
func envOf(r *replica, name string) string {
	for _, kv := range r.cmd.Env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// timelineLatencies returns, per order, the time from its first event of
// kind from to its first event of kind to, in milliseconds.
func timelineLatencies(t *testing.T, db *sql.DB, from, to string) []float64 {
	t.Helper()
	rows, err := db.Query(`SELECT a.order_id, min(a.at), min(b.at) FROM order_events a JOIN order_events b ON b.order_id = a.order_id
		WHERE a.kind = $1 AND b.kind = $2 GROUP BY a.order_id`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []float64
	for rows.Next() {
		var id string
		var a, b int64
		if err := rows.Scan(&id, &a, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, float64(b-a))
	}
	return out
}

func summarizeMillis(ms []float64) loadgen.Latency {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = time.Duration(m * float64(time.Millisecond))
	}
	return loadgen.Summarize(d)
}

// writeback: results posted through the API for orders Kombo knows; the
// latency of each is the time from the 202 of PUT /api/v1/orders/{id}/result
// to the fake Kombo receiving the PUT.
func (b *bench) writeback(t *testing.T, db storetest.Database) {
	fake := kombotest.NewServer()
	t.Cleanup(fake.Close)
	r := b.server(t, db, "writeback-"+db.Name, "KOMBO_API_KEY="+kombotest.DefaultAPIKey, "KOMBO_API_URL="+fake.URL,
		"ASSESSGATE_RECONCILE_INTERVAL=0")
	const n = 300
	a := &app{t: t, URL: r.url, DBURL: envOf(r, "ASSESSGATE_DATABASE_URL")}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("wb-%04d", i)
		placeOrder(t, a, fake, id)
		ids = append(ids, id)
	}
	result := fixture(t, "request-put-order-result-completed.json")
	// From the 202: the result is committed before it, so the write-back
	// cannot start earlier, and River picks it up by polling.
	accepted := map[string]time.Time{}
	// 50 results a second, as a vendor's platform finishing assessments.
	tick := time.NewTicker(20 * time.Millisecond)
	for _, id := range ids {
		<-tick.C
		if status := a.api("PUT", "/api/v1/orders/"+id+"/result", result, nil); status != http.StatusAccepted {
			t.Fatalf("PUT result = %d", status)
		}
		accepted[id] = time.Now()
	}
	tick.Stop()
	wait.For(t, time.Minute, "every result at Kombo", func() bool {
		for _, id := range ids {
			if len(fake.Results(id)) != 1 {
				return false
			}
		}
		return true
	})
	var lat []float64
	for _, req := range fake.Requests() {
		if req.Method != "PUT" || !strings.HasPrefix(req.Path, "/assessment/orders/wb-") {
			continue
		}
		id := strings.TrimSuffix(strings.TrimPrefix(req.Path, "/assessment/orders/"), "/result")
		lat = append(lat, float64(req.Time.Sub(accepted[id]).Microseconds())/1000)
	}
	s := summarizeMillis(lat)
	b.figure(t, "result accepted → Kombo PUT at 50 results/s, %-8s  p50 %.0fms p90 %.0fms p99 %.0fms max %.0fms (%d results)",
		db.Name, s.P50, s.P90, s.P99, s.Max, len(lat))
	r.stop(t)
}
