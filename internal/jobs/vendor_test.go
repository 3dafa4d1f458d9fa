package jobs_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/jobs/vendortest"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

// testKeyB64 is a vendor webhook key, base64.
const testKeyB64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestNewVendor(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range []struct{ url, secret, want string }{
		{"ftp://vendor.example", "zz-secret", "absolute http(s) URL"},
		{"https://vendor.example/hooks", "", "ASSESSGATE_VENDOR_WEBHOOK_SECRET is required"},
		{"https://vendor.example/hooks", "whsec_not*base64", "not base64"},
	} {
		if _, err := jobs.NewVendor(logger, nil, tt.url, tt.secret); err == nil || !strings.Contains(err.Error(), tt.want) ||
			(tt.secret != "" && strings.Contains(err.Error(), tt.secret)) {
			t.Errorf("NewVendor(%q, %q) = %v; want an error containing %q, without the secret", tt.url, tt.secret, err, tt.want)
		}
	}
	if v, err := jobs.NewVendor(logger, nil, "", ""); err != nil || v.Enabled() {
		t.Errorf("NewVendor without URL = %v, enabled %v; want a disabled vendor", err, v.Enabled())
	}
}

func TestVendor_Enqueue(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "https://vendor.example/hooks")
			e.order("o1")
			jobsList := e.jobsOf("vendor_webhook", "o1")
			if len(jobsList) != 1 {
				t.Fatalf("vendor webhooks for a new order = %d; want 1", len(jobsList))
			}
			var a jobs.VendorWebhookArgs
			json.Unmarshal(jobsList[0].EncodedArgs, &a)
			if a.Event != "order.created" || !strings.HasPrefix(a.WebhookID, "msg_") || a.At != e.clk.Now().UnixMilli() ||
				a.OrderID != "o1" || a.State == nil || a.State.State != orders.StateReceived {
				t.Errorf("webhook args = %+v; want order.created for o1, received", a)
			}
			// River's job rows hold ids and states, no personal data.
			if args := string(jobsList[0].EncodedArgs); strings.Contains(args, "o1@example.com") || strings.Contains(args, "Ada") {
				t.Errorf("webhook args %s carry personal data", args)
			}

			tx, _ := e.st.DB().Writer.Begin()
			err := e.c.Vendor.Enqueue(e.ctx, tx, e.client, "order.exploded", e.find("o1"))
			tx.Rollback()
			if err == nil {
				t.Errorf("Enqueue(unknown event) = nil; want an error")
			}

			// Without a URL (or without a Vendor) nothing is enqueued.
			off := newEnv(t, storetest.SQLite(t), "")
			off.order("o2")
			if n := len(off.jobsOf("vendor_webhook", "o2")); n != 0 {
				t.Errorf("vendor webhooks without a URL = %d; want 0", n)
			}
			tx, _ = off.st.DB().Writer.Begin()
			defer tx.Rollback()
			var nilVendor *jobs.Vendor
			if err := nilVendor.Enqueue(off.ctx, tx, off.client, jobs.EventOrderCompleted, off.find("o2")); err != nil {
				t.Errorf("(*Vendor)(nil).Enqueue = %v; want nil", err)
			}
		})
	}
}

func TestVendorWebhookWorker(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			const fails = 2
			var e *env
			rcv := vendortest.NewReceiver(t, "whsec_"+testKeyB64, fails, func() time.Time { return e.clk.Now() })
			e = newEnv(t, d, rcv.URL+"/hooks")
			e.order("o1")
			var args jobs.VendorWebhookArgs
			json.Unmarshal(e.jobsOf("vendor_webhook", "o1")[0].EncodedArgs, &args)
			w := &jobs.VendorWebhookWorker{Vendor: e.c.Vendor, Store: e.st}

			// River works a failed job again later; so does this loop.
			for attempt := 1; attempt <= fails+1; attempt++ {
				err := work[jobs.VendorWebhookArgs](e, w, args, attempt)
				if (err != nil) != (attempt <= fails) {
					t.Fatalf("attempt %d = %v; want failures for the first %d", attempt, err, fails)
				}
				e.clk.Advance(time.Duration(attempt*attempt*attempt*attempt) * time.Second)
			}
			got := rcv.Requests()
			if len(got) != fails+1 {
				t.Fatalf("receiver got %d requests; want %d", len(got), fails+1)
			}
			for i, r := range got {
				// Each attempt is signed when it is made: the clock moved between them.
				if r.VerifyErr != nil {
					t.Errorf("request %d: %v", i+1, r.VerifyErr)
				}
				if r.Header.Get("webhook-id") != args.WebhookID || string(r.Body) != string(got[0].Body) {
					t.Errorf("request %d: id %s; want the same id and body on every attempt", i+1, r.Header.Get("webhook-id"))
				}
				if r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
				}
			}
			var body struct {
				Type      string         `json:"type"`
				Timestamp string         `json:"timestamp"`
				Data      map[string]any `json:"data"`
			}
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if ts, err := time.Parse(time.RFC3339, body.Timestamp); body.Type != "order.created" || err != nil || ts.UnixMilli() != args.At ||
				body.Data["id"] != "o1" || body.Data["state"] != "received" || body.Data["candidate"].(map[string]any)["email"] != "o1@example.com" {
				t.Errorf("body = %s; want {type: order.created, timestamp: RFC 3339, data: the order as the API shows it}", got[0].Body)
			}
			if _, ok := body.Data["timeline"]; ok {
				t.Errorf("webhook data carries the timeline")
			}
			if want := e.find("o1").TenantID; want == nil || body.Data["tenant_id"] != *want {
				t.Errorf("tenant_id = %v; want the integration's origin id %v", body.Data["tenant_id"], want)
			}

			o := e.find("o1")
			failed, sent := events(o, orders.EventVendorFailed), events(o, orders.EventVendorSent)
			if len(failed) != fails || len(sent) != 1 {
				t.Fatalf("timeline: %d vendor_webhook.failed, %d sent; want %d, 1", len(failed), len(sent), fails)
			}
			if failed[0].Detail()["status"] != float64(500) || failed[0].Detail()["attempt"] != float64(1) || failed[0].Detail()["error"] != "HTTP 500" ||
				sent[0].Detail()["status"] != float64(204) || sent[0].Detail()["attempt"] != float64(fails+1) || sent[0].Detail()["webhook_id"] != args.WebhookID {
				t.Errorf("timeline details: failed %+v, sent %+v", failed[0].Detail(), sent[0].Detail())
			}

			t.Run("LastAttempt", func(t *testing.T) {
				rcv.SetFail(100)
				err := w.Work(e.ctx, &river.Job[jobs.VendorWebhookArgs]{JobRow: &rivertype.JobRow{Attempt: 25, MaxAttempts: 25}, Args: args})
				failed := events(e.find("o1"), orders.EventVendorFailed)
				if err == nil || failed[len(failed)-1].Detail()["final"] != true {
					t.Errorf("last attempt = %v, %+v; want an error recorded as final", err, failed[len(failed)-1].Detail())
				}
			})

			t.Run("Unreachable", func(t *testing.T) {
				closed := httptest.NewServer(http.NotFoundHandler())
				closed.Close()
				v, _ := jobs.NewVendor(e.c.Logger, e.clk, closed.URL+"/hooks?token=s3cret", "raw-secret")
				err := work[jobs.VendorWebhookArgs](e, &jobs.VendorWebhookWorker{Vendor: v, Store: e.st}, args, 1)
				failed := events(e.find("o1"), orders.EventVendorFailed)
				last := failed[len(failed)-1].Detail()["error"].(string)
				if err == nil || strings.Contains(last, "s3cret") || strings.Contains(err.Error(), "s3cret") || !strings.Contains(last, "refused") {
					t.Errorf("unreachable receiver = %v, recorded %q; want connection refused, without the URL", err, last)
				}
			})

			t.Run("RawSecret", func(t *testing.T) {
				rcv := vendortest.NewReceiver(t, "a raw secret", 0, e.clk.Now)
				v, _ := jobs.NewVendor(e.c.Logger, e.clk, rcv.URL, "a raw secret")
				if err := work[jobs.VendorWebhookArgs](e, &jobs.VendorWebhookWorker{Vendor: v, Store: e.st}, args, 1); err != nil {
					t.Fatalf("raw secret: %v", err)
				}
				if r := rcv.Requests()[0]; r.VerifyErr != nil {
					t.Errorf("raw secret: %v", r.VerifyErr)
				}
			})
		})
	}
}

// TestVendorWebhookArgs_Body_tenant: the vendor webhook names the order's
// tenant.
func TestVendorWebhookArgs_Body_tenant(t *testing.T) {
	tenant := "acme"
	o := &orders.Order{Order: kombo.Order{ID: "o1", IntegrationID: "greenhouse:acme"}, TenantID: &tenant, State: orders.StateReceived}
	args := jobs.VendorWebhookArgs{Event: "order.created", OrderID: "o1", At: 1}
	b, err := args.Body(o)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Data["tenant_id"] != "acme" {
		t.Errorf("body = %s, %v; want data.tenant_id acme", b, err)
	}
}
