package orders

import "time"

// Parked is work that waits for something a person or Kombo must do first,
// rather than failing: a job of kind Kind (writeback, push_packages,
// discover_integration) snoozed until the integration becomes usable, or
// until assessgate is given KOMBO_API_KEY. Code is Kombo's error code
// (INTEGRATION.SETUP_INCOMPLETE, INTEGRATION.SETUP_SYNC_PENDING) or
// ParkedNoAPIKey; Reason says it for a person. ParkedAt is when it first
// parked; after the configured bound it becomes a dead letter.
type Parked struct {
	JobID         int64     `json:"job_id"`
	Kind          string    `json:"kind"`
	IntegrationID string    `json:"integration_id,omitempty"`
	OrderID       string    `json:"order_id,omitempty"`
	Code          string    `json:"code"`
	Reason        string    `json:"reason"`
	LogURL        string    `json:"log_url,omitempty"`
	ParkedAt      time.Time `json:"parked_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ParkedNoAPIKey is the Code of work parked because KOMBO_API_KEY is not
// set: it resumes when assessgate starts with the key.
const ParkedNoAPIKey = "KOMBO_API_KEY_MISSING"

// WaitsForSetup reports whether p waits for its integration's setup (and
// resumes when the integration becomes usable), rather than for the key.
func (p *Parked) WaitsForSetup() bool { return p.Code != ParkedNoAPIKey }

// WritebackView is the write-back of an order's result as the order's JSON
// shows it while it cannot go: {"status": "parked", "reason": …}.
type WritebackView struct {
	Status   string `json:"status"`
	Code     string `json:"code"`
	Reason   string `json:"reason"`
	LogURL   string `json:"log_url,omitempty"`
	ParkedAt string `json:"parked_at"`
}

// NewWritebackView returns the view of a parked write-back, or nil.
func NewWritebackView(p *Parked) *WritebackView {
	if p == nil {
		return nil
	}
	return &WritebackView{Status: "parked", Code: p.Code, Reason: p.Reason, LogURL: p.LogURL, ParkedAt: FormatTime(p.ParkedAt)}
}

// EventParked is the timeline kind of WorkParked.
const EventParked = "work.parked"

// WorkParked: the job Job (e.g. "writeback") for this order waits, parked,
// for the reason Kombo's Code (or ParkedNoAPIKey) gives; it resumes by
// itself.
type WorkParked struct {
	Code   string `json:"code"`
	Job    string `json:"kind"`
	LogURL string `json:"log_url,omitempty"`
	Reason string `json:"reason"`
}

var _ = register[WorkParked]()

func (WorkParked) Kind() string { return EventParked }
func (e WorkParked) Describe() string {
	return "Parked: " + e.Job + " waits (" + e.Reason + ")"
}
func (WorkParked) Outcome() Outcome { return OutcomeWarning }
