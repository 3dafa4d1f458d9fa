package api_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/assessgate/assessgate/api"
)

// released is the document of the last release. When releasing, copy
// api/openapi.yaml over it.
const released = "testdata/openapi-released.yaml"

// breaking returns oasdiff's breaking changes (level ERR) from base to
// revision, one line each.
func breaking(t *testing.T, base, revision []byte) []string {
	t.Helper()
	load1, err := load.NewSpecInfoFromData(openapi3.NewLoader(), base, "released.yaml")
	if err != nil {
		t.Fatal(err)
	}
	load2, err := load.NewSpecInfoFromData(openapi3.NewLoader(), revision, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), load1, load2)
	if err != nil {
		t.Fatal(err)
	}
	l := checker.NewDefaultLocalizer()
	var out []string
	for _, c := range checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.ERR) {
		out = append(out, c.SingleLineError(l, checker.ColorNever))
	}
	return out
}

func major(t *testing.T, doc []byte) int {
	t.Helper()
	d, err := api.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	m, _, _ := strings.Cut(d.Info.Version, ".")
	n, err := strconv.Atoi(m)
	if err != nil {
		t.Fatalf("info.version %q is not semantic (MAJOR.MINOR.PATCH)", d.Info.Version)
	}
	return n
}

// versionProblem is what is wrong with going from base to revision: a
// breaking change without a new major version, or a lower version.
func versionProblem(t *testing.T, base, revision []byte) string {
	t.Helper()
	from, to := major(t, base), major(t, revision)
	if to < from {
		return "info.version's major went down"
	}
	if changes := breaking(t, base, revision); len(changes) > 0 && to == from {
		return "breaking changes without a new major info.version:\n" + strings.Join(changes, "\n")
	}
	return ""
}

// TestVersion fails when api/openapi.yaml breaks the last release's
// contract and info.version does not say so.
func TestVersion(t *testing.T) {
	base, err := os.ReadFile(released)
	if err != nil {
		t.Fatal(err)
	}
	if p := versionProblem(t, base, api.YAML); p != "" {
		t.Errorf("api/openapi.yaml against %s: %s", released, p)
	}
}

// TestVersion_CatchesBreakingChanges: removing an operation or a response
// field breaks the contract, unless the major version changes; adding an
// operation does not.
func TestVersion_CatchesBreakingChanges(t *testing.T) {
	base := api.YAML
	edit := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(base, []byte(old)) {
			t.Fatalf("the document has no %q", old)
		}
		return bytes.Replace(base, []byte(old), []byte(new), 1)
	}
	removedOp := edit("  /api/v1/reconcile:\n    post:", "  /api/v1/reconcile:\n    x-removed:")
	if p := versionProblem(t, base, removedOp); p == "" {
		t.Error("an operation removed: no problem found")
	}
	v, _ := api.Parse(base)
	bumped := bytes.Replace(removedOp, []byte("version: "+v.Info.Version), []byte("version: 99.0.0"), 1)
	if p := versionProblem(t, base, bumped); p != "" {
		t.Errorf("an operation removed with a new major version: %s", p)
	}
	removedField := edit("      required: [integrations, open_orders, created, skipped]", "      required: [integrations, open_orders, skipped]")
	if p := versionProblem(t, base, removedField); p == "" {
		t.Error("a response field no longer required: no problem found")
	}
	added := edit("paths:\n", "paths:\n  /api/v1/new-thing:\n    get:\n      operationId: newThing\n      responses:\n        \"200\":\n          description: ok\n")
	if p := versionProblem(t, base, added); p != "" {
		t.Errorf("an operation added: %s", p)
	}
}
