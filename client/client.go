// Package client is a Go client of assessgate's vendor API, generated from
// api/openapi.yaml with oapi-codegen (client.gen.go: do not edit; run
// go generate ./client), and a verifier of the vendor webhooks
// (WebhookVerifier).
//
//	c, err := client.New("https://assessgate.example.com", os.Getenv("ASSESSGATE_API_TOKEN"))
//	resp, err := c.PutResultWithResponse(ctx, orderID, client.ResultRequest{Status: "COMPLETED", ResultUrl: url})
//	if resp.StatusCode() != http.StatusAccepted { … resp.JSON400.Error.Message … }
package client

import (
	"context"
	"net/http"
)

// New returns a client of the assessgate at server that sends token as its
// bearer token (ASSESSGATE_API_TOKEN). Give WithHTTPClient for timeouts.
func New(server, token string, opts ...ClientOption) (*ClientWithResponses, error) {
	bearer := WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
	return NewClientWithResponses(server, append([]ClientOption{bearer}, opts...)...)
}
