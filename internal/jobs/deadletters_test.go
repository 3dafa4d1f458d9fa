package jobs

import (
	"slices"
	"testing"

	"github.com/riverqueue/river/rivertype"
)

// TestNewDeadLetter: a dead letter names the order of an order's job, the
// orders of an invite_many job, and the integration of an integration's.
func TestNewDeadLetter(t *testing.T) {
	for _, c := range []struct {
		kind, args string
		order      string
		orders     []string
		integ      string
	}{
		{"invite", `{"order_id":"o1","attempts":1}`, "o1", nil, ""},
		{"invite_many", `{"order_ids":["o1","o2"]}`, "", []string{"o1", "o2"}, ""},
		{"writeback", `{"order_id":"o3","integration_id":"i1"}`, "o3", nil, "i1"},
		{"push_packages", `{"integration_id":"i2"}`, "", nil, "i2"},
	} {
		d := newDeadLetter(&rivertype.JobRow{ID: 7, Kind: c.kind, EncodedArgs: []byte(c.args), State: rivertype.JobStateDiscarded})
		if d.OrderID != c.order || !slices.Equal(d.OrderIDs, c.orders) || d.IntegrationID != c.integ {
			t.Errorf("%s %s: order %q, orders %v, integration %q; want %q, %v, %q", c.kind, c.args,
				d.OrderID, d.OrderIDs, d.IntegrationID, c.order, c.orders, c.integ)
		}
	}
}
