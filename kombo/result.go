package kombo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// ResultRequest is the body of PUT /assessment/orders/{id}/result, which
// writes an order's result (or its cancellation) back to the ATS.
//
// Status is COMPLETED, CANCELLED or OPEN; OPEN pushes interim data without
// closing the order. Kombo only accepts a status change while the order is
// OPEN. CompletedAt is required for COMPLETED and CANCELLED; build it with
// FormatTime. (Kombo's pattern also admits a date alone, such as
// "2026-07-30", but its schema's format date-time does not.) RemoteFields, if set, is a JSON object of ATS-specific fields
// passed through by Kombo, such as {"smartrecruiters":{"scoreLabel":"82 / 100"}};
// build the tools Kombo types with RemoteFields.JSON.
type ResultRequest struct {
	Status       OrderStatus     `json:"status"`
	ResultURL    string          `json:"result_url"`
	CompletedAt  *string         `json:"completed_at,omitempty"`
	Score        *float64        `json:"score,omitempty"`
	MaxScore     *float64        `json:"max_score,omitempty"`
	Attributes   []Attribute     `json:"attributes,omitempty"`
	Attachments  []Attachment    `json:"attachments,omitempty"`
	RemoteFields json.RawMessage `json:"remote_fields,omitempty"`
}

// MaxAttachments is the number of attachments Kombo accepts on one result.
const MaxAttachments = 5

// The attribute types of a result.
const (
	AttributeText      = "TEXT"
	AttributeSubResult = "SUB_RESULT"
)

// Attribute is one entry of a result's attributes: a tagged union of
// TEXT {type, label, value} and SUB_RESULT {type, id, label, score, status}.
// Type selects the variant; only that variant's fields are encoded, and
// decoding keeps only the fields of the type it finds. Build attributes with
// TextAttribute and SubResult.
type Attribute struct {
	Type  string
	Label string // both types

	Value string // TEXT

	ID     string      // SUB_RESULT: your id of the section or sub-test
	Score  *Score      // SUB_RESULT
	Status OrderStatus // SUB_RESULT: COMPLETED or CANCELLED
}

// Score is the score of a SUB_RESULT attribute. Max must be at least 1.
type Score struct {
	Value float64 `json:"value"`
	Max   float64 `json:"max"`
}

// TextAttribute returns a TEXT attribute, a free label/value pair.
func TextAttribute(label, value string) Attribute {
	return Attribute{Type: AttributeText, Label: label, Value: value}
}

// SubResult returns a SUB_RESULT attribute: the result of one section of an
// assessment, identified by your id.
func SubResult(id, label string, value, maxValue float64, status OrderStatus) Attribute {
	return Attribute{Type: AttributeSubResult, ID: id, Label: label, Score: &Score{value, maxValue}, Status: status}
}

type textAttribute struct {
	Type  string `json:"type"`
	Label string `json:"label"`
	Value string `json:"value"`
}

type subResultAttribute struct {
	Type   string      `json:"type"`
	ID     string      `json:"id"`
	Label  string      `json:"label"`
	Score  *Score      `json:"score"`
	Status OrderStatus `json:"status"`
}

// anyAttribute holds an attribute of a type this package does not know, so
// that it survives decoding and encoding.
type anyAttribute struct {
	Type   string      `json:"type"`
	Label  string      `json:"label,omitempty"`
	Value  string      `json:"value,omitempty"`
	ID     string      `json:"id,omitempty"`
	Score  *Score      `json:"score,omitempty"`
	Status OrderStatus `json:"status,omitempty"`
}

// MarshalJSON encodes the fields of a's type only.
func (a Attribute) MarshalJSON() ([]byte, error) {
	switch a.Type {
	case AttributeText:
		return json.Marshal(textAttribute{a.Type, a.Label, a.Value})
	case AttributeSubResult:
		return json.Marshal(subResultAttribute{a.Type, a.ID, a.Label, a.Score, a.Status})
	}
	return json.Marshal(anyAttribute(a))
}

// UnmarshalJSON decodes an attribute by its "type", keeping only the fields
// of that type.
func (a *Attribute) UnmarshalJSON(data []byte) error {
	var peek struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &peek); err != nil {
		return err
	}
	switch peek.Type {
	case AttributeText:
		var t textAttribute
		if err := json.Unmarshal(data, &t); err != nil {
			return err
		}
		*a = Attribute{Type: t.Type, Label: t.Label, Value: t.Value}
	case AttributeSubResult:
		var s subResultAttribute
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*a = Attribute{Type: s.Type, ID: s.ID, Label: s.Label, Score: s.Score, Status: s.Status}
	default:
		var v anyAttribute
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*a = Attribute(v)
	}
	return nil
}

// Attachment is a file attached to a result. Set exactly one of Data, the
// file's contents in standard base64, and DataURL, a URL Kombo can download
// the file from without credentials (Kombo recommends DataURL). ContentType is
// required with Data; with DataURL Kombo falls back to the download's
// Content-Type.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Data        string `json:"data,omitempty"`
	DataURL     string `json:"data_url,omitempty"`
}

// Patterns from Kombo's OpenAPI document.
var (
	dateTimeRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?Z?$`)
	contentTypeRE = regexp.MustCompile(`^[\w.-]+\/[\w.-]+$`)
)

// Validate checks r against the rules Kombo applies to the request, and a few
// it implies: a known status, an absolute result_url, completed_at in Kombo's
// format and present for COMPLETED and CANCELLED, well-formed attributes and
// attachments (at most MaxAttachments), finite numbers, and remote_fields an
// object. It returns a *ValidationError naming the first wrong field by its
// JSON path, such as "attachments[2].content_type".
func (r *ResultRequest) Validate() error {
	switch r.Status {
	case "":
		return required("status")
	case OrderStatusCompleted, OrderStatusCancelled, OrderStatusOpen:
	default:
		return &ValidationError{"status", fmt.Sprintf("must be COMPLETED, CANCELLED or OPEN, not %q", r.Status)}
	}
	if r.ResultURL == "" {
		return &ValidationError{"result_url", "is required by Kombo for every status (COMPLETED, CANCELLED and OPEN): the link to the result in your product"}
	}
	if err := checkURL("result_url", r.ResultURL); err != nil {
		return err
	}
	switch {
	case r.CompletedAt != nil:
		if !dateTimeRE.MatchString(*r.CompletedAt) {
			return &ValidationError{"completed_at", fmt.Sprintf("%q is not of the form 2006-01-02T15:04:05.000Z", *r.CompletedAt)}
		}
	case r.Status != OrderStatusOpen:
		return &ValidationError{"completed_at", "is required when status is " + string(r.Status)}
	}
	if err := checkFinite("score", r.Score); err != nil {
		return err
	}
	if err := checkFinite("max_score", r.MaxScore); err != nil {
		return err
	}
	for i, a := range r.Attributes {
		if err := a.validate(fmt.Sprintf("attributes[%d].", i)); err != nil {
			return err
		}
	}
	if len(r.Attachments) > MaxAttachments {
		return &ValidationError{"attachments", fmt.Sprintf("has %d items; at most %d are allowed", len(r.Attachments), MaxAttachments)}
	}
	for i, a := range r.Attachments {
		if err := a.validate(fmt.Sprintf("attachments[%d].", i)); err != nil {
			return err
		}
	}
	if r.RemoteFields != nil {
		if !json.Valid(r.RemoteFields) || !bytes.HasPrefix(bytes.TrimSpace(r.RemoteFields), []byte("{")) {
			return &ValidationError{"remote_fields", "must be a JSON object"}
		}
	}
	return nil
}

func (a *Attribute) validate(prefix string) error {
	switch a.Type {
	case "":
		return required(prefix + "type")
	case AttributeText:
		return firstMissing(prefix, "label", a.Label)
	case AttributeSubResult:
		if err := firstMissing(prefix, "id", a.ID, "label", a.Label); err != nil {
			return err
		}
		if a.Score == nil {
			return required(prefix + "score")
		}
		if err := checkFinite(prefix+"score.value", &a.Score.Value); err != nil {
			return err
		}
		if err := checkFinite(prefix+"score.max", &a.Score.Max); err != nil {
			return err
		}
		if a.Score.Max < 1 {
			return &ValidationError{prefix + "score.max", fmt.Sprintf("must be at least 1, not %v", a.Score.Max)}
		}
		switch a.Status {
		case "":
			return required(prefix + "status")
		case OrderStatusCompleted, OrderStatusCancelled:
			return nil
		}
		return &ValidationError{prefix + "status", fmt.Sprintf("must be COMPLETED or CANCELLED, not %q", a.Status)}
	}
	return &ValidationError{prefix + "type", fmt.Sprintf("must be TEXT or SUB_RESULT, not %q", a.Type)}
}

func (a *Attachment) validate(prefix string) error {
	if a.Name == "" {
		return required(prefix + "name")
	}
	switch {
	case a.Data == "" && a.DataURL == "":
		return &ValidationError{prefix + "data", "one of data and data_url is required"}
	case a.Data != "" && a.DataURL != "":
		return &ValidationError{prefix + "data_url", "must not be set together with data"}
	case a.Data != "":
		// StdEncoding ignores line breaks, which Kombo's decoder may not.
		if _, err := base64.StdEncoding.DecodeString(a.Data); err != nil || strings.ContainsAny(a.Data, "\r\n") {
			return &ValidationError{prefix + "data", "is not standard base64 on one line"}
		}
		if a.ContentType == "" {
			return &ValidationError{prefix + "content_type", "is required with data"}
		}
	default:
		if err := checkURL(prefix+"data_url", a.DataURL); err != nil {
			return err
		}
	}
	if a.ContentType != "" && !contentTypeRE.MatchString(a.ContentType) {
		return &ValidationError{prefix + "content_type", fmt.Sprintf("%q is not a MIME type like application/pdf", a.ContentType)}
	}
	return nil
}

func checkURL(field, s string) error {
	if s == "" {
		return required(field)
	}
	if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
		return &ValidationError{field, fmt.Sprintf("%q is not an absolute URL", s)}
	}
	return nil
}

// checkFinite rejects NaN and infinities, which JSON cannot carry.
func checkFinite(field string, f *float64) error {
	if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
		return &ValidationError{field, fmt.Sprintf("must be a finite number, not %v", *f)}
	}
	return nil
}

// FormatTime formats t as Kombo expects timestamps in requests:
// UTC with milliseconds, "2006-01-02T15:04:05.000Z".
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
