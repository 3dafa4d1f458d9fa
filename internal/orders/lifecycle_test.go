package orders_test

import (
	"slices"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
)

func TestTransition(t *testing.T) {
	r, i, s := orders.StateReceived, orders.StateInvited, orders.StateStarted
	for _, tt := range []struct {
		t    orders.Transition
		from []orders.State
		next []orders.State // the state reached from from[k]
	}{
		{orders.Invite, []orders.State{r, i, s}, []orders.State{i, i, s}},
		{orders.Start, []orders.State{r, i}, []orders.State{s, s}},
		{orders.Complete, []orders.State{r, i, s}, []orders.State{orders.StateCompleted, orders.StateCompleted, orders.StateCompleted}},
		{orders.Cancel, []orders.State{r, i, s}, []orders.State{orders.StateCancelled, orders.StateCancelled, orders.StateCancelled}},
		{orders.Expire, []orders.State{r, i, s}, []orders.State{orders.StateExpired, orders.StateExpired, orders.StateExpired}},
	} {
		t.Run(string(tt.t), func(t *testing.T) {
			if got := tt.t.From(); !slices.Equal(got, tt.from) {
				t.Errorf("%s.From() = %v; want %v", tt.t, got, tt.from)
			}
			for _, st := range orders.States() {
				k := slices.Index(tt.from, st)
				next, ok := tt.t.Next(st)
				if ok != (k >= 0) || tt.t.Allows(st) != ok {
					t.Errorf("%s.Next(%s) = %s, %v; Allows = %v; want allowed %v", tt.t, st, next, ok, tt.t.Allows(st), k >= 0)
				}
				if k >= 0 && next != tt.next[k] {
					t.Errorf("%s.Next(%s) = %s; want %s", tt.t, st, next, tt.next[k])
				}
			}
		})
	}
	if got := orders.Transitions(); len(got) != 5 {
		t.Errorf("Transitions() = %v; want the five above", got)
	}
}

func TestState_Final(t *testing.T) {
	want := []orders.State{orders.StateCompleted, orders.StateCancelled, orders.StateExpired}
	if got := orders.FinalStates(); !slices.Equal(got, want) {
		t.Errorf("FinalStates() = %v; want %v", got, want)
	}
	for _, st := range append(orders.States(), "unknown") {
		if got := st.Final(); got != slices.Contains(want, st) {
			t.Errorf("State(%q).Final() = %v; want %v", st, got, !got)
		}
		// A final state is one no transition leaves.
		leaves := false
		for _, tr := range orders.Transitions() {
			leaves = leaves || tr.Allows(st)
		}
		if st.Valid() && st.Final() == leaves {
			t.Errorf("State(%q).Final() = %v, but a transition leaving it = %v", st, st.Final(), leaves)
		}
	}
	if orders.State("unknown").Valid() || !orders.StateStarted.Valid() {
		t.Error("Valid: want only the states of States")
	}
}

func TestOrder_LinkExpired(t *testing.T) {
	now := time.Date(2026, 7, 30, 10, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, tt := range []struct {
		state   orders.State
		expires *time.Time
		want    bool
	}{
		{orders.StateInvited, nil, false},
		{orders.StateInvited, &future, false},
		{orders.StateInvited, &now, true},
		{orders.StateStarted, &past, true},
		{orders.StateExpired, nil, true},
		{orders.StateCompleted, &past, false},
	} {
		o := &orders.Order{State: tt.state, ExpiresAt: tt.expires}
		if got := o.LinkExpired(now); got != tt.want {
			t.Errorf("Order{%s, expires %v}.LinkExpired(%v) = %v; want %v", tt.state, tt.expires, now, got, tt.want)
		}
	}
}

func TestStateNames(t *testing.T) {
	if got, want := orders.StateNames(), "received, invited, started, completed, cancelled or expired"; got != want {
		t.Errorf("StateNames() = %q; want %q", got, want)
	}
}
