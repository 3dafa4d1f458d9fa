package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// TestTenantCatalogue: a package that names its tenants is pushed to their
// integrations only, never with its tenants, and an order for it from
// another tenant is refused with 422 and a message for the recruiter.
func TestTenantCatalogue(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		file := filepath.Join(t.TempDir(), "packages.json")
		os.WriteFile(file, []byte(`{"packages":[
			{"id":"common","type":"SKILLS_TEST","name":"For everyone","description":""},
			{"id":"acme-only","type":"BEHAVIORAL","name":"Acme's own","description":"","tenants":["acme"]}]}`), 0o600)
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		a := startApp(t, dbURL, komboEnv(fake, map[string]string{"ASSESSGATE_PACKAGES_FILE": file}))

		const acme, globex = "greenhouse:acme1", "lever:globex1"
		for _, in := range []kombotest.Integration{{ID: acme, Organization: "Acme", OriginID: "acme"}, {ID: globex, Organization: "Globex", OriginID: "globex"}} {
			body, err := kombotest.IntegrationWebhook("created-"+in.OriginID, kombo.EventIntegrationCreated, in)
			if err != nil {
				t.Fatal(err)
			}
			if status, b := a.webhook(body); status != 200 {
				t.Fatalf("integration-created = %d %s", status, b)
			}
		}
		ids := func(id string) []string {
			var out []string
			for _, p := range fake.Packages(id) {
				out = append(out, p.ID)
			}
			return out
		}
		wait.For(t, 10*time.Second, "each tenant's packages pushed", func() bool {
			return slices.Equal(ids(acme), []string{"common", "acme-only"}) && slices.Equal(ids(globex), []string{"common"})
		})
		for _, r := range fake.Requests() {
			if r.Path == "/assessment/packages" && strings.Contains(string(r.Body), "tenants") {
				t.Errorf("Kombo was sent the tenants: %s", r.Body)
			}
		}

		status, b := a.webhook(orderBody(t, "e-globex", "o-globex", func(d map[string]any) { d["integration_id"] = globex; d["package_id"] = "acme-only" }))
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(b), "acme-only") || !strings.Contains(string(b), "plan") {
			t.Errorf("globex ordering acme's package = %d %s; want 422 telling the recruiter", status, b)
		}
		if n := a.count("orders", "id = 'o-globex'"); n != 0 {
			t.Errorf("the refused order was stored")
		}
		// Refused like any other order: on the stuck list with its reason.
		if stuck := a.stuckOrders(); len(stuck) != 1 || stuck[0].OrderID != "o-globex" || !strings.Contains(stuck[0].Reason, "plan") {
			t.Errorf("stuck list = %+v; want o-globex with the tenant's reason", stuck)
		}
		// An order the reconciler finds (its webhook missed) obeys the same
		// rule: not taken, on the stuck list.
		var missed struct{ Data kombo.Order }
		if err := json.Unmarshal(orderBody(t, "e-globex-rc", "o-globex-rc", func(d map[string]any) { d["integration_id"] = globex; d["package_id"] = "acme-only" }), &missed); err != nil {
			t.Fatal(err)
		}
		fake.AddOrder(globex, missed.Data)
		if status := a.api("POST", "/api/v1/reconcile", nil, nil); status != http.StatusOK {
			t.Fatalf("POST /api/v1/reconcile = %d", status)
		}
		if n := a.count("orders", "id = 'o-globex-rc'"); n != 0 {
			t.Errorf("the reconciler took globex's order for acme's package")
		}
		if !slices.ContainsFunc(a.stuckOrders(), func(o store.StuckOrder) bool { return o.OrderID == "o-globex-rc" && strings.Contains(o.Reason, "plan") }) {
			t.Errorf("stuck list = %+v; want o-globex-rc with the tenant's reason", a.stuckOrders())
		}
		if status, b := a.webhook(orderBody(t, "e-acme", "o-acme", func(d map[string]any) { d["integration_id"] = acme; d["package_id"] = "acme-only" })); status != 200 {
			t.Errorf("acme ordering its package = %d %s; want 200", status, b)
		}
		if status, b := a.webhook(orderBody(t, "e-globex-2", "o-globex-2", func(d map[string]any) { d["integration_id"] = globex; d["package_id"] = "common" })); status != 200 {
			t.Errorf("globex ordering a package for everyone = %d %s; want 200", status, b)
		}

		// The API takes and shows tenants too.
		var put map[string]any
		if status := a.api("PUT", "/api/v1/packages", []byte(`{"packages":[{"id":"common","type":"SKILLS_TEST","name":"For everyone","description":""},
			{"id":"globex-only","type":"SKILLS_TEST","name":"Globex's","description":"","tenants":["globex"]}]}`), &put); status != 202 {
			t.Fatalf("PUT /api/v1/packages = %d %v", status, put)
		}
		wait.For(t, 10*time.Second, "the new lists pushed", func() bool {
			return slices.Equal(ids(acme), []string{"common"}) && slices.Equal(ids(globex), []string{"common", "globex-only"})
		})
		var got struct {
			Packages []struct {
				ID      string   `json:"id"`
				Tenants []string `json:"tenants"`
			} `json:"packages"`
		}
		a.api("GET", "/api/v1/packages", nil, &got)
		if len(got.Packages) != 2 || got.Packages[0].Tenants != nil || !slices.Equal(got.Packages[1].Tenants, []string{"globex"}) {
			t.Errorf("GET /api/v1/packages = %+v; want globex-only for globex", got.Packages)
		}
		var e apiError
		if status := a.api("PUT", "/api/v1/packages", []byte(`{"packages":[{"id":"x","type":"SKILLS_TEST","name":"X","description":"","tenants":[""]}]}`), &e); status != 400 || !strings.Contains(e.Error.Message, "tenants[0]") {
			t.Errorf("an empty tenant = %d %q; want 400 naming packages[0].tenants[0]", status, e.Error.Message)
		}
	})
}
