package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/mail/mailtest"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// EnvFaultScale sets the scale of the fault tests: unset for CI's (30
// orders a fault, 1.5s outages), "full" for 300 orders and 5s outages.
//
// An outage lasts that long on the app's stub clock, not on the wall clock:
// the test moves the clock on in steps of outage/outageSteps, each once the
// jobs due have run (passTime), so that River retries as often as it would
// in that time, and the test waits only for the work, not for the time.
const EnvFaultScale = "ASSESSGATE_FAULT_SCALE"

const outageSteps = 15

func faultScale() (orders int, outage time.Duration) {
	if os.Getenv(EnvFaultScale) == "full" {
		return 300, 5 * time.Second
	}
	return 30, 1500 * time.Millisecond
}

// switchProxy forwards to a target from a fixed loopback port, and can be
// switched off, refusing connections as a server that is down does, and on
// again on the same port.
type switchProxy struct {
	t     testing.TB
	addr  string
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	srv   *http.Server
}

func newSwitchProxy(t testing.TB, target string) *switchProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{t: t, proxy: httputil.NewSingleHostReverseProxy(u)}
	// Requests cut off when the proxy is switched off are the point of the
	// tests that use it, not news for the test log.
	p.proxy.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.off)
	return p
}

func (p *switchProxy) URL() string { return "http://" + p.addr }

func (p *switchProxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.srv = &http.Server{Handler: p.proxy}
	go p.srv.Serve(ln)
}

// off closes the listener and every connection: connections are refused.
func (p *switchProxy) off() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

// on listens on the same port again.
func (p *switchProxy) on() {
	p.t.Helper()
	var ln net.Listener
	wait.For(p.t, 10*time.Second, "the proxy's port free again", func() bool {
		var err error
		ln, err = net.Listen("tcp", p.addr)
		return err == nil
	})
	p.serve(ln)
}

// TestFaults_Kombo writes results back while Kombo fails in each of the ways
// it can: 500s, 429s with Retry-After, answers slower than KOMBO_TIMEOUT,
// and refused connections. Once Kombo is back, every result must be
// delivered, and none twice. Each run logs its figures.
//
// Full scale: ASSESSGATE_FAULT_SCALE=full go test -run TestFaults -v ./cmd/assessgate
func TestFaults_Kombo(t *testing.T) {
	n, outage := faultScale()
	step := outage / outageSteps
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		clk := clock.NewStub(time.Now().Truncate(time.Millisecond))
		fake := kombotest.NewServer()
		fake.SetClock(clk.Now) // FailFor lasts on the stub clock
		t.Cleanup(fake.Close)
		proxy := newSwitchProxy(t, fake.URL)
		// KOMBO_TIMEOUT stays a wall-clock timeout: it bounds a real HTTP
		// request, which the stub clock cannot shorten.
		a := startAppClock(t, clk, dbURL, map[string]string{
			"KOMBO_API_KEY":                 kombotest.DefaultAPIKey,
			"KOMBO_API_URL":                 proxy.URL(),
			"KOMBO_TIMEOUT":                 "300ms",
			"ASSESSGATE_RETRY_BASE":         "20ms",
			"ASSESSGATE_RECONCILE_INTERVAL": "0",
			"ASSESSGATE_LOG_LEVEL":          "warn",
		})
		db := openDB(t, dbURL)
		result := fixture(t, "request-put-order-result-completed.json")

		for _, fault := range []struct {
			name      string
			start     func()
			end       func()
			reachesIt bool // the failed calls reach the fake
		}{
			{"500", func() { fake.FailFor(outage, kombotest.Fault{Status: 500}) }, nil, true},
			{"429", func() {
				fake.FailFor(outage, kombotest.Fault{Status: 429, Code: kombo.CodeRateLimitExceeded, RetryAfter: time.Second})
			}, nil, true},
			{"timeout", func() { fake.FailFor(outage, kombotest.Fault{Delay: time.Minute}) }, nil, true},
			{"refused", proxy.off, proxy.on, false},
		} {
			t.Run(fault.name, func(t *testing.T) {
				prefix := "fault-" + fault.name + "-"
				var ids []string
				for i := range n {
					id := fmt.Sprintf("%s%03d", prefix, i)
					placeOrder(t, a, fake, id)
					ids = append(ids, id)
				}
				fault.start()
				end := clk.Now().Add(outage)
				for _, id := range ids {
					if status, got := putResult(t, a, id, result); status != http.StatusAccepted {
						t.Fatalf("PUT result %s = %d %v", id, status, got)
					}
				}
				passTime(t, db, clk, step, 2*time.Minute, "the end of the outage", func() bool { return !clk.Now().Before(end) })
				if fault.end != nil {
					fault.end()
				}
				ended := clk.Now()

				var last time.Time
				passTime(t, db, clk, step, 2*time.Minute, "every result at Kombo", func() bool {
					for _, id := range ids {
						if len(fake.Results(id)) == 0 {
							return false
						}
					}
					last = clk.Now()
					return true
				})
				// No write-back left to run: nothing can arrive later.
				passTime(t, db, clk, step, time.Minute, "every write-back job finished", func() bool {
					return queryCount(t, db, "SELECT count(*) FROM river_job WHERE kind = 'writeback' AND state NOT IN ('completed', 'cancelled', 'discarded')") == 0
				})
				twice := 0
				for _, id := range ids {
					if got := len(fake.Results(id)); got != 1 {
						twice++
						t.Errorf("%s: Kombo took %d results; want 1", id, got)
					}
				}
				if n := queryCount(t, db, "SELECT count(*) FROM river_job WHERE kind = 'writeback' AND state <> 'completed'"); n != 0 {
					t.Errorf("%d write-back jobs not completed (dead letters)", n)
				}
				if n := queryCount(t, db, "SELECT count(*) FROM results WHERE order_id LIKE $1 AND delivered_at IS NULL", prefix+"%"); n != 0 {
					t.Errorf("%d results not marked delivered", n)
				}
				calls := queryCount(t, db, "SELECT count(*) FROM order_events WHERE kind = 'kombo.call' AND order_id LIKE $1", prefix+"%")
				failed := queryCount(t, db, "SELECT count(*) FROM order_events WHERE kind = 'kombo.call' AND order_id LIKE $1 AND detail NOT LIKE '%\"status\":200%'", prefix+"%")
				reached := 0
				for _, r := range fake.Requests() {
					if r.Method == "PUT" && strings.HasPrefix(r.Path, "/assessment/orders/"+prefix) {
						reached++
					}
				}
				if fault.reachesIt && reached != calls {
					t.Errorf("the fake saw %d PUTs; the timelines record %d calls", reached, calls)
				}
				t.Logf("%s: %d results, Kombo failing for %v on the clock: %d calls (%d failed, %.1f per result), all delivered %v on the clock after Kombo was back, %d twice",
					fault.name, n, outage, calls, failed, float64(calls)/float64(n), last.Sub(ended).Round(time.Millisecond), twice)
			})
		}
	})
}

// TestFaults_SMTP sends orders while the SMTP server is down for a while,
// then brings it back on the same port: every invitation must be delivered,
// and none twice.
func TestFaults_SMTP(t *testing.T) {
	n, outage := faultScale()
	step := outage / outageSteps
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		clk := clock.NewStub(time.Now().Truncate(time.Millisecond))
		mp := mailtest.Start(t, nil)
		a := startAppClock(t, clk, dbURL, map[string]string{
			"ASSESSGATE_SMTP_URL":   mp.SMTPURL(),
			"ASSESSGATE_MAIL_FROM":  "Acme Assessments <noreply@acme-assess.example>",
			"ASSESSGATE_PUBLIC_URL": "https://assess.vendor.example",
			"ASSESSGATE_RETRY_BASE": "20ms",
			"ASSESSGATE_LOG_LEVEL":  "warn",
		})
		db := openDB(t, dbURL)
		email := func(i int) string { return fmt.Sprintf("candidate-%03d@cand.example", i) }
		send := func(from, to int) {
			for i := from; i < to; i++ {
				id := fmt.Sprintf("smtp-%03d", i)
				body := orderBody(t, "ev-"+id, id, func(d map[string]any) { d["candidate"].(map[string]any)["email"] = email(i) })
				if status, resp := a.webhook(body); status != http.StatusOK {
					t.Fatalf("POST order %s = %d %s", id, status, resp)
				}
			}
		}
		// A third arrives while SMTP is up, the rest while it is down.
		send(0, n/3)
		mp.Stop()
		start := clk.Now()
		send(n/3, n)
		passTime(t, db, clk, step, time.Minute, "a failed invitation", func() bool {
			return queryCount(t, db, "SELECT count(*) FROM order_events WHERE kind = 'mail.failed'") > 0
		})
		passTime(t, db, clk, step, 2*time.Minute, "the end of the outage", func() bool { return !clk.Now().Before(start.Add(outage)) })
		mp.Start()
		back := clk.Now()

		var last time.Time
		passTime(t, db, clk, step, 2*time.Minute, "every invitation in the mailbox", func() bool {
			if len(mp.Messages(t)) < n {
				return false
			}
			last = clk.Now()
			return true
		})
		passTime(t, db, clk, step, time.Minute, "every invitation job finished", func() bool {
			return queryCount(t, db, "SELECT count(*) FROM river_job WHERE kind IN ('invite', 'invite_many') AND state NOT IN ('completed', 'cancelled', 'discarded')") == 0
		})
		perAddress := map[string]int{}
		for _, m := range mp.Messages(t) {
			for _, to := range m.To {
				perAddress[strings.ToLower(to.Address)]++
			}
		}
		twice := 0
		for i := range n {
			if got := perAddress[email(i)]; got != 1 {
				twice++
				t.Errorf("%s received %d invitations; want 1", email(i), got)
			}
		}
		failed := queryCount(t, db, "SELECT count(*) FROM order_events WHERE kind = 'mail.failed'")
		sent := queryCount(t, db, "SELECT count(*) FROM order_events WHERE kind = 'mail.sent'")
		if sent != n {
			t.Errorf("mail.sent events = %d; want %d", sent, n)
		}
		t.Logf("SMTP down for %v on the clock while %d of %d orders arrived: %d failed attempts, all %d invitations delivered %v on the clock after SMTP was back, %d twice",
			back.Sub(start).Round(time.Millisecond), n-n/3, n, failed, n, last.Sub(back).Round(time.Millisecond), twice)
	})
}

// passTime waits until cond holds, moving clk on by step whenever no job is
// running or due by it: the app sees time pass only once it has done what
// was due, as if it were that fast, so River retries a failing job as often
// as it would in that time, and a running job is never taken for stuck.
func passTime(t testing.TB, db *sql.DB, clk *clock.Stub, step, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.For(t, timeout, what, func() bool {
		if cond() {
			return true
		}
		if len(dueJobs(t, db, clk.Now())) == 0 {
			clk.Advance(step)
		}
		return false
	})
}

// openDB opens the database beside the app, for polling.
func openDB(t testing.TB, dbURL string) *sql.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Reader
}

// queryCount runs a query that returns one number.
func queryCount(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
