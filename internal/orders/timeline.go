package orders

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// Event is one entry on an order's timeline.
type Event struct {
	ID      int64
	OrderID string
	At      time.Time
	// Data is what happened: a value of one of the kinds below, or an
	// UnknownEvent.
	Data EventData
}

// Kind returns the name of the event's kind, e.g. "mail.sent".
func (e Event) Kind() string { return e.Data.Kind() }

// Detail returns the event's detail, the JSON of its data, decoded as a
// map: as the admin page lists it, and as tests read it.
func (e Event) Detail() map[string]any {
	var d map[string]any
	if b, err := json.Marshal(e.Data); err == nil {
		json.Unmarshal(b, &d)
	}
	return d
}

// EventData is what a timeline event of one kind records. Every kind is a
// struct in this file, registered with its name beside it (register);
// adding a kind is adding one. Its JSON is the event's detail, as stored
// and as the API shows it: ids, status codes and latencies, never personal
// data. Its fields are declared in the order of their JSON names: the
// detail was a map, whose keys json.Marshal sorts, before it was a type,
// and the JSON stored and shown stays what it was.
type EventData interface {
	// Kind returns the name of the kind, e.g. "mail.sent".
	Kind() string
	// Describe says in words what the event records, as the admin page and
	// "assessgate demo" show it: "E-mail sent: invitation".
	Describe() string
	// Outcome says how what the event records went.
	Outcome() Outcome
}

// Outcome is how what a timeline event records went. Its values are short
// names, which the admin page uses as the colour of the entry.
type Outcome string

// The outcomes of timeline events.
const (
	OutcomeNone    Outcome = ""     // neither good nor bad news
	OutcomeOK      Outcome = "ok"   // done
	OutcomeWarning Outcome = "warn" // not done, on purpose
	OutcomeFailed  Outcome = "err"  // failed
)

// DecodeEvent returns the data of an event of kind with the JSON detail
// detail, as a value of the kind's struct; a kind that is not registered
// (one written by another version, or by a test) is an UnknownEvent.
func DecodeEvent(kind string, detail []byte) (EventData, error) {
	if len(detail) == 0 {
		detail = []byte("{}")
	}
	decode, ok := eventKinds[kind]
	if !ok {
		u := UnknownEvent{Name: kind}
		if err := json.Unmarshal(detail, &u.Detail); err != nil {
			return nil, fmt.Errorf("decode %s event: %w", kind, err)
		}
		return u, nil
	}
	d, err := decode(detail)
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", kind, err)
	}
	return d, nil
}

// eventKinds decodes the detail of each registered kind, by its name.
var eventKinds = map[string]func(detail []byte) (EventData, error){}

// register adds the kind of T to eventKinds. It is called once beside each
// kind's struct.
func register[T EventData]() bool {
	var zero T
	if _, dup := eventKinds[zero.Kind()]; dup {
		panic("orders: timeline event kind " + zero.Kind() + " registered twice")
	}
	eventKinds[zero.Kind()] = func(detail []byte) (EventData, error) {
		var d T
		err := json.Unmarshal(detail, &d)
		return d, err
	}
	return true
}

// UnknownEvent is an event of a kind that is not registered, with its
// detail as it was decoded.
type UnknownEvent struct {
	Name   string
	Detail map[string]any
}

func (u UnknownEvent) Kind() string     { return u.Name }
func (u UnknownEvent) Describe() string { return u.Name }
func (u UnknownEvent) Outcome() Outcome { return OutcomeNone }

// MarshalJSON returns the detail as it was decoded. It leaves <, > and &
// as they are: json.Marshal escapes them, an Encoder told not to does not.
func (u UnknownEvent) MarshalJSON() ([]byte, error) {
	if u.Detail == nil {
		return []byte("{}"), nil
	}
	return marshalUnescaped(u.Detail)
}

// marshalUnescaped is json.Marshal without the escaping of <, > and &.
func marshalUnescaped(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Event kinds written by the intake.
const (
	EventReceived   = "order.received"
	EventDuplicate  = "order.duplicate"
	EventLinkIssued = "link.issued"
)

// OrderReceived: the order was stored, from a webhook (EventID) or found by
// the reconciliation.
type OrderReceived struct {
	EventID string `json:"event_id,omitempty"`
	Source  Source `json:"source"`
}

var _ = register[OrderReceived]()

func (OrderReceived) Kind() string { return EventReceived }
func (e OrderReceived) Describe() string {
	return "Order received from Kombo (" + string(e.Source) + ")"
}
func (OrderReceived) Outcome() Outcome { return OutcomeOK }

// OrderDuplicate: another webhook delivered an order already stored.
type OrderDuplicate struct {
	EventID string `json:"event_id"`
	Source  Source `json:"source"`
}

var _ = register[OrderDuplicate]()

func (OrderDuplicate) Kind() string { return EventDuplicate }
func (e OrderDuplicate) Describe() string {
	return "Order delivered again (" + string(e.Source) + "); nothing changed"
}
func (OrderDuplicate) Outcome() Outcome { return OutcomeNone }

// LinkIssued: a candidate link was made.
type LinkIssued struct{}

var _ = register[LinkIssued]()

func (LinkIssued) Kind() string     { return EventLinkIssued }
func (LinkIssued) Describe() string { return "Candidate link made (only a hash of its token is kept)" }
func (LinkIssued) Outcome() Outcome { return OutcomeNone }

// Event kinds written for the candidate: e-mails, link opens, expiry.
const (
	EventMailSent        = "mail.sent"
	EventMailFailed      = "mail.failed"
	EventMailSkipped     = "mail.skipped"
	EventStarted         = "order.started"
	EventExpired         = "order.expired"
	EventInviteRequested = "invite.requested"
	EventWritebackSkip   = "writeback.skipped"
	EventVendorSent      = "vendor_webhook.sent"
	EventVendorFailed    = "vendor_webhook.failed"
	EventErased          = "order.erased"
)

// MailSent: an e-mail (Mail: invitation, reminder) went to the candidate,
// in the job's attempt Attempt; LatencyMS is its SMTP connection's, and
// ExpiresAt (FormatTime) when its link expires, if it does.
type MailSent struct {
	Attempt   int    `json:"attempt"`
	ExpiresAt string `json:"expires_at,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
	Mail      string `json:"mail"`
	MessageID string `json:"message_id"`
}

var _ = register[MailSent]()

func (MailSent) Kind() string       { return EventMailSent }
func (e MailSent) Describe() string { return "E-mail sent: " + e.Mail }
func (MailSent) Outcome() Outcome   { return OutcomeOK }

// MailFailed: an e-mail could not be sent; SMTPCode is the server's reply
// code, if it gave one.
type MailFailed struct {
	Attempt   int    `json:"attempt"`
	Error     string `json:"error"`
	LatencyMS int64  `json:"latency_ms"`
	Mail      string `json:"mail"`
	SMTPCode  int    `json:"smtp_code,omitempty"`
}

var _ = register[MailFailed]()

func (MailFailed) Kind() string       { return EventMailFailed }
func (e MailFailed) Describe() string { return "E-mail failed: " + e.Mail + " — " + e.Error }
func (MailFailed) Outcome() Outcome   { return OutcomeFailed }

// MailSkipped: an e-mail was not sent, and why.
type MailSkipped struct {
	Mail   string `json:"mail"`
	Reason string `json:"reason"`
}

var _ = register[MailSkipped]()

func (MailSkipped) Kind() string       { return EventMailSkipped }
func (e MailSkipped) Describe() string { return "E-mail not sent: " + e.Mail + " — " + e.Reason }
func (MailSkipped) Outcome() Outcome   { return OutcomeWarning }

// OrderStarted: the candidate opened the link (Start).
type OrderStarted struct{}

var _ = register[OrderStarted]()

func (OrderStarted) Kind() string     { return EventStarted }
func (OrderStarted) Describe() string { return "Candidate opened the link" }
func (OrderStarted) Outcome() Outcome { return OutcomeOK }

// OrderExpired: the invitation expired (Expire) at ExpiresAt
// (FormatTime); Started says whether the candidate had opened the link.
type OrderExpired struct {
	ExpiresAt string `json:"expires_at"`
	Started   bool   `json:"started"`
}

var _ = register[OrderExpired]()

func (OrderExpired) Kind() string     { return EventExpired }
func (OrderExpired) Describe() string { return "Invitation expired" }
func (OrderExpired) Outcome() Outcome { return OutcomeWarning }

// InviteRequested: someone asked for the invitation to be sent again, in
// Language if they named one.
type InviteRequested struct {
	Language string `json:"language,omitempty"`
}

var _ = register[InviteRequested]()

func (InviteRequested) Kind() string { return EventInviteRequested }
func (e InviteRequested) Describe() string {
	if e.Language != "" {
		return "New invitation requested, in " + e.Language
	}
	return "New invitation requested"
}
func (InviteRequested) Outcome() Outcome { return OutcomeNone }

// WritebackSkipped: a result (ResultID, if one was stored) is not written
// back to Kombo, and why.
type WritebackSkipped struct {
	Reason   string `json:"reason"`
	ResultID int64  `json:"result_id,omitempty"`
}

var _ = register[WritebackSkipped]()

func (WritebackSkipped) Kind() string       { return EventWritebackSkip }
func (e WritebackSkipped) Describe() string { return "Not written back to Kombo: " + e.Reason }
func (WritebackSkipped) Outcome() Outcome   { return OutcomeWarning }

// VendorWebhookSent: the vendor's platform took the webhook WebhookID of
// Event (e.g. "order.completed") with HTTP Status.
type VendorWebhookSent struct {
	Attempt   int    `json:"attempt"`
	Event     string `json:"event"`
	LatencyMS int64  `json:"latency_ms"`
	Status    int    `json:"status"`
	WebhookID string `json:"webhook_id"`
}

var _ = register[VendorWebhookSent]()

func (VendorWebhookSent) Kind() string { return EventVendorSent }
func (e VendorWebhookSent) Describe() string {
	return fmt.Sprintf("Vendor webhook %s delivered (HTTP %d)", e.Event, e.Status)
}
func (VendorWebhookSent) Outcome() Outcome { return OutcomeOK }

// VendorWebhookFailed: a webhook to the vendor's platform failed: with HTTP
// Status, or without an answer (Status 0). Final is true on its last
// attempt.
type VendorWebhookFailed struct {
	Attempt   int    `json:"attempt"`
	Error     string `json:"error"`
	Event     string `json:"event"`
	Final     bool   `json:"final,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
	Status    int    `json:"status,omitempty"`
	WebhookID string `json:"webhook_id"`
}

var _ = register[VendorWebhookFailed]()

func (VendorWebhookFailed) Kind() string { return EventVendorFailed }
func (e VendorWebhookFailed) Describe() string {
	return fmt.Sprintf("Vendor webhook %s failed: %s", e.Event, e.Error)
}
func (VendorWebhookFailed) Outcome() Outcome { return OutcomeFailed }

// OrderErased: the order's personal data was erased, and why (one of the
// Erased constants).
type OrderErased struct {
	Reason string `json:"reason"`
}

var _ = register[OrderErased]()

func (OrderErased) Kind() string     { return EventErased }
func (OrderErased) Describe() string { return EventErased }
func (OrderErased) Outcome() Outcome { return OutcomeNone }

// Timeline event kinds of the result write-back and Kombo calls.
const (
	EventResultAccepted  = "result.accepted"
	EventResultDelivered = "result.delivered"
	EventKomboCall       = "kombo.call"
	EventDeadLetter      = "dead_letter"
	EventReplayed        = "dead_letter.replayed"
)

// ResultAccepted: the vendor's platform posted a result, stored as
// ResultID.
type ResultAccepted struct {
	ResultID int64             `json:"result_id"`
	Status   kombo.OrderStatus `json:"status"`
}

var _ = register[ResultAccepted]()

func (ResultAccepted) Kind() string { return EventResultAccepted }
func (e ResultAccepted) Describe() string {
	return "Result " + string(e.Status) + " accepted from the vendor's platform"
}
func (ResultAccepted) Outcome() Outcome { return OutcomeNone }

// ResultDelivered: Kombo took the result ResultID, with its Warnings.
type ResultDelivered struct {
	ResultID int64             `json:"result_id"`
	Status   kombo.OrderStatus `json:"status"`
	Warnings []string          `json:"warnings"`
}

var _ = register[ResultDelivered]()

func (ResultDelivered) Kind() string { return EventResultDelivered }
func (e ResultDelivered) Describe() string {
	s := "Result " + string(e.Status) + " delivered to Kombo"
	switch n := len(e.Warnings); {
	case n == 1:
		s += ", with 1 warning"
	case n > 1:
		s += fmt.Sprintf(", with %d warnings", n)
	}
	return s
}
func (e ResultDelivered) Outcome() Outcome {
	if len(e.Warnings) > 0 {
		return OutcomeWarning
	}
	return OutcomeOK
}

// KomboCall: assessgate called Kombo's Endpoint (e.g. "PUT
// /assessment/orders/{id}/result") for the result ResultID. Status is the
// HTTP status, 0 without an answer. ErrorCode and Error are Kombo's, or
// Error the transport's; they are nil when the call succeeded, and kept
// when empty, as Kombo sent them.
type KomboCall struct {
	Attempt   int     `json:"attempt"`
	Endpoint  string  `json:"endpoint"`
	Error     *string `json:"error,omitempty"`
	ErrorCode *string `json:"error_code,omitempty"`
	LatencyMS int64   `json:"latency_ms"`
	LogURL    string  `json:"log_url,omitempty"`
	ResultID  int64   `json:"result_id,omitempty"`
	Status    int     `json:"status"`
}

var _ = register[KomboCall]()

func (KomboCall) Kind() string { return EventKomboCall }
func (e KomboCall) Describe() string {
	s := fmt.Sprintf("Kombo %s → ", e.Endpoint)
	if e.Status == 0 {
		s += "no answer"
	} else {
		s += fmt.Sprintf("HTTP %d", e.Status)
	}
	if e.ErrorCode != nil && *e.ErrorCode != "" {
		s += " " + *e.ErrorCode
	}
	return s + fmt.Sprintf(" in %d ms", e.LatencyMS)
}
func (e KomboCall) Outcome() Outcome {
	if e.Failed() {
		return OutcomeFailed
	}
	return OutcomeOK
}

// Failed reports whether the call got no answer or an HTTP status of 400
// or more.
func (e KomboCall) Failed() bool { return e.Status == 0 || e.Status >= 400 }

// DeadLetter: a job of kind Job (e.g. "writeback") stopped for good, and
// why; Error is its last error, with Kombo's ErrorCode and HTTP Status when
// Kombo refused (nil otherwise).
type DeadLetter struct {
	Error     string  `json:"error"`
	ErrorCode *string `json:"error_code,omitempty"`
	Job       string  `json:"kind"`
	LogURL    string  `json:"log_url,omitempty"`
	Reason    string  `json:"reason"`
	Status    *int    `json:"status,omitempty"`
}

var _ = register[DeadLetter]()

func (DeadLetter) Kind() string { return EventDeadLetter }
func (e DeadLetter) Describe() string {
	return "Dead letter: " + e.Job + " stopped (" + e.Reason + ")"
}
func (DeadLetter) Outcome() Outcome { return OutcomeFailed }

// DeadLetterReplayed: someone retried the dead letter JobID, of kind Job.
type DeadLetterReplayed struct {
	JobID int64  `json:"job_id"`
	Job   string `json:"kind"`
}

var _ = register[DeadLetterReplayed]()

func (DeadLetterReplayed) Kind() string       { return EventReplayed }
func (e DeadLetterReplayed) Describe() string { return "Dead letter " + e.Job + " retried by hand" }
func (DeadLetterReplayed) Outcome() Outcome   { return OutcomeNone }
