package store_test

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// gcForEachDB runs f with a fresh store on each test database, with an
// OrdersCreated hook that records the orders each transaction created.
func gcForEachDB(t *testing.T, f func(t *testing.T, st *store.Store, created func() [][]string)) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			db := storetest.Open(t, d)
			st := newStore(t, db)
			var mu sync.Mutex
			var calls [][]string
			onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.OrdersCreated) error {
				os := e.Orders
				var ids []string
				for _, o := range os {
					ids = append(ids, o.ID)
				}
				mu.Lock()
				calls = append(calls, ids)
				mu.Unlock()
				return nil
			})
			f(t, st, func() [][]string {
				mu.Lock()
				defer mu.Unlock()
				return append([][]string(nil), calls...)
			})
		})
	}
}

// gcIntake returns an order webhook for order id with event "ev-"+id.
func gcIntake(t *testing.T, id, integrationID string) *store.Intake {
	t.Helper()
	body := kombotest.OrderWebhook("ev-"+id, kombotest.Order(kombotest.WithID(id), kombotest.WithIntegration(integrationID),
		kombotest.WithPackage("pkg"), kombotest.WithEmail(id+"@example.com")))
	w, err := kombo.ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	return &store.Intake{Webhook: w, Body: body}
}

// intakeTogether stores the intakes in one transaction: they are queued
// at once, as webhooks that arrived while the previous transaction
// committed (store.IntakeTogether). It returns each intake's error.
func intakeTogether(t *testing.T, st *store.Store, ins []*store.Intake) []error {
	t.Helper()
	var errs []error
	inTime(t, func() { _, errs = store.IntakeTogether(st, context.Background(), ins) })
	return errs
}

// inTime runs f and fails the test if it takes more than 30 seconds.
func inTime(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("group commit did not answer within 30s")
	}
}

func countRows(t *testing.T, st *store.Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	if err := st.DB().Writer.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestGroupCommit_SharesTransactions(t *testing.T) {
	gcForEachDB(t, func(t *testing.T, st *store.Store, created func() [][]string) {
		const n = 40
		var ins []*store.Intake
		for i := range n {
			ins = append(ins, gcIntake(t, fmt.Sprintf("shared-%02d", i), "greenhouse:a"))
		}
		// A redelivery of the first, in the same batch: stored once.
		ins = append(ins, gcIntake(t, "shared-00", "greenhouse:a"))
		for i, err := range intakeTogether(t, st, ins) {
			if err != nil {
				t.Errorf("Intake #%d = %v; want nil", i, err)
			}
		}
		s := st.GroupCommitStats()
		if s.Transactions != 1 || s.Items != n+1 || s.Largest != n+1 {
			t.Errorf("stats = %+v; want %d webhooks in 1 transaction", s, n+1)
		}
		if got := countRows(t, st, "orders", "id LIKE 'shared-%'"); got != n {
			t.Errorf("orders = %d; want %d", got, n)
		}
		if calls := created(); len(calls) != 1 || len(calls[0]) != n {
			t.Errorf("OrdersCreated calls = %v; want one with the %d new orders", calls, n)
		}

		// Without group commit every webhook has a transaction of its own.
		st = newStore(t, st.DB(), withGroupCommit(store.GroupCommit{MaxItems: 1}), withEventsOf(st))
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.Intake(context.Background(), gcIntake(t, fmt.Sprintf("alone-%d", i), "greenhouse:a")); err != nil {
					t.Errorf("Intake = %v", err)
				}
			}()
		}
		wg.Wait()
		if got := len(created()); got != 11 {
			t.Errorf("OrdersCreated calls = %d; want 1 + 10 (one per transaction)", got)
		}
	})
}

// refuseOrder makes the database refuse to insert the order with id, at the
// statement (deferred false) or at the commit (deferred true).
func refuseOrder(t *testing.T, st *store.Store, id string, deferred bool) {
	t.Helper()
	var stmts []string
	if st.DB().Dialect == store.SQLite {
		if deferred {
			// A deferred foreign key is checked at COMMIT, which then fails.
			stmts = []string{
				`CREATE TABLE commit_guard_parent (id TEXT PRIMARY KEY)`,
				`CREATE TABLE commit_guard (parent TEXT REFERENCES commit_guard_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
				fmt.Sprintf(`CREATE TRIGGER refuse_commit AFTER INSERT ON orders WHEN NEW.id = '%s'
					BEGIN INSERT INTO commit_guard VALUES ('missing'); END`, id),
			}
		} else {
			stmts = []string{fmt.Sprintf(`CREATE TRIGGER refuse_%s BEFORE INSERT ON orders WHEN NEW.id = '%s'
				BEGIN SELECT RAISE(ABORT, 'test refuses this order'); END`, strings.ReplaceAll(id, "-", "_"), id)}
		}
	} else {
		stmts = []string{fmt.Sprintf(`CREATE FUNCTION refuse_order() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.id = '%s' THEN RAISE EXCEPTION 'test refuses this order'; END IF; RETURN NEW; END $$`, id)}
		if deferred {
			stmts = append(stmts, `CREATE CONSTRAINT TRIGGER refuse_order AFTER INSERT ON orders
				DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_order()`)
		} else {
			stmts = append(stmts, `CREATE TRIGGER refuse_order BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_order()`)
		}
	}
	for _, s := range stmts {
		if _, err := st.DB().Writer.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestGroupCommit_FailingWebhookFailsOnlyItself(t *testing.T) {
	gcForEachDB(t, func(t *testing.T, st *store.Store, created func() [][]string) {
		refuseOrder(t, st, "item-bad", false)
		// An integration that takes no orders, known before the batch.
		inactive := `{"id":"ev-inactive","type":"integration-state-changed","data":{"integration_id":"lever:off","integration_tool":"lever",
			"integration_category":"ATS","state":"INACTIVE","end_user":{"organization_name":"Org","creator_email":null,"origin_id":null}}}`
		w, err := kombo.ParseWebhook([]byte(inactive))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Intake(context.Background(), &store.Intake{Webhook: w, Body: []byte(inactive)}); err != nil {
			t.Fatal(err)
		}

		ins := []*store.Intake{
			gcIntake(t, "item-a", "greenhouse:a"),
			gcIntake(t, "item-bad", "greenhouse:a"),
			gcIntake(t, "item-b", "greenhouse:a"),
			gcIntake(t, "item-inactive", "lever:off"),
			gcIntake(t, "item-c", "greenhouse:a"),
		}
		before, redone := st.GroupCommitStats().Transactions, st.GroupCommitStats().Redone
		errs := intakeTogether(t, st, ins)
		// Written a table at a time, the refused order fails the batch's
		// statement; the batch is then written again one by one, in one
		// transaction.
		if n := st.GroupCommitStats().Transactions - before; n != 2 {
			t.Errorf("transactions = %d; want the five webhooks in one, then again in one", n)
		}
		if n := st.GroupCommitStats().Redone - redone; n != 1 {
			t.Errorf("batches redone one by one = %d; want 1", n)
		}
		for i, id := range []string{"item-a", "item-bad", "item-b", "item-inactive", "item-c"} {
			err := errs[i]
			switch id {
			case "item-bad":
				if !store.IsUnavailable(err) {
					t.Errorf("Intake(%s) = %v; want an unavailable error (503)", id, err)
				}
			case "item-inactive":
				if orders.ErrorCode(err) != orders.EUNPROCESSABLE {
					t.Errorf("Intake(%s) = %v; want EUNPROCESSABLE (422)", id, err)
				}
			default:
				if err != nil {
					t.Errorf("Intake(%s) = %v; want nil", id, err)
				}
			}
		}
		if n := countRows(t, st, "orders", "id IN ('item-a', 'item-b', 'item-c')"); n != 3 {
			t.Errorf("good orders stored = %d; want 3", n)
		}
		// Nothing half-written of the failed ones: their events went too.
		for _, id := range []string{"item-bad", "item-inactive"} {
			if n := countRows(t, st, "orders", "id = $1", id) + countRows(t, st, "webhook_events", "id = $1", "ev-"+id) +
				countRows(t, st, "order_events", "order_id = $1", id); n != 0 {
				t.Errorf("%s left %d rows; want none", id, n)
			}
		}
		if calls := created(); len(calls) != 1 || strings.Join(calls[0], ",") != "item-a,item-b,item-c" {
			t.Errorf("OrdersCreated calls = %v; want one with item-a, item-b and item-c", calls)
		}
	})
}

func TestGroupCommit_CommitFailureFailsEveryWebhook(t *testing.T) {
	gcForEachDB(t, func(t *testing.T, st *store.Store, created func() [][]string) {
		refuseOrder(t, st, "commit-bad", true)
		ids := []string{"commit-a", "commit-bad", "commit-b"}
		var ins []*store.Intake
		for _, id := range ids {
			ins = append(ins, gcIntake(t, id, "greenhouse:a"))
		}
		for i, err := range intakeTogether(t, st, ins) {
			if !store.IsUnavailable(err) {
				t.Errorf("Intake(%s) = %v; want an unavailable error (503): its transaction did not commit", ids[i], err)
			}
		}
		if n := countRows(t, st, "orders", "") + countRows(t, st, "webhook_events", "") + countRows(t, st, "order_events", ""); n != 0 {
			t.Errorf("%d rows stored by a transaction that failed to commit; want none", n)
		}
		// The store carries on: the next batch commits.
		if _, err := st.Intake(context.Background(), gcIntake(t, "commit-later", "greenhouse:a")); err != nil {
			t.Errorf("Intake after a failed commit = %v; want nil", err)
		}
	})
}

func TestGroupCommit_CallerGone(t *testing.T) {
	gcForEachDB(t, func(t *testing.T, st *store.Store, created func() [][]string) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := st.Intake(ctx, gcIntake(t, "gone", "greenhouse:a"))
		if !store.IsUnavailable(err) {
			t.Errorf("Intake with a cancelled context = %v; want an unavailable error", err)
		}
		// A cancelled caller never blocks the others.
		if _, err := st.Intake(context.Background(), gcIntake(t, "stayed", "greenhouse:a")); err != nil {
			t.Errorf("Intake = %v", err)
		}
		if n := countRows(t, st, "orders", "id = 'stayed'"); n != 1 {
			t.Errorf("orders = %d; want 1", n)
		}
	})
}

func TestGroupCommit_AddEventShares(t *testing.T) {
	gcForEachDB(t, func(t *testing.T, st *store.Store, created func() [][]string) {
		if _, err := st.Intake(context.Background(), gcIntake(t, "events", "greenhouse:a")); err != nil {
			t.Fatal(err)
		}
		before := st.GroupCommitStats()
		const n = 20
		// What AddEvent hands to Store.Write.
		var fns []func(ctx context.Context, tx *sql.Tx) error
		for i := range n {
			fns = append(fns, func(ctx context.Context, tx *sql.Tx) error {
				return st.AddEventTx(ctx, tx, "events", orders.UnknownEvent{Name: "test.event", Detail: map[string]any{"i": i}})
			})
		}
		var errs []error
		inTime(t, func() { errs = store.WriteTogether(st, context.Background(), fns) })
		for i, err := range errs {
			if err != nil {
				t.Errorf("AddEvent #%d = %v", i, err)
			}
		}
		after := st.GroupCommitStats()
		if after.Items-before.Items != n || after.Transactions-before.Transactions != 1 {
			t.Errorf("stats before %+v, after %+v; want %d writes in one transaction", before, after, n)
		}
		if got := countRows(t, st, "order_events", "order_id = 'events' AND kind = 'test.event'"); got != n {
			t.Errorf("events = %d; want %d", got, n)
		}
	})
}

// TestGroupCommit_BatchMatchesBatchesOfOne sends the same webhooks to two
// stores: to one in a single batch, which group commit writes a table at a
// time, and to the other one at a time, each a batch of one in a
// transaction of its own, in the order the batch is written in. Every
// answer and every row must be the same: new orders, redeliveries within
// the batch and of earlier events, a second event for an order, inline
// orders with their links, an erased order's redelivery, integrations
// created, deleted and changing state (one of them refusing a later order
// of the batch), an integration that takes no orders, and other events.
func TestGroupCommit_BatchMatchesBatchesOfOne(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			fresh := func(opts ...func(*store.Config)) *store.Store {
				if d.Name == "postgres" {
					d, _ = storetest.Postgres(t)
				} else {
					d = storetest.SQLite(t)
				}
				st := newStore(t, storetest.Open(t, d), opts...)
				clockOf(st).Set(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
				return st
			}
			batched, single := fresh(), fresh(withGroupCommit(store.GroupCommit{MaxItems: 1}))

			ctx := context.Background()
			integration := func(eventID, typ, id, state string) *store.Intake {
				return integrationIntake(t, eventID, typ, id, state)
			}
			off := integration("ev-off", kombo.EventIntegrationStateChanged, "lever:off", kombo.IntegrationStateInactive)
			before := []*store.Intake{gcIntake(t, "pre", "greenhouse:a"), gcIntake(t, "gone", "greenhouse:a"), off}
			for _, st := range []*store.Store{batched, single} {
				for _, in := range before {
					if _, err := st.Intake(ctx, in); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := st.EraseCandidate(ctx, "gone@example.com", orders.ActorAPI); err != nil {
					t.Fatal(err)
				}
			}

			inline := func(id, token string) *store.Intake {
				in := gcIntake(t, id, "greenhouse:a")
				in.Webhook.Type = kombo.EventInlineOrderReceived
				in.TokenHash = token
				return in
			}
			again := func(in *store.Intake, eventID string) *store.Intake {
				w := *in.Webhook
				w.ID = eventID
				return &store.Intake{Webhook: &w, Body: in.Body}
			}
			closing := integration("ev-closing", kombo.EventIntegrationStateChanged, "greenhouse:closing", kombo.IntegrationStateInactive)
			ins := []*store.Intake{
				gcIntake(t, "new-1", "greenhouse:a"),
				gcIntake(t, "new-1", "greenhouse:a"),                      // the same event twice in one batch
				again(gcIntake(t, "new-1", "greenhouse:a"), "ev-new-1-b"), // a second event for it
				gcIntake(t, "pre", "greenhouse:a"),                        // an earlier event again
				again(gcIntake(t, "pre", "greenhouse:a"), "ev-pre-b"),     // a new event for an earlier order
				again(gcIntake(t, "gone", "greenhouse:a"), "ev-gone-b"),   // and for an erased one
				inline("inline-1", "token-1"),
				gcIntake(t, "new-2", "greenhouse:a"),
				gcIntake(t, "refused", "lever:off"),
				gcIntake(t, "late", "greenhouse:closing"), // refused: its integration stops in this batch
				closing,
				closing, // twice in one batch
				off,     // an earlier integration event again
				integration("ev-made", kombo.EventIntegrationCreated, "ashby:made", ""),
				gcIntake(t, "made-1", "ashby:made"),
				integration("ev-ended", kombo.EventIntegrationDeleted, "workday:ended", ""),
				webhookIntake(t, "ev-flow", kombo.EventConnectionFlowFailed, map[string]any{"integration_tool": "workday"}),
			}
			answer := func(res *store.IntakeResult, err error) string {
				switch {
				case err != nil:
					return "error " + string(orders.ErrorCode(err))
				case res.Order == nil:
					return fmt.Sprintf("no order duplicate=%v", res.Duplicate)
				}
				return fmt.Sprintf("order %s %s duplicate=%v erased=%v", res.Order.ID, res.Order.State, res.Duplicate, res.Order.ErasedAt != nil)
			}
			before0 := batched.GroupCommitStats()
			var res []*store.IntakeResult
			var errs []error
			inTime(t, func() { res, errs = store.IntakeTogether(batched, ctx, ins) })
			got := make([]string, len(ins))
			for i := range ins {
				got[i] = answer(res[i], errs[i])
			}
			if s := batched.GroupCommitStats(); s.Transactions-before0.Transactions != 1 || s.Redone != before0.Redone {
				t.Fatalf("the batch took %d transactions, %d redone; want 1 and none", s.Transactions-before0.Transactions, s.Redone-before0.Redone)
			}

			// One at a time, in the order the batch was written: by order
			// id (none, for webhooks about no order), then event id.
			orderID := func(w *kombo.Webhook) string {
				if w.Order == nil {
					return ""
				}
				return w.Order.ID
			}
			order := make([]int, len(ins))
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, b int) int {
				wa, wb := ins[a].Webhook, ins[b].Webhook
				return cmp.Or(cmp.Compare(orderID(wa), orderID(wb)), cmp.Compare(wa.ID, wb.ID))
			})
			want := make([]string, len(ins))
			for _, i := range order {
				want[i] = answer(single.Intake(ctx, ins[i]))
			}
			// Two deliveries of one event may be answered either way round
			// (which of them the batch took first is up to the scheduler):
			// compare the answers of each event.
			byEvent := func(answers []string) map[string][]string {
				m := map[string][]string{}
				for i, a := range answers {
					m[ins[i].Webhook.ID] = append(m[ins[i].Webhook.ID], a)
				}
				for _, as := range m {
					slices.Sort(as)
				}
				return m
			}
			gotBy, wantBy := byEvent(got), byEvent(want)
			for id, w := range wantBy {
				if !slices.Equal(gotBy[id], w) {
					t.Errorf("event %s: batched %q; one by one %q", id, gotBy[id], w)
				}
			}
			// The batch is not trivially the same: it refused what it must.
			for id, w := range map[string]string{"ev-refused": "error unprocessable", "ev-late": "error unprocessable", "ev-made-1": "order made-1 received duplicate=false erased=false"} {
				if a := gotBy[id]; len(a) != 1 || a[0] != w {
					t.Errorf("event %s: batched %q; want %q", id, a, w)
				}
			}
			for _, q := range []string{
				"SELECT id, integration_id, state, source, COALESCE(event_id, ''), email, data, COALESCE(erased_at, 0) FROM orders ORDER BY id",
				"SELECT id, type, COALESCE(order_id, ''), COALESCE(integration_id, ''), body FROM webhook_events ORDER BY id",
				"SELECT order_id, kind, detail FROM order_events ORDER BY order_id, id",
				"SELECT token_hash, order_id FROM links ORDER BY token_hash",
				"SELECT id, tool, state, COALESCE(setup_status, ''), COALESCE(deleted_at, 0), updated_at FROM integrations ORDER BY id",
			} {
				b, s := dumpRows(t, batched, q), dumpRows(t, single, q)
				if !slices.Equal(b, s) {
					t.Errorf("%s\nbatched:\n  %s\none by one:\n  %s", q, strings.Join(b, "\n  "), strings.Join(s, "\n  "))
				}
			}
		})
	}
}

// parseIntake returns the webhook of body.
func parseIntake(t *testing.T, body string) *store.Intake {
	t.Helper()
	w, err := kombo.ParseWebhook([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return &store.Intake{Webhook: w, Body: []byte(body)}
}

// dumpRows returns the rows of q, each as its columns' text.
func dumpRows(t *testing.T, st *store.Store, q string) []string {
	t.Helper()
	rows, err := st.DB().Reader.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprint(&b, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
