package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

func TestStore_Integrations(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := clockOf(st)
		c.Set(baseTime)

		t.Run("NotFound", func(t *testing.T) {
			_, err := st.FindIntegrationByID(ctx, "greenhouse:nope")
			assertCode(t, "FindIntegrationByID(unknown)", err, orders.ENOTFOUND)
		})

		t.Run("Lifecycle", func(t *testing.T) {
			const id = "greenhouse:life"
			find := func() *orders.Integration {
				t.Helper()
				i, err := st.FindIntegrationByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return i
			}
			createdEvent := integrationIntake(t, "life-1", kombo.EventIntegrationCreated, id, "")
			mustIntake(t, st, createdEvent)
			i := find()
			if i.Tool != "greenhouse" || i.Category != "ASSESSMENT" || i.OrganizationName != "Acme Corp" ||
				i.OriginID == nil || *i.OriginID != "cust_1" || i.State != kombo.IntegrationStateActive {
				t.Errorf("created integration = %+v; want the webhook's fields, ACTIVE", i)
			}
			if !i.CreatedAt.Equal(baseTime) || !i.UpdatedAt.Equal(baseTime) || i.DeletedAt != nil {
				t.Errorf("times = %v, %v, %v; want %v, %v, nil", i.CreatedAt, i.UpdatedAt, i.DeletedAt, baseTime, baseTime)
			}

			// A state change without organisation or origin keeps those.
			t1 := c.Advance(time.Minute)
			mustIntake(t, st, webhookIntake(t, "life-2", kombo.EventIntegrationStateChanged, map[string]any{
				"integration_id": id, "integration_tool": "greenhouse", "integration_category": "ASSESSMENT",
				"end_user": map[string]any{"organization_name": "", "origin_id": nil},
				"state":    kombo.IntegrationStateInvalid, "setup_status": "COMPLETED", "qa_status": "FAILED",
			}))
			i = find()
			if i.State != kombo.IntegrationStateInvalid || i.SetupStatus != "COMPLETED" || i.QAStatus != "FAILED" ||
				i.OrganizationName != "Acme Corp" || i.OriginID == nil || *i.OriginID != "cust_1" {
				t.Errorf("after state change = %+v; want INVALID, COMPLETED, FAILED and the organisation kept", i)
			}
			if !i.CreatedAt.Equal(baseTime) || !i.UpdatedAt.Equal(t1) {
				t.Errorf("times = %v, %v; want created %v, updated %v", i.CreatedAt, i.UpdatedAt, baseTime, t1)
			}

			// Deleted at the time Kombo says.
			t2 := c.Advance(time.Minute)
			mustIntake(t, st, integrationIntake(t, "life-3", kombo.EventIntegrationDeleted, id, ""))
			i = find()
			want := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
			if i.State != orders.IntegrationDeleted || i.DeletedAt == nil || !i.DeletedAt.Equal(want) || !i.UpdatedAt.Equal(t2) {
				t.Errorf("after delete = %+v; want DELETED, deleted at %v, updated %v", i, want, t2)
			}

			// A redelivered event is not applied again.
			c.Advance(time.Minute)
			if res := mustIntake(t, st, createdEvent); !res.Duplicate {
				t.Errorf("redelivered integration-created: Duplicate = false; want true")
			}
			if i = find(); i.State != orders.IntegrationDeleted || !i.UpdatedAt.Equal(t2) {
				t.Errorf("after a redelivery = %s, updated %v; want unchanged", i.State, i.UpdatedAt)
			}
		})

		t.Run("DeletedWithoutTime", func(t *testing.T) {
			const id = "greenhouse:no-time"
			now := c.Advance(time.Minute)
			mustIntake(t, st, webhookIntake(t, "no-time-1", kombo.EventIntegrationDeleted, map[string]any{
				"id": id, "tool": "greenhouse", "category": "ASSESSMENT", "end_user": map[string]any{}, "deleted_at": "yesterday",
			}))
			i, err := st.FindIntegrationByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if i.DeletedAt == nil || !i.DeletedAt.Equal(now) {
				t.Errorf("DeletedAt = %v; want the store's clock, %v, when Kombo's time does not parse", i.DeletedAt, now)
			}
		})

		t.Run("List", func(t *testing.T) {
			// Oldest first; ids break ties.
			at := c.Advance(time.Hour)
			for _, id := range []string{"list:b", "list:a"} {
				mustIntake(t, st, integrationIntake(t, id+"-ev", kombo.EventIntegrationCreated, id, ""))
			}
			c.Advance(time.Second)
			mustIntake(t, st, integrationIntake(t, "list:0-ev", kombo.EventIntegrationCreated, "list:0", ""))
			list, err := st.FindIntegrations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, integ := range list {
				if i > 0 && (integ.CreatedAt.Before(list[i-1].CreatedAt) ||
					integ.CreatedAt.Equal(list[i-1].CreatedAt) && integ.ID < list[i-1].ID) {
					t.Errorf("FindIntegrations: %s before %s; want oldest first, then by id", list[i-1].ID, integ.ID)
				}
				if !integ.CreatedAt.Before(at) {
					got = append(got, integ.ID)
				}
			}
			if want := []string{"list:a", "list:b", "list:0"}; !slices.Equal(got, want) {
				t.Errorf("FindIntegrations = %q at the end; want %q", got, want)
			}
		})
	})
}
