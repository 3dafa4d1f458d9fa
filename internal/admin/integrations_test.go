package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// TestIntegrationsPage_tenants: integrations grouped by tenant; an INVALID
// one gets a reconnection link from Kombo, an ACTIVE one its packages
// pushed again; orders filter by tenant. On SQLite and Postgres.
func TestIntegrationsPage_tenants(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			fake := kombotest.NewServer()
			t.Cleanup(fake.Close)
			fake.SetIntegrationState("lever:globex", kombo.IntegrationStateInvalid, "")
			a := newTestAdminOn(t, d, func(c *Config) { c.Kombo = fake.Client() })
			st := a.st
			ctx := context.Background()
			const acme, globex, loose = "greenhouse:acme", "lever:globex", "ashby:loose"
			for _, in := range []*orders.Integration{
				{ID: acme, Tool: "greenhouse", OrganizationName: "Acme", OriginID: new("acme"), State: kombo.IntegrationStateActive},
				{ID: globex, Tool: "lever", OrganizationName: "Globex", OriginID: new("globex"), CreatorEmail: new("it@globex.example"), State: kombo.IntegrationStateInvalid},
				{ID: loose, Tool: "ashby", OrganizationName: "Loose", State: kombo.IntegrationStateActive},
			} {
				if err := st.ConnectIntegration(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := st.CreateOrder(ctx, &kombo.Order{ID: "o-acme", IntegrationID: acme, PackageID: "p", Status: kombo.OrderStatusOpen,
				Candidate: kombo.Candidate{Email: "ada@example.com"}}, orders.SourceWebhook); err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutTenantSettings(ctx, orders.TenantSettings{TenantID: "acme", Language: "de", LanguageByCountry: true,
				DisplayName: "Acme Corp", AccentColor: "#0b6e4f", ReplyTo: orders.ReplyToRecruiter}); err != nil {
				t.Fatal(err)
			}
			cookie := a.login()
			csrf := url.Values{"csrf": {a.h.csrfToken(mustSession(t, a, cookie))}}

			body := a.do("GET", "/admin/integrations", nil, cookie, nil).Body.String()
			// The tenants' settings: acme's, and globex's defaults.
			for _, want := range []string{`in <strong lang="de">de</strong> (or by the job's country), in the name of <strong>Acme Corp</strong>`,
				"<code>#0b6e4f</code>", "replies go to the job's recruiter", "the defaults: English", "PUT /api/v1/tenants/globex"} {
				if !strings.Contains(body, want) {
					t.Errorf("integrations page lacks the tenant settings %q", want)
				}
			}
			iAcme, iGlobex, iLoose := strings.Index(body, "Tenant <code>acme</code>"), strings.Index(body, "Tenant <code>globex</code>"), strings.Index(body, "Without a tenant")
			if iAcme < 0 || iGlobex < iAcme || iLoose < iGlobex {
				t.Errorf("integrations page: tenants at %d, %d, %d; want acme, globex, then those without", iAcme, iGlobex, iLoose)
			}
			for _, want := range []string{`action="/admin/integrations/greenhouse:acme/push"`, `action="/admin/integrations/lever:globex/relink"`, "1 open", "must reconnect"} {
				if !strings.Contains(body, want) {
					t.Errorf("integrations page lacks %q", want)
				}
			}
			if strings.Contains(body, `action="/admin/integrations/greenhouse:acme/relink"`) {
				t.Errorf("an ACTIVE integration offers a reconnection link")
			}

			if w := a.do("POST", "/admin/integrations/"+globex+"/relink", csrf, cookie, nil); w.Code != http.StatusSeeOther {
				t.Fatalf("POST relink = %d %s; want 303", w.Code, w.Body)
			}
			links := fake.Links()
			if len(links) != 1 || links[0].IntegrationID != globex || links[0].LinkType != kombo.LinkTypeMagicLink {
				t.Fatalf("Kombo made %+v; want one MAGIC_LINK relink for %s", links, globex)
			}
			i, err := st.FindIntegrationByID(ctx, globex)
			if err != nil || i.RelinkURL != links[0].URL || i.RelinkAt == nil {
				t.Errorf("stored relink = %q at %v, %v; want %s", i.RelinkURL, i.RelinkAt, err, links[0].URL)
			}
			body = a.do("GET", "/admin/integrations?relinked=1", nil, cookie, nil).Body.String()
			if !strings.Contains(body, `href="`+links[0].URL+`"`) || !strings.Contains(body, "it@globex.example") {
				t.Errorf("integrations page does not show the reconnection link %s for it@globex.example", links[0].URL)
			}
			if w := a.do("POST", "/admin/integrations/lever:nope/relink", csrf, cookie, nil); w.Code != http.StatusNotFound {
				t.Errorf("relink of an unknown integration = %d; want 404", w.Code)
			}

			pushes := func() int {
				var n int
				if err := st.DB().Reader.QueryRow("SELECT count(*) FROM river_job WHERE kind = 'push_packages'").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := pushes()
			if w := a.do("POST", "/admin/integrations/"+acme+"/push", csrf, cookie, nil); w.Code != http.StatusSeeOther {
				t.Fatalf("POST push = %d; want 303", w.Code)
			}
			if after := pushes(); after != before+1 {
				t.Errorf("push jobs after the button = %d; want one more than %d", after, before)
			}

			if body := a.do("GET", "/admin/orders?tenant_id=acme", nil, cookie, nil).Body.String(); !strings.Contains(body, `href="/admin/orders/o-acme"`) {
				t.Errorf("orders of tenant acme do not list o-acme")
			}
			if body := a.do("GET", "/admin/orders?tenant_id=globex", nil, cookie, nil).Body.String(); strings.Contains(body, `href="/admin/orders/o-acme"`) {
				t.Errorf("orders of tenant globex list o-acme")
			}
		})
	}
}
