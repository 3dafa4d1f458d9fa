package assessgate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// TestNew_Run builds an assessgate directly, without the command line, on a
// stub clock, and runs it: a signed order is stored, the API shows it
// stamped with the stub clock's time, and Run returns once its context
// ends.
func TestNew_Run(t *testing.T) {
	const secret, token = "whsec_new_run", "new-run-token"
	at := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	pr, pw := io.Pipe()
	a, err := assessgate.New(context.Background(), assessgate.Config{
		Addr:           "127.0.0.1:0",
		DatabaseURL:    "sqlite:" + filepath.Join(t.TempDir(), "a.db"),
		WebhookSecrets: []string{secret},
		APITokens:      []string{token},
		Stdout:         pw,
		Clock:          clock.NewStub(at),
	})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no address from Run: %v", err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	body := kombotest.OrderWebhook("ev-new-run", kombotest.Order(kombotest.WithID("order-new-run")))
	req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/kombo", bytes.NewReader(body))
	req.Header = kombotest.Header(secret, body)
	resp, err := apitest.Client(t).Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /webhooks/kombo = %v, %v; want 200", resp, err)
	}
	resp.Body.Close()

	req, _ = http.NewRequest(http.MethodGet, url+"/api/v1/orders/order-new-run", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = apitest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		ID        string `json:"id"`
		CreatedAt string `json:"created_at"`
	}
	json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || o.ID != "order-new-run" || !strings.HasPrefix(o.CreatedAt, "2031-02-03T04:05:06") {
		t.Errorf("GET the order = %d %+v; want it, created at the stub clock's %v", resp.StatusCode, o, at)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v; want nil after its context ended", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of its context ending")
	}
}
