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

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
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
	// EventOrderErased says the order's personal data was erased (by
	// retention, on request, or after its integration was deleted): the
	// vendor's platform should erase its copy.
	EventOrderErased = "order.erased"
)

var vendorEvents = map[string]bool{
	EventOrderCreated: true, EventOrderInvited: true, EventOrderStarted: true, EventOrderReminded: true,
	EventOrderExpired: true, EventOrderCompleted: true, EventOrderCancelled: true, EventWritebackFailed: true,
	EventOrderErased: true,
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
	Logger *slog.Logger
	// Clock stamps each event with when it happened.
	Clock clock.Clock
	// HTTPClient makes the calls; NewVendor sets one with a 30s timeout
	// that does not follow redirects.
	HTTPClient *http.Client

	signer *standardwebhooks.Webhook
}

// NewVendor returns a Vendor that posts to webhookURL, signing with secret:
// "whsec_" followed by base64, as the specification has it, or any other
// string, whose bytes are then the key. An empty webhookURL returns a Vendor
// that sends nothing.
func NewVendor(logger *slog.Logger, clk clock.Clock, webhookURL, secret string) (*Vendor, error) {
	v := &Vendor{URL: webhookURL, Logger: logger, Clock: clock.Or(clk), HTTPClient: &http.Client{
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

// Enqueue inserts with q, in tx, the webhook of event for each order of os,
// in one insert. Each job keeps the order's ids and assessgate's state of
// it as os has it; Kombo's fields, which hold the personal data, are read
// when the webhook is sent (see VendorWebhookArgs). It does nothing when v
// is nil or has no URL. event must be one of the Event constants.
func (v *Vendor) Enqueue(ctx context.Context, tx *sql.Tx, q *Client, event string, os ...*orders.Order) error {
	if !v.Enabled() || len(os) == 0 {
		return nil
	}
	if !vendorEvents[event] {
		return fmt.Errorf("vendor webhook: unknown event %q", event)
	}
	params := make([]river.InsertManyParams, len(os))
	for i, o := range os {
		params[i] = river.InsertManyParams{Args: v.args(event, o)}
	}
	if _, err := q.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue vendor webhooks %s: %w", event, err)
	}
	return nil
}

// args returns the arguments of the job of one webhook about o.
func (v *Vendor) args(event string, o *orders.Order) VendorWebhookArgs {
	b := make([]byte, 16)
	rand.Read(b)
	return VendorWebhookArgs{WebhookID: "msg_" + hex.EncodeToString(b), Event: event, OrderID: o.ID,
		At: v.Clock.Now().UnixMilli(), State: newVendorOrderState(o)}
}

// VendorWebhookArgs is one webhook to the vendor's platform. It holds ids,
// states and times only, so that River's job rows hold no personal data.
type VendorWebhookArgs struct {
	// WebhookID is the webhook-id header, the same on every attempt, so the
	// receiver can drop repeats.
	WebhookID string `json:"webhook_id"`
	Event     string `json:"event"`
	OrderID   string `json:"order_id"`
	// At is when the event happened, in Unix milliseconds.
	At int64 `json:"at"`
	// State is assessgate's state of the order when the event happened.
	// The webhook's data is the order as it is when the webhook is sent,
	// with these fields as they were at the event; an order erased since
	// is sent erased. Nil in jobs enqueued before it existed: the order is
	// then sent as it is.
	State *VendorOrderState `json:"state,omitempty"`
}

// VendorOrderState is the part of an order's view (orders.View) that a
// vendor webhook keeps from when its event happened: Kombo's status and
// assessgate's state and times, none of it personal data.
type VendorOrderState struct {
	Status    kombo.OrderStatus `json:"status"`
	State     orders.State      `json:"state"`
	UpdatedAt string            `json:"updated_at"`
	InvitedAt *string           `json:"invited_at,omitempty"`
	StartedAt *string           `json:"started_at,omitempty"`
	ExpiresAt *string           `json:"expires_at,omitempty"`
	ClosedAt  *string           `json:"closed_at,omitempty"`
}

func newVendorOrderState(o *orders.Order) *VendorOrderState {
	v := orders.NewView(o)
	return &VendorOrderState{Status: v.Status, State: v.State, UpdatedAt: v.UpdatedAt,
		InvitedAt: v.InvitedAt, StartedAt: v.StartedAt, ExpiresAt: v.ExpiresAt, ClosedAt: v.ClosedAt}
}

// view returns the order's view with the state of the event, if known.
func (a *VendorWebhookArgs) view(o *orders.Order) orders.View {
	o.Timeline = nil
	v := orders.NewView(o)
	if st := a.State; st != nil {
		v.Status, v.State, v.UpdatedAt = st.Status, st.State, st.UpdatedAt
		v.InvitedAt, v.StartedAt, v.ExpiresAt, v.ClosedAt = st.InvitedAt, st.StartedAt, st.ExpiresAt, st.ClosedAt
	}
	return v
}

// Kind is River's name for the job.
func (VendorWebhookArgs) Kind() string { return "vendor_webhook" }

// VendorWebhookWorker delivers vendor webhooks.
type VendorWebhookWorker struct {
	river.WorkerDefaults[VendorWebhookArgs]
	Vendor *Vendor
	Store  *store.Store
}

// Body returns the webhook's body for the order o, in the specification's
// recommended shape: {"type": event, "timestamp": RFC 3339, "data": the
// order as GET /api/v1/orders/{id} shows it, without the timeline, in the
// state of the event}.
func (a *VendorWebhookArgs) Body(o *orders.Order) ([]byte, error) {
	return json.Marshal(struct {
		Type      string      `json:"type"`
		Timestamp string      `json:"timestamp"`
		Data      orders.View `json:"data"`
	}{a.Event, orders.FormatTime(time.UnixMilli(a.At)), a.view(o)})
}

// Work posts the webhook, signed now, and records the attempt on the
// order's timeline. Any answer but 2xx fails the job, which River retries.
func (w *VendorWebhookWorker) Work(ctx context.Context, job *river.Job[VendorWebhookArgs]) error {
	v := w.Vendor
	if !v.Enabled() {
		return river.JobCancel(errors.New("ASSESSGATE_VENDOR_WEBHOOK_URL is no longer set"))
	}
	a := job.Args
	o, err := w.Store.FindOrderByID(ctx, a.OrderID)
	if err != nil {
		if orders.ErrorCode(err) == orders.ENOTFOUND {
			return river.JobCancel(err)
		}
		return err
	}
	body, err := a.Body(o)
	if err != nil {
		return err
	}
	now := v.Clock.Now()
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
	status := 0 // no answer
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		status = resp.StatusCode
	}
	latency := time.Since(start).Milliseconds()
	log := v.Logger.With("order_id", a.OrderID, "event", a.Event, "webhook_id", a.WebhookID, "attempt", job.Attempt)

	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		log.Info("vendor webhook sent", "status", resp.StatusCode)
		return w.Store.AddEvent(ctx, a.OrderID, orders.VendorWebhookSent{
			Attempt: job.Attempt, Event: a.Event, LatencyMS: latency, Status: status, WebhookID: a.WebhookID})
	}
	reason := ""
	if err != nil {
		reason = transportError(err)
	} else {
		reason = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	log.Warn("vendor webhook failed", "err", reason)
	if err := w.Store.AddEvent(ctx, a.OrderID, orders.VendorWebhookFailed{Attempt: job.Attempt, Error: reason, Event: a.Event,
		Final:     job.Attempt >= job.MaxAttempts, // River discards the job now
		LatencyMS: latency, Status: status, WebhookID: a.WebhookID}); err != nil {
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
