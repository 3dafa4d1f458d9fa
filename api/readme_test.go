package api_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/api"
)

// TestReadmeEndpointsAreDocumented: every endpoint of assessgate that the
// README (and docs/) names, as "`METHOD /path`", is an operation of the
// document, and every vendor webhook event the README lists is one of the
// document's. Kombo's own endpoints and the admin pages are not assessgate's
// API.
func TestReadmeEndpointsAreDocumented(t *testing.T) {
	d, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "README.md"))
	endpoint := regexp.MustCompile("`(GET|POST|PUT|DELETE|PATCH) (/[^` ?]*)")
	ours := regexp.MustCompile(`^/(api/|a/|webhooks/|healthz$|readyz$|metrics$)`)
	found := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range endpoint.FindAllStringSubmatch(string(text), -1) {
			method, path := m[1], strings.TrimRight(m[2], ".,;:")
			if !ours.MatchString(path) {
				continue
			}
			found++
			if item := d.Paths.Find(path); item == nil || item.GetOperation(method) == nil {
				t.Errorf("%s names %s %s, which api/openapi.yaml does not have", filepath.Base(f), method, path)
			}
		}
	}
	if found < 20 {
		t.Errorf("found only %d endpoints in the README and docs/: has their form changed?", found)
	}

	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section, _, _ := strings.Cut(string(readme)[strings.Index(string(readme), "## Vendor webhooks"):], "The body")
	events := regexp.MustCompile("`((?:order|writeback)\\.[a-z_]+)`").FindAllStringSubmatch(section, -1)
	enum := d.Components.Schemas["VendorWebhook"].Value.Properties["type"].Value.Enum
	if len(events) < 5 {
		t.Fatalf("found only %d events in the README's Vendor webhooks: has its form changed?", len(events))
	}
	for _, e := range events {
		if !slices.Contains(enum, any(e[1])) {
			t.Errorf("the README's vendor webhook %s is not in VendorWebhook's type", e[1])
		}
	}
}
