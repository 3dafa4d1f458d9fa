// Package api holds assessgate's contract with an assessment vendor's
// platform: openapi.yaml, the OpenAPI 3.1 document of the vendor API, the
// candidate link, the health endpoints and the vendor webhooks. The server
// serves it (GET /api/v1/openapi.yaml, .json, /api/docs), the tests check
// every request and response against it (internal/apitest), and the public
// client package is generated from it.
package api

import (
	"context"
	_ "embed"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// YAML is the document as written.
//
//go:embed openapi.yaml
var YAML []byte

var (
	loadOnce sync.Once
	doc      *openapi3.T
	loadErr  error
)

// Load returns the document, parsed and validated (once; callers must not
// change it).
func Load() (*openapi3.T, error) {
	loadOnce.Do(func() { doc, loadErr = Parse(YAML) })
	return doc, loadErr
}

// Parse parses an OpenAPI document and validates it as kin-openapi does
// (structure, references, examples against their schemas): the lint CI runs.
func Parse(b []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := d.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	return d, nil
}

// JSON returns the document as JSON.
func JSON() ([]byte, error) {
	d, err := Load()
	if err != nil {
		return nil, err
	}
	return d.MarshalJSON()
}
