package kombo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"
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

// MaxIDBytes is the longest id taken, in bytes: an event's, an order's,
// an integration's or a package's id, and a webhook's type. Kombo's ids are
// a few dozen characters; a longer one is refused before any database is
// asked to index it (Postgres's b-tree entries hold at most 2704 bytes).
const MaxIDBytes = 255

// OrderError is ParseWebhook's error for an order webhook whose event id,
// order id and integration id are usable but whose content is not: a
// missing or malformed field, an unknown status, an e-mail address that
// does not round-trip through net/mail, a package id that is too long, or
// text that no database can hold (a NUL character, bytes that are not
// UTF-8). Such an order can be refused (422) by its id; only a webhook
// whose ids cannot be read is a bad request (400).
type OrderError struct {
	EventID, OrderID, IntegrationID string
	Err                             *ValidationError
}

// Error returns the field and the problem.
func (e *OrderError) Error() string { return e.Err.Error() }

// Unwrap returns the *ValidationError.
func (e *OrderError) Unwrap() error { return e.Err }

// ParseWebhook decodes a webhook body and checks it against Kombo's schema
// for its type: required fields present, types right, enums known, ids at
// most MaxIDBytes, and every string free of NUL characters and valid UTF-8
// (which SQLite would take but Postgres refuses). It returns a
// *ValidationError naming the first field that is wrong, or, for an order
// webhook whose ids are usable but whose content is not, an *OrderError.
// Unknown fields are ignored, since Kombo adds fields over time.
func ParseWebhook(body []byte) (*Webhook, error) {
	var w Webhook
	if err := decode(body, &w, ""); err != nil {
		return nil, err
	}
	text := checkText(body)
	if err := checkID("id", w.ID, text); err != nil {
		return nil, err
	}
	if err := checkID("type", w.Type, text); err != nil {
		return nil, err
	}
	switch {
	case len(w.Data) == 0 || bytes.Equal(w.Data, []byte("null")):
		return nil, required("data")
	case w.Data[0] != '{':
		return nil, &ValidationError{"data", "must be an object"}
	}

	var err error
	switch w.Type {
	case EventOrderReceived, EventInlineOrderReceived:
		w.Order = new(Order)
		decodeErr := decode(w.Data, w.Order, "data.")
		o := w.Order
		if err := checkID("data.id", o.ID, text); err != nil {
			return nil, err
		}
		if err := checkID("data.integration_id", o.IntegrationID, text); err != nil {
			return nil, err
		}
		// The order can be told apart: what else is wrong refuses it.
		problem := text
		if decodeErr != nil {
			problem = decodeErr.(*ValidationError)
		}
		if problem == nil {
			problem = validateOrder(o, "data.")
		}
		if problem != nil {
			return nil, &OrderError{EventID: w.ID, OrderID: o.ID, IntegrationID: o.IntegrationID, Err: problem}
		}
		return &w, nil
	case EventIntegrationCreated:
		w.IntegrationCreated = new(IntegrationCreated)
		if err = decode(w.Data, w.IntegrationCreated, "data."); err == nil {
			err = orNil(checkID("data.id", w.IntegrationCreated.ID, text), firstEmpty("data.", "tool", w.IntegrationCreated.Tool))
		}
	case EventIntegrationDeleted:
		w.IntegrationDeleted = new(IntegrationDeleted)
		if err = decode(w.Data, w.IntegrationDeleted, "data."); err == nil {
			err = orNil(checkID("data.id", w.IntegrationDeleted.ID, text), firstEmpty("data.", "tool", w.IntegrationDeleted.Tool))
		}
	case EventIntegrationStateChanged:
		d := new(IntegrationStateChanged)
		w.IntegrationStateChanged = d
		if err = decode(w.Data, d, "data."); err == nil {
			err = orNil(checkID("data.integration_id", d.IntegrationID, text), firstEmpty("data.", "state", d.State))
		}
		if err == nil && !oneOf(d.State, IntegrationStateActive, IntegrationStateInvalid, IntegrationStateInactive) {
			err = &ValidationError{"data.state", fmt.Sprintf("unknown state %q", d.State)}
		}
	case EventConnectionFlowFailed:
		w.ConnectionFlowFailed = new(ConnectionFlowFailed)
		err = decode(w.Data, w.ConnectionFlowFailed, "data.")
	}
	if err == nil {
		err = orNil(text)
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// orNil returns the first of errs that is not nil, as an error, or nil (not
// a nil *ValidationError, which as an error is not nil).
func orNil(errs ...*ValidationError) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ValidateOrder checks an order from GET /assessment/orders, where
// integration_id is absent, as ParseWebhook checks a webhook's order: its
// content, and every string in it, which must hold no NUL character.
func ValidateOrder(o *Order) error {
	if err := checkID("id", o.ID, nil); err != nil {
		return err
	}
	b, err := json.Marshal(o)
	if err != nil {
		return &ValidationError{"", err.Error()}
	}
	return orNil(checkText(b), validateOrder(o, ""))
}

func validateOrder(o *Order, prefix string) *ValidationError {
	if err := firstEmpty(prefix, "id", o.ID, "package_id", o.PackageID, "status", string(o.Status)); err != nil {
		return err
	}
	if len(o.PackageID) > MaxIDBytes {
		return &ValidationError{prefix + "package_id", fmt.Sprintf("is longer than %d bytes", MaxIDBytes)}
	}
	if !o.Status.Valid() {
		return &ValidationError{prefix + "status", fmt.Sprintf("unknown status %q", o.Status)}
	}
	if o.Candidate.Email == "" {
		return missing(prefix + "candidate.email")
	}
	if a, err := mail.ParseAddress(o.Candidate.Email); err != nil || a.Address != o.Candidate.Email {
		return &ValidationError{prefix + "candidate.email", "is not an e-mail address"}
	}
	return nil
}

// checkID checks an id (or a type) at field: present, at most MaxIDBytes,
// and, when text (checkText's finding) is about it, storable.
func checkID(field, id string, text *ValidationError) *ValidationError {
	switch {
	case id == "":
		return missing(field)
	case len(id) > MaxIDBytes:
		return &ValidationError{field, fmt.Sprintf("is longer than %d bytes", MaxIDBytes)}
	case strings.ContainsRune(id, 0):
		return &ValidationError{field, "contains a NUL character"}
	case text != nil && text.Field == field:
		return text
	}
	return nil
}

// checkText returns the first string of the JSON document data (keys
// included) that holds a NUL character or bytes that are not UTF-8, as a
// *ValidationError naming it, or nil. It does not judge syntax: decode
// does.
func checkText(data []byte) *ValidationError {
	// Nearly every webhook is valid UTF-8 throughout and has no escaped
	// NUL (a raw one is a syntax error), which one pass over the bytes
	// tells: walking its tokens cost a sixth of a webhook's CPU
	// (docs/benchmarks.md).
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u0000`)) {
		return nil
	}
	return walkText(data)
}

// walkText is checkText the long way: it reads every string of data.
func walkText(data []byte) *ValidationError {
	type level struct {
		object bool
		key    string // in an object: the key of the value being read
		index  int    // in an array: the index of the value being read
		atKey  bool   // in an object: the next string is a key
	}
	var stack []*level
	path := func() string {
		var b strings.Builder
		for i, l := range stack {
			switch {
			case l.object && i == 0:
				b.WriteString(l.key)
			case l.object:
				b.WriteString("." + l.key)
			default:
				b.WriteString("[" + strconv.Itoa(l.index) + "]")
			}
		}
		return b.String()
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if top := stack[n-1]; top.object {
				top.atKey = true
			} else {
				top.index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return nil
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &level{object: true, atKey: true})
			case '[':
				stack = append(stack, &level{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			raw := data[start:dec.InputOffset()]
			isKey := len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].atKey
			if isKey {
				top := stack[len(stack)-1]
				top.key, top.atKey = t, false
			}
			switch {
			case !utf8.Valid(raw):
				return &ValidationError{path(), "is not valid UTF-8 text"}
			case strings.ContainsRune(t, 0):
				return &ValidationError{path(), "contains a NUL character"}
			}
			if !isKey {
				valueDone()
			}
		default:
			valueDone()
		}
	}
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

func required(field string) error { return missing(field) }

func missing(field string) *ValidationError { return &ValidationError{field, "is required"} }

// firstMissing takes pairs of field name and value and reports the first
// empty one as required.
func firstMissing(prefix string, pairs ...string) error {
	return orNil(firstEmpty(prefix, pairs...))
}

// firstEmpty is firstMissing, as a *ValidationError.
func firstEmpty(prefix string, pairs ...string) *ValidationError {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return missing(prefix + pairs[i])
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
