package kombo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
)

// The webhook types Kombo sends to assessment vendors.
const (
	EventOrderReceived           = "assessment:order-received"
	EventInlineOrderReceived     = "inline-assessment:order-received"
	EventIntegrationCreated      = "integration-created"
	EventIntegrationDeleted      = "integration-deleted"
	EventIntegrationStateChanged = "integration-state-changed"
	EventConnectionFlowFailed    = "connection-flow-failed"
)

// Webhook is a decoded webhook envelope. ParseWebhook fills in the one typed
// field that matches Type; for types this package does not model, only ID,
// Type and Data are set.
type Webhook struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`

	Order                   *Order                   `json:"-"` // both order webhook types
	IntegrationCreated      *IntegrationCreated      `json:"-"`
	IntegrationDeleted      *IntegrationDeleted      `json:"-"`
	IntegrationStateChanged *IntegrationStateChanged `json:"-"`
	ConnectionFlowFailed    *ConnectionFlowFailed    `json:"-"`
}

// EndUser is the customer organisation behind an integration.
type EndUser struct {
	OrganizationName string  `json:"organization_name"`
	CreatorEmail     *string `json:"creator_email"`
	OriginID         *string `json:"origin_id"`
}

// IntegrationCreated is the data of an integration-created webhook.
type IntegrationCreated struct {
	ID       string  `json:"id"`
	Tool     string  `json:"tool"`
	Category string  `json:"category"`
	EndUser  EndUser `json:"end_user"`
}

// IntegrationDeleted is the data of an integration-deleted webhook.
type IntegrationDeleted struct {
	ID        string  `json:"id"`
	Tool      string  `json:"tool"`
	Category  string  `json:"category"`
	EndUser   EndUser `json:"end_user"`
	DeletedAt string  `json:"deleted_at"`
}

// Integration states, as in integration-state-changed and
// GET /integrations/{id}.
const (
	IntegrationStateActive   = "ACTIVE"
	IntegrationStateInvalid  = "INVALID"
	IntegrationStateInactive = "INACTIVE"
)

// IntegrationStateChanged is the data of an integration-state-changed webhook.
type IntegrationStateChanged struct {
	IntegrationTool     string  `json:"integration_tool"`
	IntegrationID       string  `json:"integration_id"`
	IntegrationCategory string  `json:"integration_category"`
	EndUser             EndUser `json:"end_user"`
	QAStatus            string  `json:"qa_status"`
	SetupStatus         string  `json:"setup_status"`
	State               string  `json:"state"`
	UpdatedAt           string  `json:"updated_at"`
}

// ConnectionFlowFailed is the data of a connection-flow-failed webhook.
type ConnectionFlowFailed struct {
	IntegrationTool     string  `json:"integration_tool"`
	IntegrationCategory string  `json:"integration_category"`
	EndUser             EndUser `json:"end_user"`
	LogURL              string  `json:"log_url"`
}

// ValidationError says which field of a payload is wrong and why. Field is
// the JSON path, such as "data.candidate.email".
type ValidationError struct {
	Field   string
	Problem string
}

// Error returns "field: problem", or just the problem if no field is named.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// ParseWebhook decodes a webhook body and checks it against Kombo's schema
// for its type: required fields present, types right, enums known. It
// returns a *ValidationError naming the first field that is wrong. Unknown
// fields are ignored, since Kombo adds fields over time.
func ParseWebhook(body []byte) (*Webhook, error) {
	var w Webhook
	if err := decode(body, &w, ""); err != nil {
		return nil, err
	}
	switch {
	case w.ID == "":
		return nil, required("id")
	case w.Type == "":
		return nil, required("type")
	case len(w.Data) == 0 || bytes.Equal(w.Data, []byte("null")):
		return nil, required("data")
	case w.Data[0] != '{':
		return nil, &ValidationError{"data", "must be an object"}
	}

	var err error
	switch w.Type {
	case EventOrderReceived, EventInlineOrderReceived:
		w.Order = new(Order)
		if err = decode(w.Data, w.Order, "data."); err == nil {
			err = validateOrder(w.Order, "data.", true)
		}
	case EventIntegrationCreated:
		w.IntegrationCreated = new(IntegrationCreated)
		if err = decode(w.Data, w.IntegrationCreated, "data."); err == nil {
			err = firstMissing("data.", "id", w.IntegrationCreated.ID, "tool", w.IntegrationCreated.Tool)
		}
	case EventIntegrationDeleted:
		w.IntegrationDeleted = new(IntegrationDeleted)
		if err = decode(w.Data, w.IntegrationDeleted, "data."); err == nil {
			err = firstMissing("data.", "id", w.IntegrationDeleted.ID, "tool", w.IntegrationDeleted.Tool)
		}
	case EventIntegrationStateChanged:
		d := new(IntegrationStateChanged)
		w.IntegrationStateChanged = d
		if err = decode(w.Data, d, "data."); err == nil {
			err = firstMissing("data.", "integration_id", d.IntegrationID, "state", d.State)
		}
		if err == nil && !oneOf(d.State, IntegrationStateActive, IntegrationStateInvalid, IntegrationStateInactive) {
			err = &ValidationError{"data.state", fmt.Sprintf("unknown state %q", d.State)}
		}
	case EventConnectionFlowFailed:
		w.ConnectionFlowFailed = new(ConnectionFlowFailed)
		err = decode(w.Data, w.ConnectionFlowFailed, "data.")
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// ValidateOrder checks an order from GET /assessment/orders, where
// integration_id is absent, as ParseWebhook checks a webhook's order.
func ValidateOrder(o *Order) error { return validateOrder(o, "", false) }

func validateOrder(o *Order, prefix string, needIntegration bool) error {
	if err := firstMissing(prefix, "id", o.ID, "package_id", o.PackageID, "status", string(o.Status)); err != nil {
		return err
	}
	if needIntegration && o.IntegrationID == "" {
		return required(prefix + "integration_id")
	}
	if !o.Status.Valid() {
		return &ValidationError{prefix + "status", fmt.Sprintf("unknown status %q", o.Status)}
	}
	if o.Candidate.Email == "" {
		return required(prefix + "candidate.email")
	}
	if a, err := mail.ParseAddress(o.Candidate.Email); err != nil || a.Address != o.Candidate.Email {
		return &ValidationError{prefix + "candidate.email", "is not an e-mail address"}
	}
	return nil
}

// decode unmarshals JSON into v and turns decoding errors into
// ValidationErrors that name the field, prefixed with prefix.
func decode(data []byte, v any, prefix string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := prefix + typeErr.Field
		if typeErr.Field == "" {
			field = trimDot(prefix)
		}
		return &ValidationError{field, fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &ValidationError{"", fmt.Sprintf("body is not valid JSON (offset %d): %v", syntaxErr.Offset, err)}
	default:
		return &ValidationError{trimDot(prefix), err.Error()}
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "struct", "map", "ptr":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

func trimDot(prefix string) string {
	if prefix == "" {
		return ""
	}
	return prefix[:len(prefix)-1]
}

func required(field string) error { return &ValidationError{field, "is required"} }

// firstMissing takes pairs of field name and value and reports the first
// empty one as required.
func firstMissing(prefix string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return required(prefix + pairs[i])
		}
	}
	return nil
}

func oneOf(s string, values ...string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}
