package store_test

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

// newStore returns a store on each test database, on a stub clock.
func forEachStore(t *testing.T, f func(t *testing.T, st *store.Store, clk *clock.Stub)) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			st := newStore(t, storetest.Open(t, d))
			clk := clockOf(st)
			clk.Set(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
			f(t, st, clk)
		})
	}
}

func createOrder(t *testing.T, st *store.Store, id string) *orders.Order {
	t.Helper()
	o, _, err := st.CreateOrder(context.Background(), &kombo.Order{
		ID: id, IntegrationID: "greenhouse:x", PackageID: "p", Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{Email: id + "@example.com"},
	}, orders.SourceWebhook)
	if err != nil {
		t.Fatalf("CreateOrder(%s) = %v", id, err)
	}
	return o
}

func inTx(t *testing.T, st *store.Store, fn func(tx *sql.Tx) error) error {
	t.Helper()
	tx, err := st.DB().Writer.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func setState(t *testing.T, st *store.Store, id string, state orders.State) {
	t.Helper()
	if _, err := st.DB().Writer.Exec("UPDATE orders SET state = $1 WHERE id = $2", string(state), id); err != nil {
		t.Fatal(err)
	}
}

// TestStore_InvitationsOfABatch: the statements an invitation job runs for
// all its orders at once leave out, order by order, what the single ones
// refuse: a link for an erased or unknown order, an invitation of a final
// one.
func TestStore_InvitationsOfABatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store, clk *clock.Stub) {
		ctx := context.Background()
		for _, id := range []string{"b1", "b2", "b3", "b4"} {
			createOrder(t, st, id)
		}
		setState(t, st, "b2", orders.StateStarted)
		setState(t, st, "b3", orders.StateCompleted)
		if _, err := st.EraseCandidate(ctx, "b4@example.com", orders.ActorAPI); err != nil {
			t.Fatal(err)
		}
		var added map[string]bool
		if err := inTx(t, st, func(tx *sql.Tx) (err error) {
			added, err = st.AddLinksTx(ctx, tx, []string{"b1", "b4", "nope"}, []string{"h1", "h4", "hx"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !added["b1"] || added["b4"] || added["nope"] {
			t.Errorf("AddLinksTx gave links to %v; want b1 only (b4 erased, nope unknown)", added)
		}
		if o, err := st.OpenLink(ctx, "h1", false); err != nil || o.Order.ID != "b1" {
			t.Errorf("OpenLink(h1) = %+v, %v; want b1's link", o, err)
		}
		if kinds := timelineKinds(t, st, "b1"); !slices.Contains(kinds, orders.EventLinkIssued) {
			t.Errorf("b1's timeline %q has no %s", kinds, orders.EventLinkIssued)
		}

		at := clk.Now()
		exp := at.Add(time.Hour)
		var marked []*orders.Order
		if err := inTx(t, st, func(tx *sql.Tx) (err error) {
			marked, err = st.MarkInvitedManyTx(ctx, tx, []string{"b1", "b2", "b3", "nope"}, at, &exp)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got := map[string]orders.State{}
		for _, o := range marked {
			got[o.ID] = o.State
			if !o.InvitedAt.Equal(at) || !o.ExpiresAt.Equal(exp) {
				t.Errorf("%s invited %v until %v; want %v until %v", o.ID, o.InvitedAt, o.ExpiresAt, at, exp)
			}
		}
		if len(got) != 2 || got["b1"] != orders.StateInvited || got["b2"] != orders.StateStarted {
			t.Errorf("MarkInvitedManyTx marked %v; want b1 invited and b2 still started (b3 completed, nope unknown)", got)
		}
		if o, err := st.FindOrderByID(ctx, "b3"); err != nil || o.State != orders.StateCompleted || o.InvitedAt != nil {
			t.Errorf("completed order after MarkInvitedManyTx = %+v, %v; want untouched", o, err)
		}
	})
}

func TestStore_MarkInvitedTx(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store, clk *clock.Stub) {
		ctx := context.Background()
		createOrder(t, st, "o1")
		at := clk.Now()
		exp := at.Add(14 * 24 * time.Hour)
		var got *orders.Order
		err := inTx(t, st, func(tx *sql.Tx) (err error) {
			got, err = st.MarkInvitedTx(ctx, tx, "o1", at, &exp)
			return err
		})
		if err != nil || got.State != orders.StateInvited || !got.InvitedAt.Equal(at) || !got.ExpiresAt.Equal(exp) {
			t.Fatalf("MarkInvitedTx = %+v, %v; want invited at %v until %v", got, err, at, exp)
		}

		// A started order stays started; a re-invitation moves the expiry.
		setState(t, st, "o1", orders.StateStarted)
		later := exp.Add(48 * time.Hour)
		inTx(t, st, func(tx *sql.Tx) (err error) { got, err = st.MarkInvitedTx(ctx, tx, "o1", at, &later); return err })
		if got.State != orders.StateStarted || !got.ExpiresAt.Equal(later) {
			t.Errorf("re-invited started order = %s until %v; want started until %v", got.State, got.ExpiresAt, later)
		}

		for _, state := range []orders.State{orders.StateCancelled, orders.StateCompleted, orders.StateExpired} {
			setState(t, st, "o1", state)
			err := inTx(t, st, func(tx *sql.Tx) error { _, err := st.MarkInvitedTx(ctx, tx, "o1", at, nil); return err })
			if orders.ErrorCode(err) != orders.ECONFLICT {
				t.Errorf("MarkInvitedTx(%s order) = %v; want ECONFLICT", state, err)
			}
		}
		err = inTx(t, st, func(tx *sql.Tx) error { _, err := st.MarkInvitedTx(ctx, tx, "nope", at, nil); return err })
		if orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("MarkInvitedTx(unknown) = %v; want ENOTFOUND", err)
		}
	})
}

func TestStore_ExpireTx(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store, clk *clock.Stub) {
		ctx := context.Background()
		createOrder(t, st, "o1")
		var did bool
		inTx(t, st, func(tx *sql.Tx) (err error) { did, err = st.ExpireTx(ctx, tx, "o1", clk.Now()); return err })
		o, _ := st.FindOrderByID(ctx, "o1")
		if !did || o.State != orders.StateExpired || o.ClosedAt == nil || !o.ClosedAt.Equal(clk.Now()) {
			t.Errorf("ExpireTx = %v; order %s closed %v; want expired, closed now", did, o.State, o.ClosedAt)
		}
		createOrder(t, st, "o2")
		setState(t, st, "o2", orders.StateCompleted)
		inTx(t, st, func(tx *sql.Tx) (err error) { did, err = st.ExpireTx(ctx, tx, "o2", clk.Now()); return err })
		if o, _ := st.FindOrderByID(ctx, "o2"); did || o.State != orders.StateCompleted {
			t.Errorf("ExpireTx(completed) = %v, state %s; want false, completed", did, o.State)
		}
	})
}

func TestStore_OpenLink(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store, clk *clock.Stub) {
		ctx := context.Background()
		var started atomic.Int32
		onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.OrderStarted) error {
			started.Add(1)
			return nil
		})
		createOrder(t, st, "o1")
		exp := clk.Now().Add(time.Hour)
		inTx(t, st, func(tx *sql.Tx) error { _, err := st.MarkInvitedTx(ctx, tx, "o1", clk.Now(), &exp); return err })
		if err := st.AddLink(ctx, "o1", "hash1"); err != nil {
			t.Fatal(err)
		}

		if _, err := st.OpenLink(ctx, "nope", true); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("OpenLink(unknown) = %v; want ENOTFOUND", err)
		}
		// Not recorded: a HEAD request.
		open, err := st.OpenLink(ctx, "hash1", false)
		if err != nil || open.Started || open.Order.State != orders.StateInvited {
			t.Fatalf("OpenLink(record=false) = %+v, %v; want the invited order, not started", open, err)
		}

		// Concurrent first opens: one starts the order.
		clk.Advance(time.Minute)
		var wg sync.WaitGroup
		var firsts atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				open, err := st.OpenLink(ctx, "hash1", true)
				if err != nil {
					t.Errorf("OpenLink = %v", err)
					return
				}
				if open.Started {
					firsts.Add(1)
				}
				if open.Order.State != orders.StateStarted {
					t.Errorf("OpenLink order state = %s; want started", open.Order.State)
				}
			}()
		}
		wg.Wait()
		o, _ := st.FindOrderByID(ctx, "o1")
		if firsts.Load() != 1 || started.Load() != 1 || o.StartedAt == nil || !o.StartedAt.Equal(clk.Now()) {
			t.Errorf("8 opens: %d started it, hook ran %d times, started_at %v; want 1, 1, %v", firsts.Load(), started.Load(), o.StartedAt, clk.Now())
		}
		if n := countEvents(o, orders.EventStarted); n != 1 {
			t.Errorf("order.started on the timeline %d times; want 1", n)
		}

		// Past the expiry, before the expiry job: expired, and not started.
		createOrder(t, st, "o2")
		inTx(t, st, func(tx *sql.Tx) error { _, err := st.MarkInvitedTx(ctx, tx, "o2", clk.Now(), &exp); return err })
		st.AddLink(ctx, "o2", "hash2")
		clk.Set(exp)
		open, err = st.OpenLink(ctx, "hash2", true)
		if err != nil || !open.Expired || open.Started || open.Order.State != orders.StateInvited {
			t.Errorf("OpenLink at the expiry = %+v, %v; want expired, not started", open, err)
		}
		setState(t, st, "o2", orders.StateCancelled)
		if open, err = st.OpenLink(ctx, "hash2", true); err != nil || open.Expired || open.Order.State != orders.StateCancelled {
			t.Errorf("OpenLink(cancelled) = %+v, %v; want the cancelled order, not expired", open, err)
		}
	})
}

func TestStore_RequestInvite(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store, clk *clock.Stub) {
		ctx := context.Background()
		createOrder(t, st, "o1")
		if _, err := st.RequestInvite(ctx, "o1"); orders.ErrorCode(err) != orders.ECONFLICT {
			t.Errorf("RequestInvite without a hook = %v; want ECONFLICT", err)
		}
		var asked []string
		onEvent(st, func(ctx context.Context, tx *sql.Tx, e store.InvitationRequested) error {
			o := e.Order
			asked = append(asked, o.ID)
			return nil
		})
		if _, err := st.RequestInvite(ctx, "o1"); err != nil || len(asked) != 1 {
			t.Errorf("RequestInvite = %v, hook ran for %v; want it run for o1", err, asked)
		}
		if _, err := st.RequestInvite(ctx, "nope"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("RequestInvite(unknown) = %v; want ENOTFOUND", err)
		}
		setState(t, st, "o1", orders.StateCompleted)
		if _, err := st.RequestInvite(ctx, "o1"); orders.ErrorCode(err) != orders.ECONFLICT || len(asked) != 1 {
			t.Errorf("RequestInvite(completed) = %v; want ECONFLICT and no hook", err)
		}
		o, _ := st.FindOrderByID(ctx, "o1")
		if n := countEvents(o, orders.EventInviteRequested); n != 1 {
			t.Errorf("invite.requested on the timeline %d times; want 1", n)
		}
	})
}

func countEvents(o *orders.Order, kind string) int {
	n := 0
	for _, e := range o.Timeline {
		if e.Kind() == kind {
			n++
		}
	}
	return n
}
