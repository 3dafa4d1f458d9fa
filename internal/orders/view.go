package orders

import (
	"encoding/json"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// View is an order as the vendor's platform sees it, in the vendor API and in
// the vendor webhooks: Kombo's fields as Kombo sent them, then assessgate's
// state, timestamps and, when loaded, the timeline.
type View struct {
	kombo.Order
	// TenantID is the vendor's id of the customer (Order.TenantID): null
	// while the integration is not known.
	TenantID  *string `json:"tenant_id"`
	State     State   `json:"state"`
	Source    Source  `json:"source"`
	EventID   string  `json:"event_id,omitempty"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
	InvitedAt *string `json:"invited_at"`
	StartedAt *string `json:"started_at"`
	ExpiresAt *string `json:"expires_at"`
	ClosedAt  *string `json:"closed_at"`
	// Erased is true once the order's personal data was erased: Kombo's
	// fields then hold ids only.
	Erased   bool    `json:"erased"`
	ErasedAt *string `json:"erased_at,omitempty"`
	// Writeback is set while the write-back of the order's result is
	// parked (see Parked); absent otherwise.
	Writeback *WritebackView `json:"writeback,omitempty"`
	Timeline  []EventView    `json:"timeline,omitempty"`
}

// EventView is a timeline entry as View shows it: its Detail is the JSON
// of its EventData (see DecodeEvent), left out when empty.
type EventView struct {
	At     string          `json:"at"`
	Kind   string          `json:"kind"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// NewView returns the view of o, with its timeline if o has one loaded.
func NewView(o *Order) View {
	v := View{
		Order:     o.Order,
		TenantID:  o.TenantID,
		State:     o.State,
		Source:    o.Source,
		EventID:   o.EventID,
		CreatedAt: FormatTime(o.CreatedAt),
		UpdatedAt: FormatTime(o.UpdatedAt),
		InvitedAt: FormatTimePtr(o.InvitedAt),
		StartedAt: FormatTimePtr(o.StartedAt),
		ExpiresAt: FormatTimePtr(o.ExpiresAt),
		ClosedAt:  FormatTimePtr(o.ClosedAt),
		Erased:    o.ErasedAt != nil,
		ErasedAt:  FormatTimePtr(o.ErasedAt),
	}
	if v.Job.HiringTeam == nil {
		v.Job.HiringTeam = []kombo.HiringTeamMember{}
	}
	for _, e := range o.Timeline {
		v.Timeline = append(v.Timeline, EventView{At: FormatTime(e.At), Kind: e.Kind(), Detail: viewDetail(e.Data)})
	}
	return v
}

// Data returns the event's data, decoded as DecodeEvent does.
func (e EventView) Data() (EventData, error) { return DecodeEvent(e.Kind, e.Detail) }

// viewDetail is the JSON of d, nil when it is empty. It leaves <, > and &
// as they are, for the API's encoder, which does not escape them, to show
// them as such; json.Marshal escapes them still. The kinds' fields all
// encode, so it fails only for an UnknownEvent that was not decoded.
func viewDetail(d EventData) json.RawMessage {
	detail, err := marshalUnescaped(d)
	if err != nil || string(detail) == "{}" {
		return nil
	}
	return detail
}

// FormatTime formats times as Kombo does: UTC, milliseconds.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// FormatTimePtr is FormatTime for an optional time; nil stays nil.
func FormatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}
