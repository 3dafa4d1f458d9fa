package store

import (
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
)

func TestTransitionSQL(t *testing.T) {
	for _, tt := range []struct {
		t        orders.Transition
		from, to string
	}{
		{orders.Invite, "('received', 'invited', 'started')", "CASE state WHEN 'received' THEN 'invited' ELSE state END"},
		{orders.Start, "('received', 'invited')", "'started'"},
		{orders.Expire, "('received', 'invited', 'started')", "'expired'"},
	} {
		if got := transitions[tt.t]; got.from != tt.from || got.to != tt.to {
			t.Errorf("transitions[%s] = %+v; want from %s, to %s", tt.t, got, tt.from, tt.to)
		}
	}
}
