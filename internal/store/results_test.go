package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

func result(status kombo.OrderStatus) *kombo.ResultRequest {
	at := "2030-01-02T03:04:05.000Z"
	r := &kombo.ResultRequest{Status: status, ResultURL: "https://vendor.example/r/1"}
	if status != kombo.OrderStatusOpen {
		r.CompletedAt = &at
	}
	return r
}

func TestStore_AcceptResult(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, orderIntake(t, "ev-1", "order-1", nil))

		_, _, err := st.AcceptResult(ctx, "nope", result(kombo.OrderStatusCompleted))
		assertCode(t, "AcceptResult(unknown)", err, orders.ENOTFOUND)

		// Interim data keeps the order open.
		o, res, err := st.AcceptResult(ctx, "order-1", result(kombo.OrderStatusOpen))
		if err != nil || o.State != orders.StateReceived || o.ClosedAt != nil || res.ID == 0 {
			t.Fatalf("AcceptResult(OPEN) = %v, %v, %v; want the order still received and open", o, res, err)
		}
		o, res2, err := st.AcceptResult(ctx, "order-1", result(kombo.OrderStatusCompleted))
		if err != nil || o.State != orders.StateCompleted || o.ClosedAt == nil || res2.ID <= res.ID {
			t.Fatalf("AcceptResult(COMPLETED) = %+v, %v; want the order completed and closed", o, err)
		}
		// Kombo's status moves only on delivery.
		if o.Status != kombo.OrderStatusOpen {
			t.Errorf("Kombo status after accepting = %s; want OPEN until delivered", o.Status)
		}
		o, _, err = st.AcceptResult(ctx, "order-1", result(kombo.OrderStatusCancelled))
		assertCode(t, "AcceptResult(closed order)", err, orders.ECONFLICT)
		if o == nil || o.State != orders.StateCompleted {
			t.Errorf("AcceptResult(closed order) returned order %+v; want it as it is (completed)", o)
		}
		if n := count(t, st, "results", "order_id = 'order-1'"); n != 2 {
			t.Errorf("results = %d; want 2", n)
		}

		// The expiry job records its CANCELLED result for an order it has
		// just closed as expired.
		mustIntake(t, st, orderIntake(t, "ev-2", "order-2", nil))
		tx, err := st.DB().Writer.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := st.ExpireTx(ctx, tx, "order-2", baseTime); !ok || err != nil {
			t.Fatalf("ExpireTx = %v, %v", ok, err)
		}
		res, err = st.RecordResultTx(ctx, tx, "order-2", result(kombo.OrderStatusCancelled))
		if err != nil || res.ID == 0 {
			t.Fatalf("RecordResultTx(expired order) = %v, %v", res, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.FindOrderByID(ctx, "order-2"); o.State != orders.StateExpired {
			t.Errorf("state after the expiry's result = %s; want expired", o.State)
		}
	})
}

func TestStore_AcceptResult_Race(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		mustIntake(t, st, orderIntake(t, "ev-race", "order-race", nil))
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := []kombo.OrderStatus{kombo.OrderStatusCompleted, kombo.OrderStatusCancelled}[i%2]
				_, _, errs[i] = st.AcceptResult(context.Background(), "order-race", result(status))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch orders.ErrorCode(err) {
			case "":
				won++
			case orders.ECONFLICT:
			default:
				t.Errorf("AcceptResult = %v; want success or ECONFLICT", err)
			}
		}
		if won != 1 || count(t, st, "results", "order_id = 'order-race'") != 1 {
			t.Errorf("%d of %d racing closing results won; want exactly 1", won, n)
		}
	})
}

func TestStore_AcceptResult_HookRollsBack(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		mustIntake(t, st, orderIntake(t, "ev-h", "order-h", nil))
		onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.ResultAccepted) error {
			return errors.New("queue refuses")
		})
		if _, _, err := st.AcceptResult(context.Background(), "order-h", result(kombo.OrderStatusCompleted)); err == nil {
			t.Fatal("AcceptResult with a failing hook succeeded")
		}
		o, err := st.FindOrderByID(context.Background(), "order-h")
		if err != nil || o.State != orders.StateReceived || count(t, st, "results", "") != 0 {
			t.Errorf("after a failed hook: state %v, results %d; want nothing changed", o.State, count(t, st, "results", ""))
		}
	})
}

func TestStore_MarkResultDelivered(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, orderIntake(t, "ev-d", "order-d", nil))
		if _, err := st.LatestResult(ctx, "order-d"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("LatestResult(no results) = %v; want ENOTFOUND", err)
		}
		st.AcceptResult(ctx, "order-d", result(kombo.OrderStatusOpen))
		st.AcceptResult(ctx, "order-d", result(kombo.OrderStatusCompleted))
		latest, err := st.LatestResult(ctx, "order-d")
		if err != nil || latest.Request.Status != kombo.OrderStatusCompleted || latest.DeliveredAt != nil {
			t.Fatalf("LatestResult = %+v, %v; want the undelivered COMPLETED result", latest, err)
		}
		if err := st.MarkResultDelivered(ctx, latest, []string{"ignored an attachment"}); err != nil {
			t.Fatal(err)
		}
		// The earlier, superseded result counts as delivered too.
		if n := count(t, st, "results", "order_id = 'order-d' AND delivered_at IS NULL"); n != 0 {
			t.Errorf("undelivered results = %d; want 0", n)
		}
		latest, _ = st.LatestResult(ctx, "order-d")
		if latest.DeliveredAt == nil || fmt.Sprint(latest.Warnings) != "[ignored an attachment]" {
			t.Errorf("delivered result = %+v; want delivered with Kombo's warning", latest)
		}
		o, _ := st.FindOrderByID(ctx, "order-d")
		if o.Status != kombo.OrderStatusCompleted {
			t.Errorf("Kombo status = %s; want COMPLETED", o.Status)
		}
	})
}

func TestStore_Catalogue(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i, state := range []string{"ACTIVE", "INVALID", "INACTIVE"} {
			id := fmt.Sprintf("tool:%d", i)
			mustIntake(t, st, integrationIntake(t, "ev-c"+id, kombo.EventIntegrationCreated, id, ""))
			mustIntake(t, st, integrationIntake(t, "ev-s"+id, kombo.EventIntegrationStateChanged, id, state))
		}
		mustIntake(t, st, integrationIntake(t, "ev-cdel", kombo.EventIntegrationCreated, "tool:del", ""))
		mustIntake(t, st, integrationIntake(t, "ev-del", kombo.EventIntegrationDeleted, "tool:del", ""))

		var hooked []string
		onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.PackagesChanged) error {
			hooked = append(hooked, e.IntegrationIDs...)
			return nil
		})
		if pkgs, hash, err := st.FindCatalogue(ctx); err != nil || pkgs != nil || hash != "" {
			t.Errorf("FindCatalogue(empty) = %v, %q, %v", pkgs, hash, err)
		}
		pkgs := []orders.Package{{Package: kombo.Package{ID: "go-90", Type: kombo.PackageSkillsTest, Name: "Go", Description: "90 minutes"}, Tenants: []string{"acme"}}}
		changed, pushes, err := st.SetCatalogue(ctx, pkgs)
		if err != nil || !changed || pushes != 1 || fmt.Sprint(hooked) != "[tool:0]" {
			t.Fatalf("SetCatalogue = %v, %d, %v (hooked %v); want changed, pushed to the one active integration", changed, pushes, err, hooked)
		}
		got, hash, err := st.FindCatalogue(ctx)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], pkgs[0]) || hash == "" {
			t.Errorf("FindCatalogue = %v, %q, %v; want what was set", got, hash, err)
		}
		if changed, pushes, _ := st.SetCatalogue(ctx, pkgs); changed || pushes != 0 {
			t.Errorf("SetCatalogue(same) = %v, %d; want unchanged, no pushes", changed, pushes)
		}

		if err := st.RecordPush(ctx, "tool:0", hash, []string{"w1"}, nil); err != nil {
			t.Fatal(err)
		}
		i, _ := st.FindIntegrationByID(ctx, "tool:0")
		if i.PackagesHash != hash || i.PackagesPushedAt == nil || fmt.Sprint(i.PushWarnings) != "[w1]" || i.PushError != "" {
			t.Errorf("after a push: %+v", i)
		}
		st.RecordPush(ctx, "tool:0", hash, nil, errors.New("kombo down"))
		i, _ = st.FindIntegrationByID(ctx, "tool:0")
		if i.PushError != "kombo down" || i.PackagesHash != hash {
			t.Errorf("after a failed push: error %q, hash %q; want the error and the last good hash", i.PushError, i.PackagesHash)
		}
	})
}

func TestStore_ReconcileHelpers(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, integrationIntake(t, "ev-a", kombo.EventIntegrationCreated, "tool:active", ""))
		mustIntake(t, st, integrationIntake(t, "ev-b", kombo.EventIntegrationCreated, "tool:gone", ""))
		mustIntake(t, st, integrationIntake(t, "ev-c", kombo.EventIntegrationDeleted, "tool:gone", ""))
		mustIntake(t, st, orderIntake(t, "ev-o", "order-o", func(o *kombo.Order) { o.IntegrationID = "tool:orders-only" }))
		targets, err := st.ReconcileTargets(ctx)
		if err != nil || fmt.Sprint(targets) != "[tool:active tool:orders-only]" {
			t.Errorf("ReconcileTargets = %v, %v; want the active one and the one known from orders", targets, err)
		}

		// More ids than one query takes.
		var ask []string
		for i := range 1200 {
			ask = append(ask, fmt.Sprintf("x-%d", i))
		}
		ask = append(ask, "order-o")
		known, err := st.KnownOrderIDs(ctx, ask)
		if err != nil || len(known) != 1 || !known["order-o"] {
			t.Errorf("KnownOrderIDs = %v, %v; want only order-o", known, err)
		}
	})
}
