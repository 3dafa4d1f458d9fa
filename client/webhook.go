package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// DefaultWebhookTolerance is how far a webhook's webhook-timestamp may be
// from now before WebhookVerifier refuses it (a replayed webhook).
const DefaultWebhookTolerance = 5 * time.Minute

// MaxWebhookBytes bounds the body VerifyRequest reads.
const MaxWebhookBytes = 1 << 20

// WebhookVerifier verifies the vendor webhooks assessgate sends, signed per
// Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), and
// decodes their body.
type WebhookVerifier struct {
	wh *standardwebhooks.Webhook
	// Now is the clock the timestamp is checked against; time.Now when nil.
	Now func() time.Time
	// Tolerance is DefaultWebhookTolerance when zero.
	Tolerance time.Duration
}

// NewWebhookVerifier returns a verifier for the secret assessgate signs with
// (ASSESSGATE_VENDOR_WEBHOOK_SECRET): "whsec_" and a base64 key, or any
// other string, whose bytes are the key, as assessgate takes it.
func NewWebhookVerifier(secret string) (*WebhookVerifier, error) {
	if secret == "" {
		return nil, errors.New("webhook secret is empty")
	}
	var wh *standardwebhooks.Webhook
	var err error
	if strings.HasPrefix(secret, "whsec_") {
		wh, err = standardwebhooks.NewWebhook(secret)
	} else {
		wh, err = standardwebhooks.NewWebhookRaw([]byte(secret))
	}
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	return &WebhookVerifier{wh: wh}, nil
}

// Verify checks a webhook's signature over body and its timestamp, and
// decodes the body. Answer 2xx only when it returns no error: assessgate
// retries anything else.
func (v *WebhookVerifier) Verify(h http.Header, body []byte) (*VendorWebhook, error) {
	ts, err := strconv.ParseInt(h.Get(standardwebhooks.HeaderWebhookTimestamp), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("webhook-timestamp %q is not Unix seconds", h.Get(standardwebhooks.HeaderWebhookTimestamp))
	}
	now, tolerance := time.Now(), v.Tolerance
	if v.Now != nil {
		now = v.Now()
	}
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return nil, fmt.Errorf("webhook-timestamp is %v from now: refused as a replay", d.Round(time.Second))
	}
	if err := v.wh.VerifyIgnoringTimestamp(body, h); err != nil {
		return nil, fmt.Errorf("webhook signature: %w", err)
	}
	var event VendorWebhook
	if err := json.Unmarshal(body, &event); err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	return &event, nil
}

// VerifyRequest is Verify for the request of an HTTP handler: it reads the
// body (at most MaxWebhookBytes) and verifies it.
func (v *WebhookVerifier) VerifyRequest(r *http.Request) (*VendorWebhook, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBytes+1))
	if err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	if len(body) > MaxWebhookBytes {
		return nil, fmt.Errorf("webhook body is over %d bytes", MaxWebhookBytes)
	}
	return v.Verify(r.Header, body)
}
