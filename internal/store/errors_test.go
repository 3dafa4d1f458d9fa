package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// refuseInserts makes the database refuse every insert into table until the
// test ends, as a full disk or a failing server would.
func refuseInserts(t *testing.T, st *store.Store, table string) {
	t.Helper()
	db := st.DB().Writer
	trigger := "test_refuse_" + table
	stmts := []string{fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT ON %s BEGIN SELECT RAISE(ABORT, 'test refuses writes'); END", trigger, table)}
	drop := "DROP TRIGGER " + trigger
	if st.DB().Dialect == store.Postgres {
		stmts = []string{
			`CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'test refuses writes to %', TG_TABLE_NAME; END $$`,
			fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION test_refuse()", trigger, table),
		}
		drop += " ON " + table
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		if _, err := db.Exec(drop); err != nil {
			t.Errorf("%s: %v", drop, err)
		}
	})
}

// TestStore_Unavailable checks that a database that refuses a write gives an
// error for which IsUnavailable is true (the server answers 503, so Kombo
// retries), and that nothing of the webhook is kept.
func TestStore_Unavailable(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, table := range []string{"webhook_events", "orders", "order_events", "links"} {
			t.Run("Intake/"+table, func(t *testing.T) {
				refuseInserts(t, st, table)
				ev, id := "refused-ev-"+table, "refused-"+table
				in := webhookIntake(t, ev, kombo.EventInlineOrderReceived, kombOrder(id, nil))
				in.TokenHash = "refused-hash-" + table
				_, err := st.Intake(ctx, in)
				if !store.IsUnavailable(err) {
					t.Errorf("Intake while %s refuses writes = %v; want an unavailable error", table, err)
				}
				assertNothingStored(t, st, ev, id)
			})
		}

		t.Run("Intake/integrations", func(t *testing.T) {
			refuseInserts(t, st, "integrations")
			_, err := st.Intake(ctx, integrationIntake(t, "refused-integ-ev", kombo.EventIntegrationCreated, "greenhouse:refused", ""))
			if !store.IsUnavailable(err) {
				t.Errorf("Intake while integrations refuses writes = %v; want an unavailable error", err)
			}
			assertNothingStored(t, st, "refused-integ-ev", "")
		})

		t.Run("CreateOrder", func(t *testing.T) {
			refuseInserts(t, st, "orders")
			_, _, err := st.CreateOrder(ctx, kombOrder("refused-create", nil), orders.SourceReconcile)
			if !store.IsUnavailable(err) {
				t.Errorf("CreateOrder while orders refuses writes = %v; want an unavailable error", err)
			}
		})

		t.Run("AddEvent", func(t *testing.T) {
			mustIntake(t, st, orderIntake(t, "refused-add-ev", "refused-add", nil))
			refuseInserts(t, st, "order_events")
			if err := st.AddEvent(ctx, "refused-add", orders.MailSent{}); !store.IsUnavailable(err) {
				t.Errorf("AddEvent while order_events refuses writes = %v; want an unavailable error", err)
			}
		})

		t.Run("NotForRefusals", func(t *testing.T) {
			// A refused order is the sender's problem, not the database's.
			mustIntake(t, st, integrationIntake(t, "gone-ev", kombo.EventIntegrationDeleted, "greenhouse:gone", ""))
			_, err := st.Intake(ctx, orderIntake(t, "gone-order-ev", "gone-order", func(o *kombo.Order) { o.IntegrationID = "greenhouse:gone" }))
			if err == nil || store.IsUnavailable(err) {
				t.Errorf("Intake of an order for a deleted integration = %v; want a refusal that is not unavailable", err)
			}
		})

		t.Run("Closed", func(t *testing.T) {
			// Last: the database stays closed.
			st.DB().Close()
			if _, err := st.Intake(ctx, orderIntake(t, "closed-ev", "closed", nil)); !store.IsUnavailable(err) {
				t.Errorf("Intake on a closed database = %v; want an unavailable error", err)
			}
			if _, _, err := st.CreateOrder(ctx, kombOrder("closed", nil), orders.SourceReconcile); !store.IsUnavailable(err) {
				t.Errorf("CreateOrder on a closed database = %v; want an unavailable error", err)
			}
			if _, err := st.FindOrderByID(ctx, "closed"); err == nil {
				t.Errorf("FindOrderByID on a closed database = nil error; want one")
			}
		})
	})
}
