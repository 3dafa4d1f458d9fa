package jobs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/orders"
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

// TestKinds: every job kind this package defines (a Kind method returning
// a string literal) is in Kinds, which the dead letters' kind is checked
// against, and Kinds names no other.
func TestKinds(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var defined []string
	re := regexp.MustCompile(`func \(\w+Args\) Kind\(\) string\s*\{\s*return "([a-z_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			defined = append(defined, string(m[1]))
		}
	}
	slices.Sort(defined)
	listed := slices.Sorted(slices.Values(Kinds))
	if !slices.Equal(defined, listed) {
		t.Errorf("jobs define the kinds %v; Kinds lists %v", defined, listed)
	}
}

// TestPlainError: a dead letter's error drops River's JobCancelError
// prefix and keeps the rest.
func TestPlainError(t *testing.T) {
	d := newDeadLetter(&rivertype.JobRow{ID: 1, Kind: "writeback", EncodedArgs: []byte(`{}`),
		Errors: []rivertype.AttemptError{{Error: "JobCancelError: kombo: 409 INTEGRATION.SETUP_INCOMPLETE: finish the setup"}}})
	if want := "kombo: 409 INTEGRATION.SETUP_INCOMPLETE: finish the setup"; d.Error != want {
		t.Errorf("dead letter error %q; want %q", d.Error, want)
	}
	if err := checkKind("write_back"); orders.ErrorCode(err) != orders.EINVALID || !strings.Contains(err.Error(), "writeback") {
		t.Errorf("checkKind(write_back) = %v; want EINVALID naming the kinds", err)
	}
}
