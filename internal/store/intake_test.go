package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

func TestStore_Intake(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()

		t.Run("OrderReceived", func(t *testing.T) {
			in := orderIntake(t, "ev-1", "order-1", nil)
			res := mustIntake(t, st, in)
			if res.Duplicate || res.Order == nil || res.Order.ID != "order-1" {
				t.Fatalf("Intake = %+v; want the new order order-1", res)
			}
			o, err := st.FindOrderByID(ctx, "order-1")
			if err != nil {
				t.Fatal(err)
			}
			if o.IntegrationID != testIntegration || o.PackageID != "pkg-a" || o.Status != kombo.OrderStatusOpen ||
				o.Candidate.Email != "ada@example.com" || o.Candidate.FirstName == nil || *o.Candidate.FirstName != "Ada" {
				t.Errorf("stored order = %+v; want Kombo's fields as sent", o.Order)
			}
			if o.State != orders.StateReceived || o.Source != orders.SourceWebhook || o.EventID != "ev-1" {
				t.Errorf("state, source, event = %s, %s, %s; want received, webhook, ev-1", o.State, o.Source, o.EventID)
			}
			if !o.CreatedAt.Equal(baseTime) || !o.UpdatedAt.Equal(baseTime) || o.InvitedAt != nil || o.ClosedAt != nil {
				t.Errorf("times = created %v, updated %v, invited %v, closed %v; want %v, %v, nil, nil",
					o.CreatedAt, o.UpdatedAt, o.InvitedAt, o.ClosedAt, baseTime, baseTime)
			}
			if len(o.Timeline) != 1 {
				t.Fatalf("timeline = %+v; want one event", o.Timeline)
			}
			e := o.Timeline[0]
			if e.Kind() != orders.EventReceived || e.Detail()["source"] != "webhook" || e.Detail()["event_id"] != "ev-1" || !e.At.Equal(baseTime) {
				t.Errorf("timeline[0] = %+v; want %s from webhook ev-1 at %v", e, orders.EventReceived, baseTime)
			}
			// The raw body is kept as received, for audit and replay.
			var body []byte
			if err := st.DB().Reader.QueryRow("SELECT body FROM webhook_events WHERE id = 'ev-1'").Scan(&body); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, in.Body) {
				t.Errorf("stored body = %s; want %s", body, in.Body)
			}
		})

		t.Run("InlineOrderReceived", func(t *testing.T) {
			in := webhookIntake(t, "ev-inline", kombo.EventInlineOrderReceived, kombOrder("order-inline", nil))
			in.TokenHash = "hash-inline"
			res := mustIntake(t, st, in)
			if res.Duplicate || res.Order.Source != orders.SourceInline {
				t.Errorf("Intake = duplicate %v, source %s; want a new inline order", res.Duplicate, res.Order.Source)
			}
			if got, want := timelineKinds(t, st, "order-inline"), []string{orders.EventReceived, orders.EventLinkIssued}; !slices.Equal(got, want) {
				t.Errorf("timeline = %q; want %q", got, want)
			}
			if n := count(t, st, "links", "token_hash = 'hash-inline' AND order_id = 'order-inline'"); n != 1 {
				t.Errorf("links = %d; want 1", n)
			}
		})

		t.Run("UnknownIntegration", func(t *testing.T) {
			// Kombo may send an order before the integration-created webhook.
			res := mustIntake(t, st, orderIntake(t, "ev-unknown", "order-unknown", func(o *kombo.Order) { o.IntegrationID = "lever:never-seen" }))
			if res.Duplicate {
				t.Errorf("order of an unknown integration: Duplicate = true; want a new order")
			}
		})

		t.Run("RedeliveredEvent", func(t *testing.T) {
			in := orderIntake(t, "ev-2", "order-2", nil)
			mustIntake(t, st, in)
			res := mustIntake(t, st, in)
			if !res.Duplicate || res.Order == nil || res.Order.ID != "order-2" {
				t.Errorf("second Intake = %+v; want a duplicate of order-2", res)
			}
			if got, want := timelineKinds(t, st, "order-2"), []string{orders.EventReceived}; !slices.Equal(got, want) {
				t.Errorf("timeline = %q; want %q: a redelivery changes nothing", got, want)
			}
			if n := count(t, st, "webhook_events", "id = 'ev-2'"); n != 1 {
				t.Errorf("webhook_events = %d; want 1", n)
			}
		})

		t.Run("SameOrderNewEvent", func(t *testing.T) {
			mustIntake(t, st, orderIntake(t, "ev-3a", "order-3", nil))
			res := mustIntake(t, st, orderIntake(t, "ev-3b", "order-3", func(o *kombo.Order) { o.PackageID = "pkg-b" }))
			if !res.Duplicate {
				t.Errorf("Intake of a known order in a new event: Duplicate = false; want true")
			}
			o, err := st.FindOrderByID(ctx, "order-3")
			if err != nil {
				t.Fatal(err)
			}
			// The first delivery wins; the second is on the timeline.
			if o.PackageID != "pkg-a" || o.EventID != "ev-3a" {
				t.Errorf("order = package %s, event %s; want pkg-a, ev-3a", o.PackageID, o.EventID)
			}
			if len(o.Timeline) != 2 || o.Timeline[1].Kind() != orders.EventDuplicate || o.Timeline[1].Detail()["event_id"] != "ev-3b" {
				t.Errorf("timeline = %+v; want received, then duplicate of ev-3b", o.Timeline)
			}
			if n := count(t, st, "webhook_events", "order_id = 'order-3'"); n != 2 {
				t.Errorf("webhook_events of order-3 = %d; want 2", n)
			}
		})

		t.Run("OtherEventTypes", func(t *testing.T) {
			for _, typ := range []string{kombo.EventConnectionFlowFailed, "something-kombo-adds-later"} {
				in := webhookIntake(t, "ev-"+typ, typ, map[string]any{"integration_tool": "workday", "log_url": "https://kombo.example/log"})
				if res := mustIntake(t, st, in); res.Duplicate || res.Order != nil {
					t.Errorf("Intake(%s) = %+v; want a new event and no order", typ, res)
				}
				if res := mustIntake(t, st, in); !res.Duplicate {
					t.Errorf("Intake(%s) again: Duplicate = false; want true", typ)
				}
				if n := count(t, st, "webhook_events", "id = $1 AND type = $2", "ev-"+typ, typ); n != 1 {
					t.Errorf("webhook_events of %s = %d; want 1", typ, n)
				}
			}
		})
	})
}

func TestStore_Intake_Concurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		created := map[string]int{}
		onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.OrdersCreated) error {
			os := e.Orders
			mu.Lock()
			defer mu.Unlock()
			for _, o := range os {
				created[o.ID]++
			}
			return nil
		})

		// intakeAll stores every webhook at once, one goroutine each, and
		// returns the results in order.
		intakeAll := func(t *testing.T, ins []*store.Intake) []*store.IntakeResult {
			t.Helper()
			results := make([]*store.IntakeResult, len(ins))
			errs := make([]error, len(ins))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, in := range ins {
				wg.Go(func() {
					<-start
					results[i], errs[i] = st.Intake(ctx, in)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("Intake #%d (%s) = %v", i, ins[i].Webhook.ID, err)
				}
			}
			return results
		}

		t.Run("OneOrder", func(t *testing.T) {
			// 32 deliveries of one order: half redeliver one event, half are
			// new events.
			const n = 32
			var ins []*store.Intake
			for i := range n {
				ev := "race-ev"
				if i%2 == 1 {
					ev = fmt.Sprintf("race-ev-%d", i)
				}
				ins = append(ins, orderIntake(t, ev, "race-order", nil))
			}
			var fresh int
			for _, res := range intakeAll(t, ins) {
				if res.Order == nil || res.Order.ID != "race-order" {
					t.Fatalf("Intake = %+v; want race-order", res)
				}
				if !res.Duplicate {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("results not Duplicate = %d; want exactly 1", fresh)
			}
			if created["race-order"] != 1 {
				t.Errorf("orders given to OrdersCreated = %d; want 1", created["race-order"])
			}
			if n := count(t, st, "orders", "id = 'race-order'"); n != 1 {
				t.Errorf("orders = %d; want 1", n)
			}
			// 17 distinct events: one created the order, 16 are duplicates.
			if n := count(t, st, "webhook_events", "order_id = 'race-order'"); n != 17 {
				t.Errorf("webhook_events = %d; want 17", n)
			}
			kinds := timelineKinds(t, st, "race-order")
			if received, dups := countOf(kinds, orders.EventReceived), countOf(kinds, orders.EventDuplicate); received != 1 || dups != 16 {
				t.Errorf("timeline has %d received and %d duplicate events; want 1 and 16", received, dups)
			}
		})

		t.Run("ManyOrders", func(t *testing.T) {
			// 50 orders, each delivered three times at once: twice as one
			// event, once as another.
			const n = 50
			var ins []*store.Intake
			for i := range n {
				id := fmt.Sprintf("many-%02d", i)
				ins = append(ins, orderIntake(t, id+"-a", id, nil), orderIntake(t, id+"-a", id, nil), orderIntake(t, id+"-b", id, nil))
			}
			fresh := map[string]int{}
			for _, res := range intakeAll(t, ins) {
				if !res.Duplicate {
					fresh[res.Order.ID]++
				}
			}
			if got := count(t, st, "orders", "id LIKE 'many-%'"); got != n {
				t.Errorf("orders = %d; want %d", got, n)
			}
			for i := range n {
				id := fmt.Sprintf("many-%02d", i)
				if fresh[id] != 1 || created[id] != 1 {
					t.Errorf("%s: %d results not Duplicate, %d orders given to OrdersCreated; want 1 and 1", id, fresh[id], created[id])
				}
			}
		})
	})
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func TestStore_Intake_IntegrationStates(t *testing.T) {
	type step struct{ typ, state string }
	var (
		created = step{kombo.EventIntegrationCreated, ""}
		deleted = step{kombo.EventIntegrationDeleted, ""}
		changed = func(s string) step { return step{kombo.EventIntegrationStateChanged, s} }
	)
	tests := []struct {
		name    string
		steps   []step
		want    string // the integration's state afterwards
		accepts bool   // whether it takes new orders
	}{
		{"Created", []step{created}, kombo.IntegrationStateActive, true},
		{"Invalid", []step{created, changed(kombo.IntegrationStateInvalid)}, kombo.IntegrationStateInvalid, true},
		{"Inactive", []step{created, changed(kombo.IntegrationStateInactive)}, kombo.IntegrationStateInactive, false},
		{"Reactivated", []step{created, changed(kombo.IntegrationStateInactive), changed(kombo.IntegrationStateActive)}, kombo.IntegrationStateActive, true},
		{"StateChangedFirst", []step{changed(kombo.IntegrationStateInactive)}, kombo.IntegrationStateInactive, false},
		{"Deleted", []step{created, deleted}, orders.IntegrationDeleted, false},
		{"DeletedIsTerminal", []step{created, deleted, changed(kombo.IntegrationStateActive)}, orders.IntegrationDeleted, false},
		{"CreatedAfterDeleted", []step{deleted, created}, orders.IntegrationDeleted, false},
	}
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				integ := "greenhouse:" + tt.name
				for i, s := range tt.steps {
					mustIntake(t, st, integrationIntake(t, fmt.Sprintf("%s-ev-%d", tt.name, i), s.typ, integ, s.state))
				}
				got, err := st.FindIntegrationByID(ctx, integ)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != tt.want {
					t.Errorf("state = %s; want %s", got.State, tt.want)
				}

				eventID, orderID := tt.name+"-order-ev", tt.name+"-order"
				setIntegration := func(o *kombo.Order) { o.IntegrationID = integ }
				_, err = st.Intake(ctx, orderIntake(t, eventID, orderID, setIntegration))
				_, _, cerr := st.CreateOrder(ctx, kombOrder(orderID, setIntegration), orders.SourceReconcile)
				if tt.accepts {
					if err != nil || cerr != nil {
						t.Errorf("order of a %s integration: Intake = %v, CreateOrder = %v; want both taken", tt.want, err, cerr)
					}
					return
				}
				word := "inactive"
				if tt.want == orders.IntegrationDeleted {
					word = "deleted"
				}
				for what, err := range map[string]error{"Intake": err, "CreateOrder": cerr} {
					assertCode(t, what, err, orders.EUNPROCESSABLE)
					if msg := orders.ErrorMessage(err); !strings.Contains(msg, integ) || !strings.Contains(msg, word) {
						t.Errorf("%s message = %q; want it to name %s and say it is %s", what, msg, integ, word)
					}
				}
				assertNothingStored(t, st, eventID, orderID)
			})
		}
	})
}
