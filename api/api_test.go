package api_test

import (
	"testing"

	"github.com/assessgate/assessgate/api"
)

// TestDocumentIsValid lints the document: it parses, its references
// resolve, and its examples match their schemas.
func TestDocumentIsValid(t *testing.T) {
	d, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1", d.OpenAPI)
	}
	if d.Info.Version == "" {
		t.Error("info.version is empty")
	}
	if len(d.Webhooks) == 0 {
		t.Error("no webhooks: the vendor webhooks belong in the document")
	}
}
