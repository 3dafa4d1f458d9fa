package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// TestStore_Tenants: an order carries its integration's tenant, from the
// moment the integration is known, and the tenant filters orders and
// integrations.
func TestStore_Tenants(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := clockOf(st)
		const acme, globex = "greenhouse:acme", "lever:globex"

		// An order from an integration not yet known has no tenant.
		mustIntake(t, st, orderIntake(t, "ev-1", "o-acme-1", func(o *kombo.Order) { o.IntegrationID = acme }))
		o, err := st.FindOrderByID(ctx, "o-acme-1")
		if err != nil {
			t.Fatal(err)
		}
		if o.TenantID != nil {
			t.Errorf("tenant before the integration is known = %q; want none", *o.TenantID)
		}

		// Connecting it stores its tenant and asks for its packages.
		var created []string
		onEvent(st, func(_ context.Context, _ *sql.Tx, e store.IntegrationCreated) error {
			created = append(created, e.IntegrationID)
			return nil
		})
		email := "it@acme.example"
		if err := st.ConnectIntegration(ctx, &orders.Integration{ID: acme, Tool: "greenhouse", Category: kombo.CategoryAssessment,
			OrganizationName: "Acme", OriginID: new("acme"), CreatorEmail: &email, State: kombo.IntegrationStateActive, SetupStatus: kombo.SetupCompleted}); err != nil {
			t.Fatal(err)
		}
		noEvents(st)
		if len(created) != 1 || created[0] != acme {
			t.Errorf("IntegrationCreated for %v; want %s once", created, acme)
		}
		if o, err = st.FindOrderByID(ctx, "o-acme-1"); err != nil || o.TenantID == nil || *o.TenantID != "acme" {
			t.Fatalf("order after the integration is known: %+v, %v; want tenant acme", o, err)
		}
		i, err := st.FindIntegrationByID(ctx, acme)
		if err != nil || i.CreatorEmail == nil || *i.CreatorEmail != email || i.SetupStatus != kombo.SetupCompleted {
			t.Errorf("connected integration = %+v, %v; want creator %s, COMPLETED", i, err, email)
		}

		last := c.Advance(time.Minute)
		mustIntake(t, st, orderIntake(t, "ev-2", "o-acme-2", func(o *kombo.Order) { o.IntegrationID = acme }))
		mustIntake(t, st, orderIntake(t, "ev-3", "o-globex-1", func(o *kombo.Order) { o.IntegrationID = globex }))
		if err := st.ConnectIntegration(ctx, &orders.Integration{ID: globex, Tool: "lever", OrganizationName: "Globex",
			OriginID: new("globex"), State: kombo.IntegrationStateInvalid}); err != nil {
			t.Fatal(err)
		}

		list, _, err := st.FindOrders(ctx, orders.OrderFilter{TenantID: new("acme")})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != "o-acme-2" || list[1].ID != "o-acme-1" || *list[0].TenantID != "acme" {
			t.Errorf("orders of tenant acme = %v; want o-acme-2, o-acme-1", ids(list))
		}
		if list, _, _ := st.FindOrders(ctx, orders.OrderFilter{TenantID: new("nobody")}); len(list) != 0 {
			t.Errorf("orders of an unknown tenant = %v; want none", ids(list))
		}

		all, err := st.ListIntegrations(ctx, store.IntegrationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != acme || all[1].ID != globex {
			t.Fatalf("integrations = %v; want acme's then globex's", all)
		}
		if a := all[0]; a.OpenOrders != 2 || a.LastOrderAt == nil || !a.LastOrderAt.Equal(last) {
			t.Errorf("acme: %d open orders, last %v; want 2, %v", a.OpenOrders, a.LastOrderAt, last)
		}
		invalid, err := st.ListIntegrations(ctx, store.IntegrationFilter{State: new(kombo.IntegrationStateInvalid)})
		if err != nil || len(invalid) != 1 || invalid[0].ID != globex {
			t.Errorf("INVALID integrations = %v, %v; want globex's", invalid, err)
		}
		mine, err := st.ListIntegrations(ctx, store.IntegrationFilter{TenantID: new("acme")})
		if err != nil || len(mine) != 1 || mine[0].ID != acme {
			t.Errorf("integrations of acme = %v, %v; want acme's", mine, err)
		}

		// Turning INVALID asks for a reconnection link, once.
		var invalid2 []string
		onEvent(st, func(_ context.Context, _ *sql.Tx, e store.IntegrationInvalid) error {
			invalid2 = append(invalid2, e.IntegrationID)
			return nil
		})
		stateChanged := func(eventID, id, state string) {
			t.Helper()
			mustIntake(t, st, webhookIntake(t, eventID, kombo.EventIntegrationStateChanged, map[string]any{
				"integration_id": id, "integration_tool": "greenhouse", "integration_category": "ASSESSMENT",
				"end_user": map[string]any{"organization_name": "Acme", "origin_id": "acme", "creator_email": "it@acme.example"},
				"state":    state, "setup_status": "COMPLETED", "qa_status": "PASSED",
			}))
		}
		stateChanged("sc-1", acme, kombo.IntegrationStateInvalid)
		stateChanged("sc-2", acme, kombo.IntegrationStateInvalid)
		stateChanged("sc-3", acme, kombo.IntegrationStateActive)
		stateChanged("sc-4", acme, kombo.IntegrationStateInvalid)
		noEvents(st)
		if len(invalid2) != 2 || invalid2[0] != acme || invalid2[1] != acme {
			t.Errorf("IntegrationInvalid for %v; want %s twice: when it turned INVALID, and again after ACTIVE", invalid2, acme)
		}
		if err := st.RecordRelink(ctx, acme, "https://connect.kombo.dev/v1?token=x"); err != nil {
			t.Fatal(err)
		}
		if i, err := st.FindIntegrationByID(ctx, acme); err != nil || i.RelinkURL != "https://connect.kombo.dev/v1?token=x" || i.RelinkAt == nil {
			t.Errorf("relink = %q at %v, %v; want the link recorded", i.RelinkURL, i.RelinkAt, err)
		}
		assertCode(t, "RecordRelink(unknown)", st.RecordRelink(ctx, "lever:nope", "x"), orders.ENOTFOUND)
	})
}
