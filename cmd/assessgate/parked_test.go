package main

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// parkedGauge returns assessgate_parked_work{kind=kind} from /metrics, or
// -1 when the series is missing.
func (a *app) parkedGauge(kind string) int {
	a.t.Helper()
	status, body := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
	if status != http.StatusOK {
		a.t.Fatalf("GET /metrics = %d", status)
	}
	m := regexp.MustCompile(`(?m)^assessgate_parked_work\{kind="` + kind + `"\} (\d+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// writeback returns the "writeback" field of an order's JSON, nil if absent.
func (a *app) writeback(orderID string) map[string]any {
	a.t.Helper()
	w, _ := a.order(orderID)["writeback"].(map[string]any)
	return w
}

// stateChanged sends an integration-state-changed webhook: the integration
// is ACTIVE with its setup COMPLETED.
func stateChanged(t *testing.T, a *app, integrationID string) {
	t.Helper()
	body, err := kombotest.IntegrationWebhook("", kombo.EventIntegrationStateChanged,
		kombotest.Integration{ID: integrationID, Organization: "Acme Corp", State: kombo.IntegrationStateActive})
	if err != nil {
		t.Fatal(err)
	}
	if status, resp := a.webhook(body); status != http.StatusOK {
		t.Fatalf("integration-state-changed = %d %s", status, resp)
	}
}

// TestParked_SetupPendingWriteback: Kombo answers a write-back 409
// INTEGRATION.SETUP_INCOMPLETE; the write-back is parked (visible on the
// order, its timeline, /metrics) rather than retried or dead-lettered, and
// is delivered exactly once after the integration becomes usable: by the
// integration-state-changed webhook, or by the periodic check of GET
// /integrations/{id}.
func TestParked_SetupPendingWriteback(t *testing.T) {
	for _, via := range []string{"webhook", "periodic check"} {
		t.Run(strings.ReplaceAll(via, " ", "_"), func(t *testing.T) {
			forEachDatabase(t, func(t *testing.T, dbURL string) {
				env := map[string]string{}
				if via == "periodic check" {
					env["ASSESSGATE_PARKED_CHECK_INTERVAL"] = "200ms"
				}
				a, fake := startWithKombo(t, dbURL, env)
				placeOrder(t, a, fake, "order-p1")
				fake.SetSetupStatus(testIntegration, kombotest.SetupIncomplete)

				if status, _ := putResult(t, a, "order-p1", fixture(t, "request-put-order-result-completed.json")); status != http.StatusAccepted {
					t.Fatalf("PUT result = %d; want 202", status)
				}
				wait.For(t, 10*time.Second, "the write-back parked", func() bool { return a.writeback("order-p1") != nil })
				wb := a.writeback("order-p1")
				if wb["status"] != "parked" || wb["code"] != kombo.CodeSetupIncomplete || !strings.Contains(wb["reason"].(string), "incomplete") {
					t.Errorf("writeback = %v; want parked for %s with Kombo's message", wb, kombo.CodeSetupIncomplete)
				}
				if n := a.parkedGauge("writeback"); n != 1 {
					t.Errorf("assessgate_parked_work{kind=writeback} = %d; want 1", n)
				}
				if kinds, _ := a.timeline("order-p1"); !contains(kinds, "work.parked") || contains(kinds, "dead_letter") {
					t.Errorf("timeline = %v; want work.parked and no dead letter", kinds)
				}
				refused := len(resultRequests(fake, "order-p1"))
				if via == "webhook" {
					// Parked, not retried: while nothing changes, Kombo hears nothing more.
					if refused != 1 {
						t.Errorf("result requests while parked = %d; want 1", refused)
					}
					fake.SetSetupStatus(testIntegration, kombotest.SetupCompleted)
					stateChanged(t, a, testIntegration)
				} else {
					fake.SetSetupStatus(testIntegration, kombotest.SetupCompleted)
				}
				t.Cleanup(func() {
					if t.Failed() {
						t.Logf("logs:\n%s", a.logs)
					}
				})
				wait.For(t, 15*time.Second, "the result at Kombo", func() bool { return len(fake.Results("order-p1")) == 1 })
				wait.For(t, 10*time.Second, "the parked row gone", func() bool { return a.writeback("order-p1") == nil })
				if n := a.parkedGauge("writeback"); n != 0 {
					t.Errorf("assessgate_parked_work{kind=writeback} after delivery = %d; want 0", n)
				}
				if n := a.count("results", "order_id = $1 AND delivered_at IS NOT NULL", "order-p1"); n != 1 {
					t.Errorf("delivered results = %d; want 1", n)
				}
				// None twice: the job woke once, and nothing else sends it.
				if n := len(resultRequests(fake, "order-p1")); n != refused+1 {
					t.Errorf("result requests = %d; want %d refused and 1 delivered", n, refused)
				}
				wait.For(t, 10*time.Second, "the write-back job completed", func() bool {
					return a.count("river_job", "kind = 'writeback' AND state <> 'completed'") == 0
				})
			})
		})
	}
}

// TestParked_PastTheBound: work parked longer than ASSESSGATE_PARKED_MAX_AGE
// becomes a dead letter, with Kombo's code, on the order's timeline.
func TestParked_PastTheBound(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		clk := clock.NewStub(time.Now().Truncate(time.Millisecond))
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		a := startAppClock(t, clk, dbURL, komboEnv(fake, map[string]string{"ASSESSGATE_PARKED_MAX_AGE": "1h"}))
		db := openDB(t, dbURL)
		placeOrder(t, a, fake, "order-pb")
		fake.SetSetupStatus(testIntegration, kombotest.SetupFinalSyncPending)
		putResult(t, a, "order-pb", fixture(t, "request-put-order-result-completed.json"))
		wait.For(t, 10*time.Second, "the write-back parked", func() bool { return a.writeback("order-pb") != nil })
		if wb := a.writeback("order-pb"); wb["code"] != kombo.CodeSetupSyncPending {
			t.Errorf("writeback = %v; want parked for %s", wb, kombo.CodeSetupSyncPending)
		}
		clk.Advance(59 * time.Minute)
		if kinds, _ := a.timeline("order-pb"); contains(kinds, "dead_letter") {
			t.Fatalf("dead letter before the bound: %v", kinds)
		}
		passTime(t, db, clk, time.Minute, 20*time.Second, "a dead letter past the bound", func() bool {
			return queryCount(t, db, "SELECT count(*) FROM river_job WHERE kind = 'writeback' AND state = 'cancelled'") == 1
		})
		kinds, events := a.timeline("order-pb")
		if !contains(kinds, "dead_letter") {
			t.Fatalf("timeline = %v; want dead_letter", kinds)
		}
		for _, e := range events {
			if d, _ := e["detail"].(map[string]any); e["kind"] == "dead_letter" && !strings.Contains(d["error"].(string), kombo.CodeSetupSyncPending) {
				t.Errorf("dead letter = %v; want Kombo's code %s in it", e["detail"], kombo.CodeSetupSyncPending)
			}
		}
		if a.writeback("order-pb") != nil || a.parkedGauge("writeback") != 0 {
			t.Errorf("still parked after the dead letter: %v", a.writeback("order-pb"))
		}
		// Parked, not retried: the first try, and one last when the bound
		// comes.
		if n := len(resultRequests(fake, "order-pb")); n != 2 {
			t.Errorf("result requests = %d; want 2 (parked, not retried)", n)
		}
	})
}

// TestParked_NoAPIKey (issue 18): without KOMBO_API_KEY an accepted result
// is parked with a reason naming KOMBO_API_KEY, in the API and /metrics, and
// never tried; once assessgate runs with the key, it is written back, the
// missed integration is fetched, and nothing stays parked.
func TestParked_NoAPIKey(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		env := komboEnv(fake, nil)
		delete(env, "KOMBO_API_KEY")
		a := startApp(t, dbURL, env)
		placeOrder(t, a, fake, "order-nk")
		// A new customer's integration: its package push parks too.
		const gh = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"
		if status, resp := a.webhook(fixture(t, "webhook-integration-created.json")); status != http.StatusOK {
			t.Fatalf("integration-created = %d %s", status, resp)
		}
		status, got := putResult(t, a, "order-nk", fixture(t, "request-put-order-result-completed.json"))
		if status != http.StatusAccepted {
			t.Fatalf("PUT result = %d %v; want 202", status, got)
		}
		wait.For(t, 10*time.Second, "the write-back parked", func() bool { return a.writeback("order-nk") != nil })
		wb := a.writeback("order-nk")
		if wb["status"] != "parked" || wb["code"] != "KOMBO_API_KEY_MISSING" || !strings.Contains(wb["reason"].(string), "KOMBO_API_KEY") {
			t.Errorf("writeback = %v; want parked, naming KOMBO_API_KEY", wb)
		}
		wait.For(t, 10*time.Second, "the package push and the discovery parked", func() bool {
			return a.parkedGauge("push_packages") == 1 && a.parkedGauge("discover_integration") == 1
		})
		if n := a.parkedGauge("writeback"); n != 1 {
			t.Errorf("assessgate_parked_work{kind=writeback} = %d; want 1", n)
		}
		if kinds, _ := a.timeline("order-nk"); !contains(kinds, "work.parked") {
			t.Errorf("timeline = %v; want work.parked", kinds)
		}
		var readyz struct {
			KomboAPIKey string `json:"kombo_api_key"`
		}
		a.api("GET", "/readyz", nil, &readyz)
		if !strings.Contains(readyz.KomboAPIKey, "not set") {
			t.Errorf("/readyz = %v; want kombo_api_key not set", readyz)
		}
		// Not retried against the missing key: the job waits, snoozed (no
		// failed attempt), and nothing was sent.
		wait.For(t, 10*time.Second, "the write-back snoozed", func() bool {
			return a.count("river_job", "kind = 'writeback' AND state = 'scheduled'") == 1
		})
		if kinds, _ := a.timeline("order-nk"); contains(kinds, "kombo.call") || contains(kinds, "dead_letter") {
			t.Errorf("timeline = %v; want no Kombo call and no dead letter", kinds)
		}
		if len(fake.Requests()) != 0 {
			t.Errorf("Kombo heard %d requests without a key; want 0", len(fake.Requests()))
		}
		a.stop()

		b := startApp(t, dbURL, komboEnv(fake, nil))
		wait.For(t, 15*time.Second, "the result at Kombo after the restart with the key", func() bool {
			return len(fake.Results("order-nk")) == 1
		})
		wait.For(t, 10*time.Second, "nothing parked", func() bool {
			return b.writeback("order-nk") == nil && b.count("parked_work", "") == 0
		})
		for _, kind := range []string{"writeback", "push_packages", "discover_integration"} {
			if n := b.parkedGauge(kind); n != 0 {
				t.Errorf("assessgate_parked_work{kind=%s} = %d; want 0", kind, n)
			}
		}
		wait.For(t, 10*time.Second, "the packages pushed to "+gh, func() bool {
			return slices.ContainsFunc(fake.Requests(), func(r kombotest.Request) bool {
				return r.Method == "PUT" && r.Path == "/assessment/packages" && r.Header.Get("X-Integration-Id") == gh
			})
		})
		if n := b.count("integrations", "id = $1", testIntegration); n != 1 {
			t.Errorf("integration %s stored = %d; want 1 (fetched once the key is there)", testIntegration, n)
		}
	})
}

// TestParked_MissedIntegrationCreated: orders from an integration whose
// integration-created webhook was missed are taken; the integration is
// fetched from Kombo once, stored with its tenant (end_user.origin_id), and
// pushed its packages.
func TestParked_MissedIntegrationCreated(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		file := filepath.Join(t.TempDir(), "packages.json")
		os.WriteFile(file, []byte(`{"packages":[{"id":"typescript_test","type":"SKILLS_TEST","name":"TypeScript","description":"60 minutes"}]}`), 0o600)
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		tenant := "acme-42"
		fake.AddIntegration(kombo.Integration{
			ID: testIntegration, Tool: kombo.IntegrationTool{ID: "workday", Label: "Workday"}, Category: "ASSESSMENT",
			Status: kombo.IntegrationStateActive, SetupStatus: kombotest.SetupCompleted,
			EndUser: kombo.EndUser{OrganizationName: "Acme Corp", OriginID: &tenant}, CreatedAt: kombo.FormatTime(time.Now()),
		})
		a := startApp(t, dbURL, komboEnv(fake, map[string]string{"ASSESSGATE_PACKAGES_FILE": file}))
		for _, id := range []string{"order-m1", "order-m2", "order-m3"} {
			placeOrder(t, a, fake, id)
		}
		wait.For(t, 10*time.Second, "packages pushed to the discovered integration", func() bool {
			return len(fake.Packages(testIntegration)) > 0
		})
		var ints struct {
			Data []struct {
				ID               string  `json:"id"`
				OriginID         *string `json:"origin_id"`
				OrganizationName string  `json:"organization_name"`
				Tool             string  `json:"tool"`
				State            string  `json:"state"`
			} `json:"data"`
		}
		a.api("GET", "/api/v1/integrations", nil, &ints)
		if len(ints.Data) != 1 || ints.Data[0].ID != testIntegration || ints.Data[0].OriginID == nil || *ints.Data[0].OriginID != tenant ||
			ints.Data[0].OrganizationName != "Acme Corp" || ints.Data[0].Tool != "workday" || ints.Data[0].State != kombo.IntegrationStateActive {
			t.Errorf("integrations = %+v; want %s stored with tenant %s", ints.Data, testIntegration, tenant)
		}
		gets := 0
		for _, r := range fake.Requests() {
			if r.Method == "GET" && r.Path == "/integrations/"+testIntegration {
				gets++
			}
		}
		if gets != 1 {
			t.Errorf("GET /integrations/%s = %d times; want once for three orders", testIntegration, gets)
		}
		if n := a.count("orders", ""); n != 3 {
			t.Errorf("orders = %d; want 3 taken", n)
		}
	})
}

// TestReadyz_WrongKombokey: a key Kombo refuses is said plainly in the log
// and in /readyz's detail; the replica stays ready (it still takes
// webhooks).
func TestReadyz_WrongKomboKey(t *testing.T) {
	fake := kombotest.NewServer()
	t.Cleanup(fake.Close)
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), komboEnv(fake, map[string]string{"KOMBO_API_KEY": "not-the-key"}))
	var readyz struct {
		KomboAPIKey string `json:"kombo_api_key"`
	}
	if status := a.api("GET", "/readyz", nil, &readyz); status != http.StatusOK {
		t.Errorf("GET /readyz = %d; want 200", status)
	}
	if !strings.Contains(readyz.KomboAPIKey, "refused by Kombo") || !strings.Contains(readyz.KomboAPIKey, kombo.CodeAuthenticationInvalid) {
		t.Errorf("/readyz = %v; want kombo_api_key refused with %s", readyz, kombo.CodeAuthenticationInvalid)
	}
	if !strings.Contains(a.logs.String(), "KOMBO_API_KEY is wrong") {
		t.Errorf("logs do not say the key is wrong:\n%s", a.logs)
	}

	good := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db"), komboEnv(fake, nil))
	good.api("GET", "/readyz", nil, &readyz)
	if readyz.KomboAPIKey != "ok" {
		t.Errorf("/readyz with the right key = %v; want kombo_api_key ok", readyz)
	}
}

// settledDBs holds each app's database handle for integrationSettled.
var settledDBs sync.Map // *app → *sql.DB

// integrationSettled waits until no integration discovery or package push is
// due or running: the first order of an integration assessgate does not know
// makes it fetch the integration and push it packages, Kombo calls that
// must not take the faults a test sets up next.
func (a *app) integrationSettled() {
	a.t.Helper()
	db, ok := settledDBs.Load(a)
	if !ok {
		db, _ = settledDBs.LoadOrStore(a, openDB(a.t, a.DBURL))
		a.t.Cleanup(func() { settledDBs.Delete(a) })
	}
	wait.For(a.t, 10*time.Second, "the integration fetched and pushed its packages", func() bool {
		return queryCount(a.t, db.(*sql.DB), `SELECT count(*) FROM river_job
			WHERE kind IN ('discover_integration', 'push_packages') AND state IN ('available', 'running')`) == 0
	})
}

// TestParked_ExpiryWithoutKey (issue 18): without KOMBO_API_KEY, the
// CANCELLED write-back of an expired invitation is parked like a result's,
// naming the key, and not tried.
func TestParked_ExpiryWithoutKey(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 0, map[string]string{"KOMBO_API_KEY": ""})
		c.order("ev-exp", "order-exp", "exp@example.com")
		c.waitOrder("order-exp", "invited", func(o orderView) bool { return o.InvitedAt != nil })
		c.advance(15 * 24 * time.Hour)
		c.waitOrder("order-exp", "expired", func(o orderView) bool { return o.State == "expired" })
		wait.For(t, 10*time.Second, "the expiry's write-back parked", func() bool { return c.app.writeback("order-exp") != nil })
		if wb := c.app.writeback("order-exp"); wb["code"] != "KOMBO_API_KEY_MISSING" || !strings.Contains(wb["reason"].(string), "KOMBO_API_KEY") {
			t.Errorf("writeback = %v; want parked, naming KOMBO_API_KEY", wb)
		}
		if len(c.kombo.Requests()) != 0 {
			t.Errorf("Kombo heard %d requests without a key; want 0", len(c.kombo.Requests()))
		}
	})
}
