package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

func TestStore_CountOrdersByState(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if got, err := st.CountOrdersByState(ctx); err != nil || len(got) != 0 {
			t.Fatalf("CountOrdersByState(empty) = %v, %v; want no states", got, err)
		}
		for _, id := range []string{"o1", "o2", "o3"} {
			mustIntake(t, st, orderIntake(t, "ev-"+id, id, nil))
		}
		if _, _, err := st.AcceptResult(ctx, "o3", result(kombo.OrderStatusCompleted)); err != nil {
			t.Fatal(err)
		}
		got, err := st.CountOrdersByState(ctx)
		if err != nil || got[orders.StateReceived] != 2 || got[orders.StateCompleted] != 1 || len(got) != 2 {
			t.Errorf("CountOrdersByState = %v, %v; want 2 received, 1 completed", got, err)
		}
	})
}

func TestStore_FindWritebackErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := clockOf(st)
		mustIntake(t, st, orderIntake(t, "ev-1", "o1", nil))
		add := func(e orders.EventData) {
			t.Helper()
			if err := st.AddEvent(ctx, "o1", e); err != nil {
				t.Fatal(err)
			}
		}
		add(orders.KomboCall{Status: 500}) // before the period
		clk.Advance(2 * time.Hour)
		add(orders.KomboCall{Status: 200})
		add(orders.KomboCall{Status: 409, ErrorCode: new(kombo.CodeSetupIncomplete)})
		add(orders.KomboCall{Status: 0, Error: new("connection refused")})
		add(orders.DeadLetter{Job: "writeback"})
		add(orders.ResultAccepted{Status: kombo.OrderStatusCompleted})

		list, total, err := st.FindWritebackErrors(ctx, baseTime.Add(time.Hour), 2)
		if err != nil || total != 3 || len(list) != 2 {
			t.Fatalf("FindWritebackErrors = %d events, total %d, %v; want 2 of 3", len(list), total, err)
		}
		if list[0].Kind() != orders.EventDeadLetter || list[1].Detail()["status"] != float64(0) || list[0].OrderID != "o1" {
			t.Errorf("FindWritebackErrors = %+v; want the dead letter, then the call without an answer, newest first", list)
		}
		if !list[0].At.Equal(baseTime.Add(2 * time.Hour)) {
			t.Errorf("At = %v; want %v", list[0].At, baseTime.Add(2*time.Hour))
		}
	})
}

func TestStore_ActiveIntegrationIDsTx(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, integrationIntake(t, "ev-a", kombo.EventIntegrationCreated, "greenhouse:a", ""))
		mustIntake(t, st, integrationIntake(t, "ev-b", kombo.EventIntegrationCreated, "lever:b", ""))
		mustIntake(t, st, integrationIntake(t, "ev-c", kombo.EventIntegrationDeleted, "lever:b", ""))
		tx, err := st.DB().Writer.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		ids, err := st.ActiveIntegrationIDsTx(ctx, tx)
		if err != nil || len(ids) != 1 || ids[0] != "greenhouse:a" {
			t.Errorf("ActiveIntegrationIDsTx = %v, %v; want [greenhouse:a]", ids, err)
		}
	})
}
