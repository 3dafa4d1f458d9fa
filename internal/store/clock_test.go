package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// TestStore_Now checks that every time the store records comes from its
// clock, Store.Now, kept to the millisecond.
func TestStore_Now(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := clockOf(st)
		c.Set(time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC))
		t0 := c.Now().Truncate(time.Millisecond)

		mustIntake(t, st, integrationIntake(t, "now-integ-ev", kombo.EventIntegrationCreated, "greenhouse:now", ""))
		in := webhookIntake(t, "now-ev-1", kombo.EventInlineOrderReceived, kombOrder("now-1", func(o *kombo.Order) { o.IntegrationID = "greenhouse:now" }))
		in.TokenHash = "now-hash"
		mustIntake(t, st, in)
		t1 := c.Advance(time.Hour).Truncate(time.Millisecond)
		mustIntake(t, st, orderIntake(t, "now-ev-2", "now-1", nil))

		o, err := st.FindOrderByID(ctx, "now-1")
		if err != nil {
			t.Fatal(err)
		}
		// A duplicate delivery changes the timeline, not the order.
		if !o.CreatedAt.Equal(t0) || !o.UpdatedAt.Equal(t0) {
			t.Errorf("order created %v, updated %v; want both %v", o.CreatedAt, o.UpdatedAt, t0)
		}
		if len(o.Timeline) != 3 || !o.Timeline[0].At.Equal(t0) || !o.Timeline[1].At.Equal(t0) || !o.Timeline[2].At.Equal(t1) {
			t.Errorf("timeline = %+v; want events at %v, %v, %v", o.Timeline, t0, t0, t1)
		}
		i, err := st.FindIntegrationByID(ctx, "greenhouse:now")
		if err != nil {
			t.Fatal(err)
		}
		if !i.CreatedAt.Equal(t0) || !i.UpdatedAt.Equal(t0) {
			t.Errorf("integration created %v, updated %v; want both %v", i.CreatedAt, i.UpdatedAt, t0)
		}
		for _, tt := range []struct {
			table, where string
			want         time.Time
		}{
			{"webhook_events", "id = 'now-ev-1'", t0},
			{"webhook_events", "id = 'now-ev-2'", t1},
			{"links", "token_hash = 'now-hash'", t0},
		} {
			if n := count(t, st, tt.table, tt.where+" AND "+timeColumn[tt.table]+" = $1", tt.want.UnixMilli()); n != 1 {
				t.Errorf("%s where %s: %s is not %v", tt.table, tt.where, timeColumn[tt.table], tt.want)
			}
		}
	})
}

var timeColumn = map[string]string{"webhook_events": "received_at", "links": "created_at"}
