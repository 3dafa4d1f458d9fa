package kombo_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// readFile returns the contents of testdata/name.
func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// glob returns the base names of the testdata files matching pattern.
func glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no testdata/%s (err %v)", pattern, err)
	}
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	return paths
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		tb.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		tb.Fatalf("unmarshal %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// wantField fails unless err is a *kombo.ValidationError naming field.
func wantField(tb testing.TB, what string, err error, field string) {
	tb.Helper()
	var ve *kombo.ValidationError
	switch {
	case field == "" && err != nil:
		tb.Errorf("%s = %v; want nil", what, err)
	case field != "" && !errors.As(err, &ve):
		tb.Errorf("%s = %v; want *ValidationError for %s", what, err, field)
	case field != "" && ve.Field != field:
		tb.Errorf("%s = %v; want error for field %s", what, err, field)
	}
}

func TestResultRequest_examples(t *testing.T) {
	for _, name := range glob(t, "request-put-order-result-*.json") {
		t.Run(name, func(t *testing.T) {
			data := readFile(t, name)
			var r kombo.ResultRequest
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if err := r.Validate(); err != nil {
				t.Errorf("Validate() = %v; want nil", err)
			}
			got, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, data) {
				t.Errorf("round trip:\n got %s\nwant %s", got, data)
			}
		})
	}
}

func TestAttribute_JSON(t *testing.T) {
	tests := []struct {
		name string
		attr kombo.Attribute
		json string
	}{
		{"text", kombo.TextAttribute("Role fit", "Excellent"), `{"type":"TEXT","label":"Role fit","value":"Excellent"}`},
		{"sub result", kombo.SubResult("algo", "Algorithms", 41, 50, kombo.OrderStatusCompleted),
			`{"type":"SUB_RESULT","id":"algo","label":"Algorithms","score":{"value":41,"max":50},"status":"COMPLETED"}`},
		{"unknown type", kombo.Attribute{Type: "CHART", Label: "Radar"}, `{"type":"CHART","label":"Radar"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.attr)
			if err != nil || string(got) != tt.json {
				t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.attr, got, err, tt.json)
			}
			var back kombo.Attribute
			if err := json.Unmarshal([]byte(tt.json), &back); err != nil || !reflect.DeepEqual(back, tt.attr) {
				t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", tt.json, back, err, tt.attr)
			}
		})
	}

	// Fields of the other variant are dropped both ways.
	mixed := kombo.Attribute{Type: kombo.AttributeText, Label: "L", Value: "V", ID: "x", Status: kombo.OrderStatusCompleted}
	if got, _ := json.Marshal(mixed); string(got) != `{"type":"TEXT","label":"L","value":"V"}` {
		t.Errorf("Marshal(%+v) = %s; want TEXT fields only", mixed, got)
	}
	var a kombo.Attribute
	in := `{"type":"SUB_RESULT","id":"s","label":"L","value":"stray","score":{"value":1,"max":2},"status":"CANCELLED"}`
	if err := json.Unmarshal([]byte(in), &a); err != nil || a.Value != "" || a.ID != "s" {
		t.Errorf("Unmarshal(%s) = %+v, %v; want SUB_RESULT fields only", in, a, err)
	}
	if err := json.Unmarshal([]byte(`{"type":1}`), &a); err == nil {
		t.Errorf(`Unmarshal({"type":1}) = nil; want error`)
	}
}

func TestResultRequest_Validate(t *testing.T) {
	completed := func() *kombo.ResultRequest {
		return &kombo.ResultRequest{
			Status:      kombo.OrderStatusCompleted,
			ResultURL:   "https://app.example/results/1",
			CompletedAt: new("2026-07-30T16:42:05.000Z"),
			Score:       new(82.0),
			MaxScore:    new(100.0),
			Attributes: []kombo.Attribute{
				kombo.TextAttribute("Recommendation", "Strong hire"),
				kombo.SubResult("algo", "Algorithms", 41, 50, kombo.OrderStatusCompleted),
			},
			Attachments: []kombo.Attachment{
				{Name: "report.pdf", ContentType: "application/pdf", Data: "JVBERi0xLjQK"},
				{Name: "code.zip", DataURL: "https://files.example/signed/abc?X-Amz-Expires=900"},
			},
			RemoteFields: json.RawMessage(`{"recruitee":{"subtitle":"Go"}}`),
		}
	}
	att := kombo.Attachment{Name: "a.txt", DataURL: "https://files.example/a"}
	tests := []struct {
		name   string
		change func(r *kombo.ResultRequest)
		field  string // "" if valid
	}{
		{"valid", func(r *kombo.ResultRequest) {}, ""},
		{"open without completed_at", func(r *kombo.ResultRequest) { r.Status, r.CompletedAt = kombo.OrderStatusOpen, nil }, ""},
		{"date only", func(r *kombo.ResultRequest) { r.CompletedAt = new("2026-07-30") }, ""},
		{"no fraction or zone", func(r *kombo.ResultRequest) { r.CompletedAt = new("2026-07-30T16:42:05") }, ""},
		{"five attachments", func(r *kombo.ResultRequest) { r.Attachments = []kombo.Attachment{att, att, att, att, att} }, ""},
		{"data_url with content_type", func(r *kombo.ResultRequest) { r.Attachments[1].ContentType = "application/zip" }, ""},
		{"empty text value", func(r *kombo.ResultRequest) { r.Attributes[0].Value = "" }, ""},

		{"missing status", func(r *kombo.ResultRequest) { r.Status = "" }, "status"},
		{"rejected status", func(r *kombo.ResultRequest) { r.Status = kombo.OrderStatusRejected }, "status"},
		{"unknown status", func(r *kombo.ResultRequest) { r.Status = "DONE" }, "status"},
		{"missing result_url", func(r *kombo.ResultRequest) { r.ResultURL = "" }, "result_url"},
		{"relative result_url", func(r *kombo.ResultRequest) { r.ResultURL = "/results/1" }, "result_url"},
		{"result_url without host", func(r *kombo.ResultRequest) { r.ResultURL = "https:results" }, "result_url"},
		{"completed without completed_at", func(r *kombo.ResultRequest) { r.CompletedAt = nil }, "completed_at"},
		{"cancelled without completed_at", func(r *kombo.ResultRequest) { r.Status, r.CompletedAt = kombo.OrderStatusCancelled, nil }, "completed_at"},
		{"completed_at with offset", func(r *kombo.ResultRequest) { r.CompletedAt = new("2026-07-30T16:42:05+02:00") }, "completed_at"},
		{"completed_at in words", func(r *kombo.ResultRequest) { r.CompletedAt = new("yesterday") }, "completed_at"},
		{"NaN score", func(r *kombo.ResultRequest) { r.Score = new(math.NaN()) }, "score"},
		{"infinite max_score", func(r *kombo.ResultRequest) { r.MaxScore = new(math.Inf(1)) }, "max_score"},
		{"attribute without type", func(r *kombo.ResultRequest) { r.Attributes[1].Type = "" }, "attributes[1].type"},
		{"attribute of unknown type", func(r *kombo.ResultRequest) { r.Attributes[0].Type = "CHART" }, "attributes[0].type"},
		{"text without label", func(r *kombo.ResultRequest) { r.Attributes[0].Label = "" }, "attributes[0].label"},
		{"sub result without id", func(r *kombo.ResultRequest) { r.Attributes[1].ID = "" }, "attributes[1].id"},
		{"sub result without label", func(r *kombo.ResultRequest) { r.Attributes[1].Label = "" }, "attributes[1].label"},
		{"sub result without score", func(r *kombo.ResultRequest) { r.Attributes[1].Score = nil }, "attributes[1].score"},
		{"sub result max below 1", func(r *kombo.ResultRequest) { r.Attributes[1].Score.Max = 0.5 }, "attributes[1].score.max"},
		{"sub result NaN value", func(r *kombo.ResultRequest) { r.Attributes[1].Score.Value = math.NaN() }, "attributes[1].score.value"},
		{"sub result without status", func(r *kombo.ResultRequest) { r.Attributes[1].Status = "" }, "attributes[1].status"},
		{"sub result open", func(r *kombo.ResultRequest) { r.Attributes[1].Status = kombo.OrderStatusOpen }, "attributes[1].status"},
		{"six attachments", func(r *kombo.ResultRequest) { r.Attachments = []kombo.Attachment{att, att, att, att, att, att} }, "attachments"},
		{"attachment without name", func(r *kombo.ResultRequest) { r.Attachments[0].Name = "" }, "attachments[0].name"},
		{"attachment without data", func(r *kombo.ResultRequest) { r.Attachments[1].DataURL = "" }, "attachments[1].data"},
		{"attachment with both", func(r *kombo.ResultRequest) { r.Attachments[0].DataURL = "https://files.example/x" }, "attachments[0].data_url"},
		{"base64url data", func(r *kombo.ResultRequest) { r.Attachments[0].Data = "-_8=" }, "attachments[0].data"},
		{"unpadded data", func(r *kombo.ResultRequest) { r.Attachments[0].Data = "JVBERi0xLjQ" }, "attachments[0].data"},
		{"wrapped data", func(r *kombo.ResultRequest) { r.Attachments[0].Data = "JVBE\nRi0x" }, "attachments[0].data"},
		{"data without content_type", func(r *kombo.ResultRequest) { r.Attachments[0].ContentType = "" }, "attachments[0].content_type"},
		{"bad content_type", func(r *kombo.ResultRequest) { r.Attachments[0].ContentType = "pdf" }, "attachments[0].content_type"},
		{"content_type with parameters", func(r *kombo.ResultRequest) { r.Attachments[0].ContentType = "text/plain; charset=utf-8" }, "attachments[0].content_type"},
		{"bad content_type with data_url", func(r *kombo.ResultRequest) { r.Attachments[1].ContentType = "zip file" }, "attachments[1].content_type"},
		{"relative data_url", func(r *kombo.ResultRequest) { r.Attachments[1].DataURL = "files/x" }, "attachments[1].data_url"},
		{"remote_fields array", func(r *kombo.ResultRequest) { r.RemoteFields = json.RawMessage(`[]`) }, "remote_fields"},
		{"remote_fields null", func(r *kombo.ResultRequest) { r.RemoteFields = json.RawMessage(`null`) }, "remote_fields"},
		{"remote_fields broken", func(r *kombo.ResultRequest) { r.RemoteFields = json.RawMessage(`{"a":`) }, "remote_fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := completed()
			tt.change(r)
			wantField(t, "Validate()", r.Validate(), tt.field)
		})
	}
}

func TestResultRequest_omitsUnset(t *testing.T) {
	r := kombo.ResultRequest{Status: kombo.OrderStatusOpen, ResultURL: "https://app.example/r/1"}
	got, err := json.Marshal(&r)
	want := `{"status":"OPEN","result_url":"https://app.example/r/1"}`
	if err != nil || string(got) != want {
		t.Errorf("Marshal = %s, %v; want %s", got, err, want)
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 7, 30, 16, 42, 5, 0, time.UTC), "2026-07-30T16:42:05.000Z"},
		{time.Date(2026, 7, 30, 18, 42, 5, 123456789, time.FixedZone("CEST", 2*3600)), "2026-07-30T16:42:05.123Z"},
	}
	for _, tt := range tests {
		if got := kombo.FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
