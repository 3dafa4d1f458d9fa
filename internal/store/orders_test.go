package store_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

func TestStore_CreateOrder(t *testing.T) {
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

		t.Run("New", func(t *testing.T) {
			ko := kombOrder("rec-1", func(o *kombo.Order) { o.Job.Name = ptr("Bottle Opener") })
			o, isNew, err := st.CreateOrder(ctx, ko, orders.SourceReconcile)
			if err != nil || !isNew {
				t.Fatalf("CreateOrder = %v, %v; want a new order", isNew, err)
			}
			if o.Source != orders.SourceReconcile || o.EventID != "" || o.State != orders.StateReceived {
				t.Errorf("order source, event, state = %s, %q, %s; want reconcile, none, received", o.Source, o.EventID, o.State)
			}
			got, err := st.FindOrderByID(ctx, "rec-1")
			if err != nil {
				t.Fatal(err)
			}
			// Kombo's order comes back as it went in.
			if !reflect.DeepEqual(got.Order, *ko) {
				t.Errorf("stored order = %+v; want %+v", got.Order, *ko)
			}
			if len(got.Timeline) != 1 || got.Timeline[0].Detail()["source"] != "reconcile" || got.Timeline[0].Detail()["event_id"] != nil {
				t.Errorf("timeline = %+v; want one received event from reconcile, without an event id", got.Timeline)
			}
			if created["rec-1"] != 1 {
				t.Errorf("orders given to OrdersCreated = %d; want 1", created["rec-1"])
			}
		})

		t.Run("Again", func(t *testing.T) {
			o, isNew, err := st.CreateOrder(ctx, kombOrder("rec-1", nil), orders.SourceReconcile)
			if err != nil || isNew || o.ID != "rec-1" {
				t.Errorf("CreateOrder of a known order = %v, %v, %v; want the stored order, not new", o, isNew, err)
			}
			if got := timelineKinds(t, st, "rec-1"); len(got) != 1 {
				t.Errorf("timeline = %q; want it unchanged", got)
			}
			if created["rec-1"] != 1 {
				t.Errorf("orders given to OrdersCreated = %d; want still 1", created["rec-1"])
			}
		})

		t.Run("AfterWebhook", func(t *testing.T) {
			mustIntake(t, st, orderIntake(t, "rec-2-ev", "rec-2", nil))
			o, isNew, err := st.CreateOrder(ctx, kombOrder("rec-2", nil), orders.SourceReconcile)
			if err != nil || isNew || o.Source != orders.SourceWebhook {
				t.Errorf("CreateOrder after the webhook = source %v, new %v, %v; want the webhook's order, not new", o.Source, isNew, err)
			}
		})

		t.Run("BeforeWebhook", func(t *testing.T) {
			if _, _, err := st.CreateOrder(ctx, kombOrder("rec-3", nil), orders.SourceReconcile); err != nil {
				t.Fatal(err)
			}
			res := mustIntake(t, st, orderIntake(t, "rec-3-ev", "rec-3", nil))
			if !res.Duplicate || res.Order.Source != orders.SourceReconcile {
				t.Errorf("webhook after reconciliation = %+v; want a duplicate of the reconciled order", res)
			}
			if got, want := timelineKinds(t, st, "rec-3"), []string{orders.EventReceived, orders.EventDuplicate}; !slices.Equal(got, want) {
				t.Errorf("timeline = %q; want %q", got, want)
			}
		})

		t.Run("ConcurrentWithWebhooks", func(t *testing.T) {
			const n = 16
			ins := make([]*store.Intake, n)
			for i := range n {
				ins[i] = orderIntake(t, fmt.Sprintf("rec-race-ev-%d", i), "rec-race", nil)
			}
			start := make(chan struct{})
			errs := make([]error, 2*n)
			fresh := make([]bool, 2*n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					var res *store.IntakeResult
					if res, errs[i] = st.Intake(ctx, ins[i]); res != nil {
						fresh[i] = !res.Duplicate
					}
				})
				wg.Go(func() {
					<-start
					_, fresh[n+i], errs[n+i] = st.CreateOrder(ctx, kombOrder("rec-race", nil), orders.SourceReconcile)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("call %d = %v", i, err)
				}
			}
			if got := countOf(boolStrings(fresh), "true"); got != 1 {
				t.Errorf("calls that created the order = %d; want 1", got)
			}
			if created["rec-race"] != 1 || count(t, st, "orders", "id = 'rec-race'") != 1 {
				t.Errorf("orders given to OrdersCreated = %d; want 1, and one order", created["rec-race"])
			}
		})
	})
}

func boolStrings(bs []bool) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = fmt.Sprint(b)
	}
	return out
}

func TestStore_FindOrderByID(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := clockOf(st)
		c.Set(baseTime)
		mustIntake(t, st, orderIntake(t, "find-ev", "find-1", nil))
		c.Advance(time.Second)
		mustIntake(t, st, orderIntake(t, "find-ev-2", "find-1", nil))
		c.Advance(time.Second)
		if err := st.AddEvent(ctx, "find-1", orders.MailSent{MessageID: "m-1"}); err != nil {
			t.Fatal(err)
		}

		t.Run("Timeline", func(t *testing.T) {
			o, err := st.FindOrderByID(ctx, "find-1")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range o.Timeline {
				if e.OrderID != "find-1" || e.ID == 0 {
					t.Errorf("event %+v: want order find-1 and an id", e)
				}
				got = append(got, fmt.Sprintf("%s@%d", e.Kind(), e.At.Sub(baseTime)/time.Second))
			}
			want := []string{orders.EventReceived + "@0", orders.EventDuplicate + "@1", "mail.sent@2"}
			if !slices.Equal(got, want) {
				t.Errorf("timeline = %q; want %q, oldest first", got, want)
			}
		})

		t.Run("NotFound", func(t *testing.T) {
			_, err := st.FindOrderByID(ctx, "nope")
			assertCode(t, `FindOrderByID("nope")`, err, orders.ENOTFOUND)
			if !strings.Contains(orders.ErrorMessage(err), "nope") {
				t.Errorf("message = %q; want it to name the order", orders.ErrorMessage(err))
			}
		})

		t.Run("InTransaction", func(t *testing.T) {
			tx, err := st.DB().Writer.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			o, err := st.FindOrderByIDTx(ctx, tx, "find-1")
			if err != nil || o.ID != "find-1" || o.Timeline != nil {
				t.Errorf("FindOrderByIDTx = %+v, %v; want find-1 without its timeline", o, err)
			}
			_, err = st.FindOrderByIDTx(ctx, tx, "nope")
			assertCode(t, "FindOrderByIDTx(nope)", err, orders.ENOTFOUND)
		})
	})
}

func TestStore_AddEvent(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, orderIntake(t, "add-ev", "add-1", nil))

		if err := st.AddEvent(ctx, "add-1", orders.MailSent{MessageID: "m-1", LatencyMS: 12}); err != nil {
			t.Fatal(err)
		}
		if err := st.AddEvent(ctx, "add-1", orders.UnknownEvent{Name: "mail.opened"}); err != nil {
			t.Fatal(err)
		}
		o, err := st.FindOrderByID(ctx, "add-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Timeline) != 3 {
			t.Fatalf("timeline = %+v; want 3 events", o.Timeline)
		}
		if d := o.Timeline[1].Detail(); d["message_id"] != "m-1" || d["latency_ms"] != float64(12) {
			t.Errorf("detail = %v; want message_id m-1 and latency_ms 12 back", d)
		}
		if d := o.Timeline[2].Detail(); d == nil || len(d) != 0 {
			t.Errorf("nil detail came back as %#v; want an empty map", d)
		}

		// AddEventTx writes in the caller's transaction: gone on rollback.
		for _, commit := range []bool{false, true} {
			tx, err := st.DB().Writer.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.AddEventTx(ctx, tx, "add-1", orders.UnknownEvent{Name: fmt.Sprintf("tx.%v", commit)}); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		kinds := timelineKinds(t, st, "add-1")
		if slices.Contains(kinds, "tx.false") || !slices.Contains(kinds, "tx.true") {
			t.Errorf("timeline = %q; want the committed event and not the rolled back one", kinds)
		}
	})
}

func TestStore_FindOrders(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// Stored in this order, at these seconds after baseTime; o3, o4
		// and o5 share a time, so ids break the tie.
		for _, o := range []struct {
			id, integration, pkg, email string
			status                      kombo.OrderStatus
			at                          int
		}{
			{"o1", "int-a", "pkg-a", "Ada@Example.com", kombo.OrderStatusOpen, 0},
			{"o2", "int-a", "pkg-b", "bob@example.com", kombo.OrderStatusOpen, 1},
			{"o3", "int-b", "pkg-a", "ada@example.com", kombo.OrderStatusCompleted, 2},
			{"o4", "int-b", "pkg-b", "carl@example.com", kombo.OrderStatusCancelled, 2},
			{"o5", "int-a", "pkg-a", "ADA@EXAMPLE.COM", kombo.OrderStatusOpen, 2},
			{"o6", "int-c", "pkg-c", "dora@example.com", kombo.OrderStatusRejected, 3},
		} {
			clockOf(st).Set(baseTime.Add(time.Duration(o.at) * time.Second))
			mustIntake(t, st, orderIntake(t, o.id+"-ev", o.id, func(k *kombo.Order) {
				k.IntegrationID, k.PackageID, k.Candidate.Email, k.Status = o.integration, o.pkg, o.email, o.status
			}))
		}
		all := []string{"o6", "o5", "o4", "o3", "o2", "o1"}

		t.Run("Filters", func(t *testing.T) {
			tests := []struct {
				name   string
				filter orders.OrderFilter
				want   []string
			}{
				{"None", orders.OrderFilter{}, all},
				{"Status", orders.OrderFilter{Status: ptr(kombo.OrderStatusOpen)}, []string{"o5", "o2", "o1"}},
				{"StatusLowerCase", orders.OrderFilter{Status: ptr(kombo.OrderStatus("completed"))}, []string{"o3"}},
				{"State", orders.OrderFilter{State: ptr(orders.StateReceived)}, all},
				{"StateNone", orders.OrderFilter{State: ptr(orders.StateInvited)}, nil},
				{"Integration", orders.OrderFilter{IntegrationID: ptr("int-a")}, []string{"o5", "o2", "o1"}},
				{"Package", orders.OrderFilter{PackageID: ptr("pkg-a")}, []string{"o5", "o3", "o1"}},
				{"Email", orders.OrderFilter{Email: ptr("ada@example.com")}, []string{"o5", "o3", "o1"}},
				{"EmailAnyCase", orders.OrderFilter{Email: ptr(" ADA@example.COM ")}, []string{"o5", "o3", "o1"}},
				{"Combined", orders.OrderFilter{IntegrationID: ptr("int-a"), PackageID: ptr("pkg-a")}, []string{"o5", "o1"}},
				{"NoMatch", orders.OrderFilter{IntegrationID: ptr("int-z")}, nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					list, next, err := st.FindOrders(ctx, tt.filter)
					if err != nil {
						t.Fatal(err)
					}
					if got := ids(list); !slices.Equal(got, tt.want) || next != "" {
						t.Errorf("FindOrders(%+v) = %q, next %q; want %q, no next page", tt.filter, got, next, tt.want)
					}
				})
			}
		})

		t.Run("Pages", func(t *testing.T) {
			tests := []struct {
				filter orders.OrderFilter
				want   [][]string
			}{
				{orders.OrderFilter{Limit: 2}, [][]string{{"o6", "o5"}, {"o4", "o3"}, {"o2", "o1"}}},
				{orders.OrderFilter{Limit: 4}, [][]string{{"o6", "o5", "o4", "o3"}, {"o2", "o1"}}},
				{orders.OrderFilter{Limit: 6}, [][]string{all}},
				{orders.OrderFilter{Limit: 1, Email: ptr("ada@example.com")}, [][]string{{"o5"}, {"o3"}, {"o1"}}},
			}
			for _, tt := range tests {
				t.Run(fmt.Sprintf("Limit%d", tt.filter.Limit), func(t *testing.T) {
					f := tt.filter
					var pages [][]string
					for {
						list, next, err := st.FindOrders(ctx, f)
						if err != nil {
							t.Fatal(err)
						}
						pages = append(pages, ids(list))
						if next == "" || len(pages) > len(tt.want) {
							break
						}
						f.Cursor = next
					}
					if !reflect.DeepEqual(pages, tt.want) {
						t.Errorf("pages of %+v = %q; want %q", tt.filter, pages, tt.want)
					}
				})
			}
		})

		t.Run("MalformedCursor", func(t *testing.T) {
			b64 := base64.RawURLEncoding.EncodeToString
			for _, cursor := range []string{"%%%", b64([]byte("no-colon")), b64([]byte("soon:o1")), b64([]byte("123:")), "eyJ9"} {
				_, _, err := st.FindOrders(ctx, orders.OrderFilter{Cursor: cursor})
				assertCode(t, fmt.Sprintf("FindOrders(cursor %q)", cursor), err, orders.EINVALID)
			}
		})

		t.Run("Limits", func(t *testing.T) {
			// 100 more orders make 106: the default page is 100, and so is
			// a page asked for beyond the 500 maximum.
			for i := range 100 {
				if _, _, err := st.CreateOrder(ctx, kombOrder(fmt.Sprintf("bulk-%03d", i), nil), orders.SourceReconcile); err != nil {
					t.Fatal(err)
				}
			}
			for _, tt := range []struct {
				limit, want int
				more        bool
			}{{0, 100, true}, {-1, 100, true}, {500, 106, false}, {501, 100, true}, {106, 106, false}, {105, 105, true}} {
				list, next, err := st.FindOrders(ctx, orders.OrderFilter{Limit: tt.limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != tt.want || (next != "") != tt.more {
					t.Errorf("FindOrders(Limit %d) = %d orders, next %q; want %d, another page %v", tt.limit, len(list), next, tt.want, tt.more)
				}
			}
		})
	})
}
