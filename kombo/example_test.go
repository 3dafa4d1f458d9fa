package kombo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

func ExampleSign() {
	body := []byte(`{"id":"evt_123","type":"assessment:order-received"}`)
	fmt.Println(kombo.Sign("my-kombo-secret", body))
	// Output:
	// Yjg7SHsNxdD__RdNo6rWllIwcOCp3jPuW_kY0NbPUiE
}

func ExampleVerify() {
	body := []byte(`{"id":"evt_123","type":"assessment:order-received"}`)
	header := "Yjg7SHsNxdD__RdNo6rWllIwcOCp3jPuW_kY0NbPUiE"

	// While rotating the secret, accept the new and the old one.
	secrets := []string{"my-new-secret", "my-kombo-secret"}
	fmt.Println(kombo.Verify(secrets, body, header))
	// Verify the raw bytes: re-encoded JSON has another signature.
	fmt.Println(kombo.Verify(secrets, append(body, '\n'), header))
	// Output:
	// true
	// false
}

func ExampleParseWebhook() {
	secrets := []string{"whsec_example"}
	handler := func(w http.ResponseWriter, r *http.Request) {
		// Read the raw body, bounded, and verify it before decoding it.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !kombo.Verify(secrets, body, r.Header.Get(kombo.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		wh, err := kombo.ParseWebhook(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch wh.Type {
		case kombo.EventOrderReceived:
			o := wh.Order
			fmt.Printf("order %s: package %s for %s\n", o.ID, o.PackageID, o.Candidate.Email)
		case kombo.EventIntegrationCreated:
			fmt.Printf("new integration %s\n", wh.IntegrationCreated.ID)
		}
	}
	receiver := httptest.NewServer(http.HandlerFunc(handler))
	defer receiver.Close()

	// kombotest.SendWebhook delivers signed webhooks as Kombo does.
	order := json.RawMessage(`{
		"id": "B5KQKhAgTv6ZwzrfAbqbhipd",
		"integration_id": "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f",
		"package_id": "ts-coding-60",
		"status": "OPEN",
		"candidate": {"email": "maria.schneider@example.com"}
	}`)
	ctx := context.Background()
	resp, err := kombotest.SendWebhook(ctx, receiver.URL, secrets[0], kombo.EventOrderReceived, order)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	resp, err = kombotest.SendWebhook(ctx, receiver.URL, "wrong secret", kombo.EventOrderReceived, order)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("wrong secret:", resp.StatusCode)
	// Output:
	// order B5KQKhAgTv6ZwzrfAbqbhipd: package ts-coding-60 for maria.schneider@example.com
	// wrong secret: 401
}

func ExampleClient_UpdateOrderResult() {
	// A fake Kombo; in production use kombo.NewClient(apiKey).
	fake := kombotest.NewServer()
	defer fake.Close()
	const integration = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"
	fake.AddOrder(integration, kombo.Order{
		ID:        "B5KQKhAgTv6ZwzrfAbqbhipd",
		PackageID: "ts-coding-60",
		Status:    kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{Email: "maria.schneider@example.com"},
	})
	client := fake.Client()

	finished := time.Date(2026, 7, 30, 16, 42, 5, 0, time.UTC)
	result := &kombo.ResultRequest{
		Status:      kombo.OrderStatusCompleted,
		ResultURL:   "https://app.example/results/B5KQKhAgTv6ZwzrfAbqbhipd",
		CompletedAt: new(kombo.FormatTime(finished)),
		Score:       new(82.0),
		MaxScore:    new(100.0),
		Attributes: []kombo.Attribute{
			kombo.TextAttribute("Recommendation", "Strong hire"),
			kombo.SubResult("algorithms", "Algorithms", 41, 50, kombo.OrderStatusCompleted),
		},
		Attachments: []kombo.Attachment{
			{Name: "Report.pdf", ContentType: "application/pdf", DataURL: "https://files.example/report.pdf?sig=abc"},
		},
	}
	resp, err := client.UpdateOrderResult(context.Background(), integration, "B5KQKhAgTv6ZwzrfAbqbhipd", result)
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range resp.Warnings {
		log.Printf("kombo warning: %s", w.Message)
	}
	o, _ := fake.Order(integration, "B5KQKhAgTv6ZwzrfAbqbhipd")
	fmt.Println(o.Status, *fake.Results(o.ID)[0].CompletedAt)

	// A second status change is refused: the order is no longer OPEN.
	result.Status = kombo.OrderStatusCancelled
	_, err = client.UpdateOrderResult(context.Background(), integration, o.ID, result)
	var kerr *kombo.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.StatusCode, kerr.Code, kombo.IsRetryable(err))
	}
	// Output:
	// COMPLETED 2026-07-30T16:42:05.000Z
	// 400 PLATFORM.INPUT_INVALID false
}

func ExampleClient_ListOrders() {
	fake := kombotest.NewServer()
	defer fake.Close()
	const integration = "workday:HWUTwvyx2wLoSUHphiWVrp28"
	for i, status := range []kombo.OrderStatus{kombo.OrderStatusOpen, kombo.OrderStatusCompleted, kombo.OrderStatusOpen} {
		fake.AddOrder(integration, kombo.Order{
			ID:        fmt.Sprintf("order%d", i),
			PackageID: "bgcheck-standard",
			Status:    status,
			Candidate: kombo.Candidate{Email: fmt.Sprintf("candidate%d@example.com", i)},
		})
	}
	client := fake.Client()

	// Reconcile: find the orders still open, one page after the other.
	orders, err := client.ListOrders(context.Background(), integration, kombo.ListOrdersFilter{
		Statuses: []kombo.OrderStatus{kombo.OrderStatusOpen},
		PageSize: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range orders {
		fmt.Println(o.ID, o.Status, o.Candidate.Email)
	}
	fmt.Println(len(fake.Requests()), "requests")
	// Output:
	// order0 OPEN candidate0@example.com
	// order2 OPEN candidate2@example.com
	// 2 requests
}

func ExampleIsRetryable() {
	fake := kombotest.NewServer()
	defer fake.Close()
	fake.Fail(2, kombotest.Fault{Status: http.StatusServiceUnavailable, Body: "<html>503 Service Unavailable</html>"})
	client := fake.Client()
	ctx := context.Background()

	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		info, err := client.CheckAPIKey(ctx)
		if err == nil {
			fmt.Println("environment", info.EnvironmentID)
			break
		}
		if !kombo.IsRetryable(err) || attempt == 5 {
			log.Fatal(err)
		}
		fmt.Printf("attempt %d: %v\n", attempt, err)
		wait, ok := kombo.RetryAfter(err)
		if !ok {
			wait, backoff = backoff, backoff*2
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			log.Fatal(ctx.Err())
		}
	}
	// Output:
	// attempt 1: kombo: HTTP 503: Service Unavailable
	// attempt 2: kombo: HTTP 503: Service Unavailable
	// environment KombotestEnvironment0001
}
