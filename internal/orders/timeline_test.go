package orders_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// timelineCases pairs a value of every kind with the detail assessgate
// wrote for it as a map before the kinds were types: the JSON of both must
// stay the same, byte for byte.
var timelineCases = []struct {
	data   orders.EventData
	detail map[string]any
	says   string
}{
	{orders.OrderReceived{EventID: "ev-1", Source: orders.SourceWebhook},
		map[string]any{"source": "webhook", "event_id": "ev-1"}, "Order received from Kombo (webhook)"},
	{orders.OrderReceived{Source: orders.SourceReconcile},
		map[string]any{"source": "reconcile"}, "Order received from Kombo (reconcile)"},
	{orders.OrderDuplicate{EventID: "ev-2", Source: orders.SourceInline},
		map[string]any{"event_id": "ev-2", "source": "inline"}, "Order delivered again (inline); nothing changed"},
	{orders.LinkIssued{}, map[string]any{}, "Candidate link made (only a hash of its token is kept)"},
	{orders.MailSent{Attempt: 1, ExpiresAt: "2026-08-06T10:00:00.000Z", LatencyMS: 12, Mail: "invitation", MessageID: "<m-1@x>"},
		map[string]any{"mail": "invitation", "attempt": 1, "latency_ms": int64(12), "message_id": "<m-1@x>", "expires_at": "2026-08-06T10:00:00.000Z"},
		"E-mail sent: invitation"},
	{orders.MailSent{Attempt: 2, Mail: "reminder"},
		map[string]any{"mail": "reminder", "attempt": 2, "latency_ms": int64(0), "message_id": ""}, "E-mail sent: reminder"},
	{orders.MailFailed{Attempt: 1, Error: "smtp: 550 no", LatencyMS: 3, Mail: "invitation", SMTPCode: 550},
		map[string]any{"mail": "invitation", "attempt": 1, "latency_ms": int64(3), "error": "smtp: 550 no", "smtp_code": 550},
		"E-mail failed: invitation — smtp: 550 no"},
	{orders.MailFailed{Attempt: 1, Error: "dial: refused", Mail: "invitation"},
		map[string]any{"mail": "invitation", "attempt": 1, "latency_ms": int64(0), "error": "dial: refused"},
		"E-mail failed: invitation — dial: refused"},
	{orders.MailSkipped{Mail: "reminder", Reason: "already reminded"},
		map[string]any{"mail": "reminder", "reason": "already reminded"}, "E-mail not sent: reminder — already reminded"},
	{orders.OrderStarted{}, map[string]any{}, "Candidate opened the link"},
	{orders.OrderExpired{ExpiresAt: "2026-08-06T10:00:00.000Z", Started: true},
		map[string]any{"expires_at": "2026-08-06T10:00:00.000Z", "started": true}, "Invitation expired"},
	{orders.InviteRequested{}, map[string]any{}, "New invitation requested"},
	{orders.WritebackSkipped{Reason: "expiry write-back is off"},
		map[string]any{"reason": "expiry write-back is off"}, "Not written back to Kombo: expiry write-back is off"},
	{orders.WritebackSkipped{Reason: "the integration was deleted", ResultID: 7},
		map[string]any{"result_id": int64(7), "reason": "the integration was deleted"}, "Not written back to Kombo: the integration was deleted"},
	{orders.VendorWebhookSent{Attempt: 1, Event: "order.completed", LatencyMS: 5, Status: 204, WebhookID: "wh-1"},
		map[string]any{"event": "order.completed", "webhook_id": "wh-1", "attempt": 1, "status": 204, "latency_ms": int64(5)},
		"Vendor webhook order.completed delivered (HTTP 204)"},
	{orders.VendorWebhookFailed{Attempt: 3, Error: "timeout", Event: "order.invited", Final: true, LatencyMS: 30000, WebhookID: "wh-2"},
		map[string]any{"event": "order.invited", "webhook_id": "wh-2", "attempt": 3, "latency_ms": int64(30000), "error": "timeout", "final": true},
		"Vendor webhook order.invited failed: timeout"},
	{orders.VendorWebhookFailed{Attempt: 1, Error: "HTTP 500", Event: "order.invited", LatencyMS: 2, Status: 500, WebhookID: "wh-3"},
		map[string]any{"event": "order.invited", "webhook_id": "wh-3", "attempt": 1, "status": 500, "latency_ms": int64(2), "error": "HTTP 500"},
		"Vendor webhook order.invited failed: HTTP 500"},
	{orders.OrderErased{Reason: orders.ErasedRequest}, map[string]any{"reason": "request"}, "order.erased"},
	{orders.ResultAccepted{ResultID: 3, Status: kombo.OrderStatusCompleted},
		map[string]any{"result_id": int64(3), "status": "COMPLETED"}, "Result COMPLETED accepted from the vendor's platform"},
	{orders.ResultDelivered{ResultID: 3, Status: kombo.OrderStatusCompleted, Warnings: []string{}},
		map[string]any{"result_id": int64(3), "status": "COMPLETED", "warnings": []string{}}, "Result COMPLETED delivered to Kombo"},
	{orders.ResultDelivered{ResultID: 4, Status: kombo.OrderStatusCancelled, Warnings: []string{"a", "b"}},
		map[string]any{"result_id": int64(4), "status": "CANCELLED", "warnings": []string{"a", "b"}},
		"Result CANCELLED delivered to Kombo, with 2 warnings"},
	{orders.KomboCall{Attempt: 1, Endpoint: "PUT /assessment/orders/{id}/result", LatencyMS: 12, ResultID: 3, Status: 200},
		map[string]any{"endpoint": "PUT /assessment/orders/{id}/result", "attempt": 1, "latency_ms": int64(12), "status": 200, "result_id": int64(3)},
		"Kombo PUT /assessment/orders/{id}/result → HTTP 200 in 12 ms"},
	{orders.KomboCall{Attempt: 2, Endpoint: "PUT /x", Error: new(""), ErrorCode: new(""), LatencyMS: 1, ResultID: 3, Status: 500},
		map[string]any{"endpoint": "PUT /x", "attempt": 2, "latency_ms": int64(1), "status": 500, "error_code": "", "error": "", "result_id": int64(3)},
		"Kombo PUT /x → HTTP 500 in 1 ms"},
	{orders.KomboCall{Attempt: 2, Endpoint: "PUT /x", Error: new("Setup incomplete"), ErrorCode: new(kombo.CodeSetupIncomplete), LatencyMS: 1,
		LogURL: "https://kombo.example/log", ResultID: 3, Status: 409},
		map[string]any{"endpoint": "PUT /x", "attempt": 2, "latency_ms": int64(1), "status": 409, "error_code": kombo.CodeSetupIncomplete,
			"error": "Setup incomplete", "log_url": "https://kombo.example/log", "result_id": int64(3)},
		"Kombo PUT /x → HTTP 409 " + kombo.CodeSetupIncomplete + " in 1 ms"},
	{orders.KomboCall{Attempt: 1, Endpoint: "PUT /x", Error: new("dial tcp: refused"), LatencyMS: 9, ResultID: 3},
		map[string]any{"endpoint": "PUT /x", "attempt": 1, "latency_ms": int64(9), "status": 0, "error": "dial tcp: refused", "result_id": int64(3)},
		"Kombo PUT /x → no answer in 9 ms"},
	{orders.DeadLetter{Error: "kombo: HTTP 409", ErrorCode: new("X"), Job: "writeback", Reason: "needs a human", Status: new(409)},
		map[string]any{"kind": "writeback", "reason": "needs a human", "error": "kombo: HTTP 409", "error_code": "X", "status": 409},
		"Dead letter: writeback stopped (needs a human)"},
	{orders.DeadLetter{Error: "too old", Job: "writeback", Reason: "gave up"},
		map[string]any{"kind": "writeback", "reason": "gave up", "error": "too old"}, "Dead letter: writeback stopped (gave up)"},
	{orders.DeadLetterReplayed{JobID: 12, Job: "writeback"},
		map[string]any{"job_id": int64(12), "kind": "writeback"}, "Dead letter writeback retried by hand"},
}

func TestEventData(t *testing.T) {
	kinds := map[string]bool{}
	for _, tt := range timelineCases {
		kind := tt.data.Kind()
		kinds[kind] = true
		t.Run(kind, func(t *testing.T) {
			got, err := json.Marshal(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tt.detail)
			if !bytes.Equal(got, want) {
				t.Errorf("json.Marshal(%#v) = %s; want %s", tt.data, got, want)
			}
			back, err := orders.DecodeEvent(kind, got)
			if err != nil || !reflect.DeepEqual(back, tt.data) {
				t.Errorf("DecodeEvent(%q, %s) = %#v, %v; want %#v", kind, got, back, err, tt.data)
			}
			if says := tt.data.Describe(); says != tt.says {
				t.Errorf("Describe() = %q; want %q", says, tt.says)
			}
		})
	}
	for _, kind := range []string{orders.EventReceived, orders.EventDuplicate, orders.EventLinkIssued, orders.EventMailSent,
		orders.EventMailFailed, orders.EventMailSkipped, orders.EventStarted, orders.EventExpired, orders.EventInviteRequested,
		orders.EventWritebackSkip, orders.EventVendorSent, orders.EventVendorFailed, orders.EventErased, orders.EventResultAccepted,
		orders.EventResultDelivered, orders.EventKomboCall, orders.EventDeadLetter, orders.EventReplayed} {
		if !kinds[kind] {
			t.Errorf("kind %s: no case", kind)
		}
		if d, err := orders.DecodeEvent(kind, []byte("{}")); err != nil || d.Kind() != kind {
			t.Errorf("DecodeEvent(%q, {}) = %#v, %v; want a %s", kind, d, err, kind)
		} else if _, unknown := d.(orders.UnknownEvent); unknown {
			t.Errorf("DecodeEvent(%q, {}) = %#v; want the kind's type", kind, d)
		}
	}
}

func TestDecodeEvent(t *testing.T) {
	t.Run("Unknown", func(t *testing.T) {
		d, err := orders.DecodeEvent("test.event", []byte(`{"i":1,"s":"<a&b>"}`))
		want := orders.UnknownEvent{Name: "test.event", Detail: map[string]any{"i": float64(1), "s": "<a&b>"}}
		if err != nil || !reflect.DeepEqual(d, want) {
			t.Fatalf("DecodeEvent = %#v, %v; want %#v", d, err, want)
		}
		if b, err := json.Marshal(d); err != nil || string(b) != `{"i":1,"s":"\u003ca\u0026b\u003e"}` {
			t.Errorf("json.Marshal(%#v) = %s, %v; want the detail back, escaped as json.Marshal escapes", d, b, err)
		}
		if d.Describe() != "test.event" || d.Outcome() != orders.OutcomeNone {
			t.Errorf("Describe, Outcome = %q, %q; want the kind's name, none", d.Describe(), d.Outcome())
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if d, err := orders.DecodeEvent("gone", nil); err != nil || d.Kind() != "gone" || len(orders.Event{Data: d}.Detail()) != 0 {
			t.Errorf("DecodeEvent(gone, nil) = %#v, %v; want an unknown event without detail", d, err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, kind := range []string{orders.EventMailSent, "test.event"} {
			if d, err := orders.DecodeEvent(kind, []byte(`{"attempt":"one"`)); err == nil {
				t.Errorf("DecodeEvent(%q, invalid) = %#v; want an error", kind, d)
			}
		}
	})
}

func TestNewView_Timeline(t *testing.T) {
	at := time.Date(2026, 7, 30, 10, 0, 0, 0, time.UTC)
	o := &orders.Order{State: orders.StateReceived, Timeline: []orders.Event{
		{At: at, Data: orders.LinkIssued{}},
		{At: at, Data: orders.MailSent{Attempt: 1, Mail: "invitation", MessageID: "<m-1@x>"}},
		{At: at, Data: orders.UnknownEvent{Name: "test.event"}},
	}}
	v := orders.NewView(o)
	// The API's encoder leaves <, > and & as they are.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v.Timeline); err != nil {
		t.Fatal(err)
	}
	want := `[{"at":"2026-07-30T10:00:00.000Z","kind":"link.issued"},` +
		`{"at":"2026-07-30T10:00:00.000Z","kind":"mail.sent","detail":{"attempt":1,"latency_ms":0,"mail":"invitation","message_id":"<m-1@x>"}},` +
		`{"at":"2026-07-30T10:00:00.000Z","kind":"test.event"}]` + "\n"
	if b.String() != want {
		t.Errorf("timeline = %s; want %s", b.String(), want)
	}
	for i, e := range v.Timeline {
		if d, err := e.Data(); err != nil || !reflect.DeepEqual(d, o.Timeline[i].Data) && i != 2 {
			t.Errorf("Timeline[%d].Data() = %#v, %v; want %#v", i, d, err, o.Timeline[i].Data)
		}
	}
}
