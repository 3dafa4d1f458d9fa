package client_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/client"
)

// The example of the Standard Webhooks specification, with a body that is
// a vendor webhook.
func TestWebhookVerifier(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"type": "order.started", "timestamp": "2026-11-26T10:15:00.000Z", "data": {"id": "o1", "state": "started"}}`)
	at := time.Unix(1764151200, 0)
	sign := func(secret string, body []byte) http.Header {
		// Signed by the library assessgate's sender uses, as it signs.
		v, err := client.NewWebhookVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		return client.SignForTest(v, "msg_1", at, body)
	}
	v, err := client.NewWebhookVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return at.Add(time.Minute) }
	event, err := v.Verify(sign(secret, body), body)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if event.Type != client.VendorWebhookType("order.started") || event.Data.Id != "o1" || event.Data.State != client.State("started") {
		t.Errorf("event = %+v", event)
	}

	tampered := []byte(strings.Replace(string(body), "started", "completed", 1))
	if _, err := v.Verify(sign(secret, body), tampered); err == nil {
		t.Error("a tampered body verified")
	}
	if _, err := v.Verify(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", body), body); err == nil {
		t.Error("another secret's signature verified")
	}
	v.Now = func() time.Time { return at.Add(6 * time.Minute) }
	if _, err := v.Verify(sign(secret, body), body); err == nil {
		t.Error("a webhook six minutes old verified")
	}
	if _, err := client.NewWebhookVerifier(""); err == nil {
		t.Error("an empty secret was taken")
	}
}

// TestWebhookVerifier_SpecVector checks against the specification's own
// signature, which no code of ours made.
func TestWebhookVerifier_SpecVector(t *testing.T) {
	v, err := client.NewWebhookVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1614265330, 0) }
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	// The specification's body is not a vendor webhook, but it is JSON.
	if _, err := v.Verify(h, []byte(`{"test": 2432232314}`)); err != nil {
		t.Errorf("Verify(spec example) = %v", err)
	}
}
