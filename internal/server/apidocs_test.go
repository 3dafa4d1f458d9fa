package server

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/api"
)

// TestRoutesAreDocumented: every route of routes.go with a method (all but
// the admin pages) is an operation of api/openapi.yaml, and every operation
// of the document is a route.
func TestRoutesAreDocumented(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	d, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		method, path := m[1], m[2]
		routes[method+" "+path] = true
		item := d.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s %s is not in api/openapi.yaml", method, path)
		}
	}
	for path, item := range d.Paths.Map() {
		for method := range item.Operations() {
			if !routes[method+" "+path] {
				t.Errorf("api/openapi.yaml has %s %s, which routes.go does not serve", method, path)
			}
		}
	}
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in routes.go: has its shape changed?", len(routes))
	}
}

// TestDocsPage: the page for people names every operation and schema.
func TestDocsPage(t *testing.T) {
	d, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := docsPage.Execute(&b, newDocsView(d)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for path, item := range d.Paths.Map() {
		for _, op := range item.Operations() {
			if !strings.Contains(page, `id="`+op.OperationID+`"`) || !strings.Contains(page, "<code>"+path+"</code>") {
				t.Errorf("the docs page lacks %s (%s)", op.OperationID, path)
			}
		}
	}
	for name := range d.Components.Schemas {
		if !strings.Contains(page, `id="`+name+`"`) {
			t.Errorf("the docs page lacks the schema %s", name)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "https://cdn") {
		t.Error("the docs page loads scripts or a CDN")
	}
}
