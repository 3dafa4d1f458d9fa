package client

// The client is generated from api/openapi.yaml with the oapi-codegen pinned
// in go.mod's tool directive; CI fails when the result differs from what is
// committed.
//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../api/openapi.yaml
