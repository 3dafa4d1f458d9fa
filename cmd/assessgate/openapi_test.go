package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/api"
	"github.com/assessgate/assessgate/client"
	"github.com/assessgate/assessgate/internal/apitest"
)

// TestAPIDocument: assessgate serves its contract, as YAML (the file
// itself), as JSON and as a page for people, without a token.
func TestAPIDocument(t *testing.T) {
	a := startApp(t, "sqlite://"+t.TempDir()+"/a.db", nil)
	status, yaml := a.do(http.MethodGet, "/api/v1/openapi.yaml", nil, nil)
	if status != http.StatusOK || !bytes.Equal(yaml, api.YAML) {
		t.Errorf("GET /api/v1/openapi.yaml = %d, %d bytes; want 200 and api/openapi.yaml", status, len(yaml))
	}
	status, js := a.do(http.MethodGet, "/api/v1/openapi.json", nil, nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(js, &doc); status != http.StatusOK || err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/orders/{id}/result"] == nil {
		t.Errorf("GET /api/v1/openapi.json = %d, %v; openapi %q, %d paths", status, err, doc.OpenAPI, len(doc.Paths))
	}
	status, page := a.do(http.MethodGet, "/api/docs", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(page), "/api/v1/orders/{id}/result") {
		t.Errorf("GET /api/docs = %d %.200s", status, page)
	}
}

// TestClient: the generated client against a running assessgate, on both
// databases, its exchanges checked against the document.
func TestClient(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		if status, body := a.webhook(orderBody(t, "ev-client", "order-client", nil)); status != http.StatusOK {
			t.Fatalf("POST order = %d %s", status, body)
		}
		ctx := context.Background()
		c, err := client.New(a.URL, testToken, client.WithHTTPClient(apitest.Client(t)))
		if err != nil {
			t.Fatal(err)
		}

		list, err := c.ListOrdersWithResponse(ctx, &client.ListOrdersParams{Limit: new(10)})
		if err != nil || list.JSON200 == nil || len(list.JSON200.Data) != 1 || list.JSON200.Data[0].Id != "order-client" {
			t.Fatalf("ListOrders = %v, %s", err, list.Body)
		}
		if o := list.JSON200.Data[0]; o.State != client.StateReceived || o.Candidate.Email == "" || o.CreatedAt.IsZero() {
			t.Errorf("the listed order = %+v", o)
		}

		put, err := c.PutResultWithResponse(ctx, "order-client", client.ResultRequest{Status: "COMPLETED", ResultUrl: "https://vendor.example/r/1"})
		if err != nil || put.JSON202 == nil || put.JSON202.Order.State != client.StateCompleted {
			t.Fatalf("PutResult = %v, %d %s", err, put.StatusCode(), put.Body)
		}
		again, err := c.PutResultWithResponse(ctx, "order-client", client.ResultRequest{Status: "COMPLETED", ResultUrl: "https://vendor.example/r/1"})
		if err != nil || again.JSON409 == nil || again.JSON409.Error.Code != client.ErrorDetailCodeConflict || again.JSON409.Order.Id != "order-client" {
			t.Errorf("PutResult again = %v, %d %s; want 409 with the order", err, again.StatusCode(), again.Body)
		}
		missing, err := c.GetOrderWithResponse(ctx, "no-such-order")
		if err != nil || missing.JSON404 == nil || missing.JSON404.Error.Code != client.ErrorDetailCodeNotFound {
			t.Errorf("GetOrder(unknown) = %v, %d %s; want 404", err, missing.StatusCode(), missing.Body)
		}
		got, err := c.GetOrderWithResponse(ctx, "order-client")
		if err != nil || got.JSON200 == nil || got.JSON200.Timeline == nil || len(*got.JSON200.Timeline) == 0 {
			t.Fatalf("GetOrder = %v, %s", err, got.Body)
		}

		unauthorized, err := client.New(a.URL, "wrong", client.WithHTTPClient(apitest.Client(t)))
		if err != nil {
			t.Fatal(err)
		}
		denied, err := unauthorized.GetPackagesWithResponse(ctx)
		if err != nil || denied.JSON401 == nil || denied.JSON401.Error.Code != client.ErrorDetailCodeUnauthorized {
			t.Errorf("GetPackages with a wrong token = %v, %d %s; want 401", err, denied.StatusCode(), denied.Body)
		}
	})
}
