package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// The events sent to the vendor's platform. The results write-back sends
// the last three.
const (
	EventOrderCreated    = "order.created"
	EventOrderInvited    = "order.invited"
	EventOrderStarted    = "order.started"
	EventOrderReminded   = "order.reminded"
	EventOrderExpired    = "order.expired"
	EventOrderCompleted  = "order.completed"
	EventOrderCancelled  = "order.cancelled"
	EventWritebackFailed = "writeback.failed"
)

var vendorEvents = map[string]bool{
	EventOrderCreated: true, EventOrderInvited: true, EventOrderStarted: true, EventOrderReminded: true,
	EventOrderExpired: true, EventOrderCompleted: true, EventOrderCancelled: true, EventWritebackFailed: true,
}

// Vendor sends events to the vendor's platform as webhooks signed per the
// Standard Webhooks specification (headers webhook-id, webhook-timestamp and
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>"). Each
// event is a River job inserted in the transaction that causes it, so none
// is lost; failed deliveries are retried by River with backoff and, after
// the last attempt, discarded like any other job.
type Vendor struct {
	// URL receives the webhooks; empty sends none.
	URL    string
	Store  *store.Store
	Logger *slog.Logger
	// HTTPClient makes the calls; NewVendor sets one with a 30s timeout
	// that does not follow redirects.
	HTTPClient *http.Client

	signer *standardwebhooks.Webhook
}

// NewVendor returns a Vendor that posts to webhookURL, signing with secret:
// "whsec_" followed by base64, as the specification has it, or any other
// string, whose bytes are then the key. An empty webhookURL returns a Vendor
// that sends nothing.
func NewVendor(st *store.Store, logger *slog.Logger, webhookURL, secret string) (*Vendor, error) {
	v := &Vendor{URL: webhookURL, Store: st, Logger: logger, HTTPClient: &http.Client{
		Timeout: 30 * time.Second,
		// A redirect is not a delivery; the vendor fixes the URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if webhookURL == "" {
		return v, nil
	}
	if u, err := url.Parse(webhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("ASSESSGATE_VENDOR_WEBHOOK_URL is not an absolute http(s) URL")
	}
	if secret == "" {
		return nil, errors.New("ASSESSGATE_VENDOR_WEBHOOK_SECRET is required with ASSESSGATE_VENDOR_WEBHOOK_URL: the vendor's platform verifies each webhook with it")
	}
	var err error
	if strings.HasPrefix(secret, "whsec_") {
		v.signer, err = standardwebhooks.NewWebhook(secret)
		if err != nil {
			return nil, errors.New(`ASSESSGATE_VENDOR_WEBHOOK_SECRET starts with "whsec_" but the rest is not base64`)
		}
	} else {
		v.signer, _ = standardwebhooks.NewWebhookRaw([]byte(secret))
	}
	return v, nil
}

// Enabled reports whether v sends webhooks.
func (v *Vendor) Enabled() bool { return v != nil && v.URL != "" }

// Enqueue inserts, in tx, the webhook of event for an order: its body
// carries the order as it stands in tx, as GET /api/v1/orders/{id} shows it
// but without the timeline. It does nothing when v is nil or has no URL.
// event must be one of the Event constants.
func (v *Vendor) Enqueue(ctx context.Context, tx *sql.Tx, client *Client, event, orderID string) error {
	if !v.Enabled() {
		return nil
	}
	if !vendorEvents[event] {
		return fmt.Errorf("vendor webhook: unknown event %q", event)
	}
	o, err := v.Store.FindOrderByIDTx(ctx, tx, orderID)
	if err != nil {
		return err
	}
	data, err := json.Marshal(orders.NewView(o))
	if err != nil {
		return fmt.Errorf("encode order %s: %w", orderID, err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	_, err = client.InsertTx(ctx, tx, VendorWebhookArgs{
		WebhookID: "msg_" + hex.EncodeToString(b), Event: event, OrderID: orderID,
		At: v.Store.Now().UnixMilli(), Data: data,
	}, nil)
	if err != nil {
		return fmt.Errorf("enqueue vendor webhook %s: %w", event, err)
	}
	return nil
}

// VendorWebhookArgs is one webhook to the vendor's platform.
type VendorWebhookArgs struct {
	// WebhookID is the webhook-id header, the same on every attempt, so the
	// receiver can drop repeats.
	WebhookID string `json:"webhook_id"`
	Event     string `json:"event"`
	OrderID   string `json:"order_id"`
	// At is when the event happened, in Unix milliseconds.
	At int64 `json:"at"`
	// Data is the order when the event happened.
	Data json.RawMessage `json:"data"`
}

// Kind is River's name for the job.
func (VendorWebhookArgs) Kind() string { return "vendor_webhook" }

// VendorWebhookWorker delivers vendor webhooks.
type VendorWebhookWorker struct {
	river.WorkerDefaults[VendorWebhookArgs]
	Vendor *Vendor
}

// Body returns the webhook's body, in the specification's recommended
// shape: {"type": event, "timestamp": RFC 3339, "data": the order}.
func (a *VendorWebhookArgs) Body() ([]byte, error) {
	return json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{a.Event, orders.FormatTime(time.UnixMilli(a.At)), a.Data})
}

// Work posts the webhook, signed now, and records the attempt on the
// order's timeline. Any answer but 2xx fails the job, which River retries.
func (w *VendorWebhookWorker) Work(ctx context.Context, job *river.Job[VendorWebhookArgs]) error {
	v := w.Vendor
	if !v.Enabled() {
		return river.JobCancel(errors.New("ASSESSGATE_VENDOR_WEBHOOK_URL is no longer set"))
	}
	a := job.Args
	body, err := a.Body()
	if err != nil {
		return err
	}
	now := v.Store.Now()
	signature, err := v.signer.Sign(a.WebhookID, now, body)
	if err != nil {
		return err
	}
	reqCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, v.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "assessgate")
	req.Header.Set(standardwebhooks.HeaderWebhookID, a.WebhookID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, signature)

	start := time.Now()
	resp, err := v.HTTPClient.Do(req)
	detail := map[string]any{"event": a.Event, "webhook_id": a.WebhookID, "attempt": job.Attempt}
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		detail["status"] = resp.StatusCode
	}
	detail["latency_ms"] = time.Since(start).Milliseconds()
	log := v.Logger.With("order_id", a.OrderID, "event", a.Event, "webhook_id", a.WebhookID, "attempt", job.Attempt)

	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		log.Info("vendor webhook sent", "status", resp.StatusCode)
		return v.Store.AddEvent(ctx, a.OrderID, orders.EventVendorSent, detail)
	}
	reason := ""
	if err != nil {
		reason = transportError(err)
	} else {
		reason = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	detail["error"] = reason
	if job.Attempt >= job.MaxAttempts {
		detail["final"] = true // River discards the job now
	}
	log.Warn("vendor webhook failed", "err", reason)
	if err := v.Store.AddEvent(ctx, a.OrderID, orders.EventVendorFailed, detail); err != nil {
		return err
	}
	return fmt.Errorf("vendor webhook %s of order %s: %s", a.Event, a.OrderID, reason)
}

// transportError describes a failed call without its URL, which may carry
// credentials.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	return err.Error()
}
