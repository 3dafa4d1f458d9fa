package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

func stuckIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	list, err := st.StuckOrders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, o := range list {
		ids = append(ids, o.OrderID)
	}
	return ids
}

func TestStore_StuckOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := clockOf(st)
		first := clk.Now()
		for _, id := range []string{"s-1", "s-2", "s-3", "s-4"} {
			if err := st.RecordStuck(ctx, id, testIntegration, "The order's status is not valid (data.status: unknown status \"X\")."); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Minute)
		// Seen again, for another reason: the first sight stays.
		if err := st.RecordStuck(ctx, "s-1", testIntegration, "The assessment package is not offered."); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindStuckOrder(ctx, "s-1")
		if err != nil || got.Reason != "The assessment package is not offered." || !got.FirstSeen.Equal(first) ||
			!got.LastSeen.Equal(first.Add(time.Minute)) || got.IntegrationID != testIntegration {
			t.Fatalf("FindStuckOrder(s-1) = %+v, %v; want the new reason, first seen %v, last seen a minute later", got, err, first)
		}

		// Closed at Kombo; held after all; no longer open at Kombo.
		if err := st.CloseStuck(ctx, "s-2", store.StuckCancelled); err != nil {
			t.Fatal(err)
		}
		mustIntake(t, st, webhookIntake(t, "ev-s3", kombo.EventOrderReceived, kombOrder("s-3", nil)))
		if err := st.StuckStillOpen(ctx, testIntegration, []string{"s-1", "s-2", "s-3"}); err != nil {
			t.Fatal(err)
		}
		if ids := stuckIDs(t, st); len(ids) != 1 || ids[0] != "s-1" {
			t.Errorf("stuck list = %v; want only s-1 (s-2 closed, s-3 held, s-4 no longer open)", ids)
		}
		if _, err := st.FindStuckOrder(ctx, "s-4"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("FindStuckOrder(s-4) = %v; want ENOTFOUND", err)
		}
		if n := countRows(t, st, "stuck_orders", "order_id = 's-4' AND closed_how = $1", store.StuckNotOpen); n != 1 {
			t.Errorf("s-4 not recorded as no longer open at Kombo")
		}
		// Refused again: back on the list.
		if err := st.RecordStuck(ctx, "s-4", testIntegration, "again"); err != nil {
			t.Fatal(err)
		}
		if ids := stuckIDs(t, st); len(ids) != 2 {
			t.Errorf("stuck list = %v; want s-1 and s-4", ids)
		}
	})
}

// A webhook of a type assessgate does not act on is recorded by id and
// type only; an integration's event too, once applied.
func TestStore_WebhookBodiesKeptForOrdersOnly(t *testing.T) {
	forEachKeying(t, func(t *testing.T, st *store.Store) {
		mustIntake(t, st, webhookIntake(t, "ev-unknown", "candidate:updated", map[string]any{"email": "stranger@example.com"}))
		mustIntake(t, st, webhookIntake(t, "ev-flow", kombo.EventConnectionFlowFailed, map[string]any{"log_url": "https://x.example"}))
		mustIntake(t, st, integrationIntake(t, "ev-int", kombo.EventIntegrationCreated, testIntegration, ""))
		mustIntake(t, st, webhookIntake(t, "ev-order", kombo.EventOrderReceived, kombOrder("o-1", nil)))
		if n := countRows(t, st, "webhook_events", "length(body) = 0"); n != 3 {
			t.Errorf("%d webhooks recorded without a body; want the 3 that are not orders", n)
		}
		if n := countRows(t, st, "webhook_events", "id = 'ev-order' AND length(body) > 0"); n != 1 {
			t.Errorf("the order webhook's body is not kept")
		}
		assertRawAbsent(t, st, "", "stranger@example.com")
	})
}

func TestStore_CheckWrites(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CheckWrites(ctx); err != nil {
			t.Fatalf("CheckWrites = %v; want nil", err)
		}
		if n := countRows(t, st, "readiness_probe", ""); n != 1 {
			t.Errorf("readiness_probe has %d rows; want the probe's one", n)
		}
		if err := st.CheckWrites(ctx); err != nil {
			t.Fatalf("CheckWrites again = %v; want nil", err)
		}
	})
}

// Migration 0008 empties the bodies of webhooks other than orders stored
// by earlier versions, and keeps orders' bodies.
func TestMigration0008_ScrubsBodies(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d storetest.Database) {
		ctx := context.Background()
		db := openRaw(t, d)
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		// The database as version 0007 left it, with what it stored.
		undoMigration(t, db, 8,
			"DROP TABLE stuck_orders", "DROP TABLE readiness_probe",
			`INSERT INTO webhook_events (id, type, order_id, integration_id, received_at, body) VALUES
				('ev-unknown', 'candidate:updated', NULL, NULL, 1, '{"email":"ada@example.com"}'),
				('ev-int', 'integration-created', NULL, 'i-1', 1, '{"creator_email":"it@example.com"}'),
				('ev-order', 'assessment:order-received', 'o-1', 'i-1', 1, '{"email":"ada@example.com"}')`)
		var empty, kept int
		if err := db.Writer.QueryRowContext(ctx, "SELECT count(*) FROM webhook_events WHERE length(body) = 0 AND order_id IS NULL").Scan(&empty); err != nil {
			t.Fatal(err)
		}
		if err := db.Writer.QueryRowContext(ctx, "SELECT count(*) FROM webhook_events WHERE length(body) > 0 AND id = 'ev-order'").Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if empty != 2 || kept != 1 {
			t.Errorf("after 0008: %d bodies of other webhooks emptied (want 2), order body kept: %d (want 1)", empty, kept)
		}
	})
}

// Migration 0013 copies each order's created_at onto its timeline and its
// webhooks (order_at, the first key of their indexes), so that what was
// stored before it is still found by order.
func TestMigration0013_KeysByOrderTime(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d storetest.Database) {
		ctx := context.Background()
		db := openRaw(t, d)
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		// The database as version 0012 left it, with what it stored.
		undoMigration(t, db, 13,
			"DROP INDEX order_events_order", "DROP INDEX webhook_events_order",
			"ALTER TABLE order_events DROP COLUMN order_at", "ALTER TABLE webhook_events DROP COLUMN order_at",
			"CREATE INDEX order_events_order_id ON order_events (order_id, id)",
			"CREATE INDEX webhook_events_order_id ON webhook_events (order_id)",
			`INSERT INTO orders (id, integration_id, package_id, status, state, source, event_id, email, data, created_at, updated_at)
				VALUES ('o-1', 'i-1', 'p-1', 'OPEN', 'received', 'webhook', 'ev-1', 'k', '{}', 1700000000123, 1700000000123)`,
			`INSERT INTO order_events (order_id, at, kind, detail) VALUES ('o-1', 1700000000123, 'order.received', '{}'),
				('o-gone', 1, 'order.received', '{}')`,
			`INSERT INTO webhook_events (id, type, order_id, integration_id, received_at, body) VALUES
				('ev-1', 'assessment:order-received', 'o-1', 'i-1', 1700000000123, 'x'),
				('ev-int', 'integration-created', NULL, 'i-1', 1, '')`)
		for _, c := range []struct {
			q    string
			want sql.NullInt64
		}{
			{"SELECT order_at FROM order_events WHERE order_id = 'o-1'", sql.NullInt64{Int64: 1700000000123, Valid: true}},
			{"SELECT order_at FROM order_events WHERE order_id = 'o-gone'", sql.NullInt64{Int64: 0, Valid: true}},
			{"SELECT order_at FROM webhook_events WHERE id = 'ev-1'", sql.NullInt64{Int64: 1700000000123, Valid: true}},
			{"SELECT order_at FROM webhook_events WHERE id = 'ev-int'", sql.NullInt64{Int64: 0, Valid: true}},
		} {
			var got sql.NullInt64
			if err := db.Writer.QueryRowContext(ctx, c.q).Scan(&got); err != nil {
				t.Fatalf("%s: %v", c.q, err)
			}
			if got != c.want {
				t.Errorf("%s = %+v; want %+v", c.q, got, c.want)
			}
		}
	})
}

// undoMigration takes a migrated database back to before migration
// version, with stmts (which undo it and store what earlier versions
// stored), then applies it again, and wants it to be the one applied.
func undoMigration(t *testing.T, db *store.DB, version int, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	stmts = append(stmts[:len(stmts):len(stmts)], fmt.Sprintf("DELETE FROM assessgate_migrations WHERE version = %d", version))
	for _, q := range stmts {
		if _, err := db.Writer.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if applied, err := db.MigrateUp(ctx); err != nil || len(applied) != 1 {
		t.Fatalf("MigrateUp() = %q, %v; want migration %04d applied", applied, err, version)
	}
}

// During a rolling upgrade on Postgres, a replica of a version before 0013
// writes timeline rows and webhooks without order_at (0): the order's
// timeline and export still show them, and erasure still reaches their
// bodies.
func TestMigration0013_RowsOfEarlierReplicas(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, orderIntake(t, "ev-1", "o-1", nil))
		for _, q := range []string{
			`INSERT INTO order_events (order_id, at, kind, detail) VALUES ('o-1', 1, 'link.opened', '{}')`,
			`INSERT INTO webhook_events (id, type, order_id, integration_id, received_at, body)
				VALUES ('ev-old', 'assessment:order-received', 'o-1', 'i-1', 1, 'x')`,
		} {
			if _, err := st.DB().Writer.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		o, err := st.FindOrderByID(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range o.Timeline {
			kinds = append(kinds, e.Kind())
		}
		if !slices.Contains(kinds, "link.opened") {
			t.Errorf("timeline %v; want the earlier replica's link.opened in it", kinds)
		}
		export, err := st.FindCandidate(ctx, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(export.WebhookEvents["o-1"]); n != 2 {
			t.Errorf("the candidate's export holds %d webhooks of o-1; want 2, the earlier replica's included", n)
		}
		if _, err := st.EraseCandidate(ctx, "ada@example.com", orders.ActorAPI); err != nil {
			t.Fatal(err)
		}
		if n := count(t, st, "webhook_events", "order_id = 'o-1' AND length(body) > 0"); n != 0 {
			t.Errorf("%d webhook bodies of the erased order left; want 0 (the earlier replica's included)", n)
		}
	})
}
