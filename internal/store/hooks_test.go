package store_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

var errHook = errors.New("hook failed")

func TestStore_Hooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()

		t.Run("OrdersCreatedInTransaction", func(t *testing.T) {
			var calls int
			onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.OrdersCreated) error {
				os := e.Orders
				for _, o := range os {
					calls++
					// The order is there inside the transaction, and nowhere
					// else until it commits.
					if _, err := st.FindOrderByIDTx(ctx, tx, o.ID); err != nil {
						t.Errorf("FindOrderByIDTx in the hook = %v; want the order", err)
					}
					if _, err := st.FindOrderByID(ctx, o.ID); orders.ErrorCode(err) != orders.ENOTFOUND {
						t.Errorf("FindOrderByID outside the hook's transaction = %v; want not found before the commit", err)
					}
					if err := st.AddEventTx(ctx, tx, o.ID, orders.UnknownEvent{Name: "hook.ran"}); err != nil {
						return err
					}
				}
				return nil
			})
			mustIntake(t, st, orderIntake(t, "hook-ev-1", "hook-1", nil))
			mustIntake(t, st, orderIntake(t, "hook-ev-2", "hook-1", nil)) // a duplicate: no call
			if _, _, err := st.CreateOrder(ctx, kombOrder("hook-2", nil), orders.SourceReconcile); err != nil {
				t.Fatal(err)
			}
			if calls != 2 {
				t.Errorf("orders given to OrdersCreated = %d; want 2 (one per new order)", calls)
			}
			want := []string{orders.EventReceived, "hook.ran", orders.EventDuplicate}
			if got := timelineKinds(t, st, "hook-1"); !slices.Equal(got, want) {
				t.Errorf("timeline = %q; want %q: the hook's writes commit with the order", got, want)
			}
		})

		t.Run("InlineOrder", func(t *testing.T) {
			// Inline orders take the same path; the hook decides what they need.
			var got orders.Source
			onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.OrdersCreated) error {
				os := e.Orders
				for _, o := range os {
					got = o.Source
				}
				return nil
			})
			in := webhookIntake(t, "hook-inline-ev", kombo.EventInlineOrderReceived, kombOrder("hook-inline", nil))
			in.TokenHash = "hook-inline-hash"
			mustIntake(t, st, in)
			if got != orders.SourceInline {
				t.Errorf("hook saw source %q; want inline", got)
			}
		})

		t.Run("OrdersCreatedErrorRollsBack", func(t *testing.T) {
			onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.OrdersCreated) error {
				return errHook
			})
			defer noEvents(st)
			in := webhookIntake(t, "hook-fail-ev", kombo.EventInlineOrderReceived, kombOrder("hook-fail", nil))
			in.TokenHash = "hook-fail-hash"
			if _, err := st.Intake(ctx, in); !errors.Is(err, errHook) {
				t.Errorf("Intake with a failing hook = %v; want the hook's error", err)
			}
			if _, _, err := st.CreateOrder(ctx, kombOrder("hook-fail", nil), orders.SourceReconcile); !errors.Is(err, errHook) {
				t.Errorf("CreateOrder with a failing hook = %v; want the hook's error", err)
			}
			assertNothingStored(t, st, "hook-fail-ev", "hook-fail")

			// Once the hook works, the same webhook is taken as new.
			noEvents(st)
			if res := mustIntake(t, st, in); res.Duplicate {
				t.Errorf("Intake after the failure: Duplicate = true; want the order stored now")
			}
		})

		t.Run("IntegrationCreated", func(t *testing.T) {
			var got []string
			onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.IntegrationCreated) error {
				id := e.IntegrationID
				got = append(got, id)
				return nil
			})
			in := integrationIntake(t, "hook-integ-ev", kombo.EventIntegrationCreated, "greenhouse:hook", "")
			mustIntake(t, st, in)
			mustIntake(t, st, in) // redelivered: no call
			if !slices.Equal(got, []string{"greenhouse:hook"}) {
				t.Errorf("IntegrationCreated calls = %q; want one for greenhouse:hook", got)
			}
		})

		t.Run("IntegrationCreatedErrorRollsBack", func(t *testing.T) {
			onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.IntegrationCreated) error {
				return errHook
			})
			defer noEvents(st)
			_, err := st.Intake(ctx, integrationIntake(t, "hook-integ-fail-ev", kombo.EventIntegrationCreated, "greenhouse:hook-fail", ""))
			if !errors.Is(err, errHook) {
				t.Errorf("Intake with a failing hook = %v; want the hook's error", err)
			}
			if _, err := st.FindIntegrationByID(ctx, "greenhouse:hook-fail"); orders.ErrorCode(err) != orders.ENOTFOUND {
				t.Errorf("FindIntegrationByID after the failure = %v; want not found", err)
			}
			assertNothingStored(t, st, "hook-integ-fail-ev", "")
		})
	})
}
