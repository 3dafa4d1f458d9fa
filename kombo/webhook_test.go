package kombo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/kombo"
)

func TestParseWebhook_examples(t *testing.T) {
	for _, name := range glob(t, "webhook-*.json") {
		t.Run(name, func(t *testing.T) {
			w, err := kombo.ParseWebhook(readFile(t, name))
			if err != nil {
				t.Fatalf("ParseWebhook(%s) = %v; want nil", name, err)
			}
			var typed any
			switch w.Type {
			case kombo.EventOrderReceived, kombo.EventInlineOrderReceived:
				typed = w.Order
			case kombo.EventIntegrationCreated:
				typed = w.IntegrationCreated
			case kombo.EventIntegrationDeleted:
				typed = w.IntegrationDeleted
			case kombo.EventIntegrationStateChanged:
				typed = w.IntegrationStateChanged
			case kombo.EventConnectionFlowFailed:
				typed = w.ConnectionFlowFailed
			default:
				t.Fatalf("ParseWebhook(%s).Type = %q, not a type this package models", name, w.Type)
			}
			if typed == nil {
				t.Errorf("ParseWebhook(%s) did not decode the data of a %s webhook", name, w.Type)
			}
		})
	}
}

func TestParseWebhook_order(t *testing.T) {
	w, err := kombo.ParseWebhook(readFile(t, "webhook-assessment-order-received.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := w.Order
	if o.ID != "7Gd2kPqXwR9sTbVn3LmYc5Hz" || o.IntegrationID != "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f" ||
		o.Status != kombo.OrderStatusOpen || o.Candidate.Email != "maria.schneider@example.com" ||
		o.Job.Location == nil || o.Job.Location.Street2 != nil || *o.Job.Location.City != "Berlin" ||
		len(o.Job.HiringTeam) != 2 || o.Job.HiringTeam[1].HiringTeamRoles[0] != "HIRING_MANAGER" {
		t.Errorf("ParseWebhook decoded the order as %+v", o)
	}

	w, err = kombo.ParseWebhook(readFile(t, "webhook-assessment-order-received-nulls.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o := w.Order; o.Candidate.FirstName != nil || o.Job.Location != nil || o.Job.Name != nil {
		t.Errorf("ParseWebhook decoded nulls as %+v", o)
	}
}

// remove marks a key to delete in mutate.
var remove = &struct{}{}

// mutate decodes body, sets the value at the dotted path (or deletes the key
// if value is remove) and encodes it again.
func mutate(tb testing.TB, body []byte, path string, value any) []byte {
	tb.Helper()
	var root map[string]any
	if err := json.Unmarshal(body, &root); err != nil {
		tb.Fatal(err)
	}
	keys := strings.Split(path, ".")
	m := root
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			tb.Fatalf("mutate: %s has no object %s", path, k)
		}
		m = next
	}
	if last := keys[len(keys)-1]; value == remove {
		delete(m, last)
	} else {
		m[last] = value
	}
	out, err := json.Marshal(root)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestParseWebhook_invalid(t *testing.T) {
	const (
		order   = "webhook-assessment-order-received.json"
		inline  = "webhook-inline-assessment-order-received.json"
		created = "webhook-integration-created.json"
		deleted = "webhook-integration-deleted.json"
		state   = "webhook-integration-state-changed.json"
	)
	tests := []struct {
		file  string
		path  string
		value any
		field string
	}{
		{order, "id", remove, "id"},
		{order, "type", "", "type"},
		{order, "data", nil, "data"},
		{order, "data", []any{}, "data"},
		{order, "data.id", remove, "data.id"},
		{order, "data.id", 42, "data.id"},
		{order, "data.integration_id", remove, "data.integration_id"},
		{order, "data.package_id", remove, "data.package_id"},
		{order, "data.package_id", true, "data.package_id"},
		{order, "data.status", "DONE", "data.status"},
		{order, "data.status", remove, "data.status"},
		{order, "data.candidate", "maria", "data.candidate"},
		{order, "data.candidate.email", remove, "data.candidate.email"},
		{order, "data.candidate.email", nil, "data.candidate.email"},
		{order, "data.candidate.email", "maria at example.com", "data.candidate.email"},
		{order, "data.candidate.first_name", 7, "data.candidate.first_name"},
		{order, "data.job.hiring_team", map[string]any{}, "data.job.hiring_team"},
		{order, "data.job.location.city", []any{"Berlin"}, "data.job.location.city"},
		{inline, "data.id", remove, "data.id"},
		{inline, "data.candidate.email", remove, "data.candidate.email"},
		{created, "data.id", remove, "data.id"},
		{created, "data.tool", 1, "data.tool"},
		{deleted, "data.tool", remove, "data.tool"},
		{state, "data.state", "BROKEN", "data.state"},
		{state, "data.integration_id", remove, "data.integration_id"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.path, func(t *testing.T) {
			body := mutate(t, readFile(t, tt.file), tt.path, tt.value)
			w, err := kombo.ParseWebhook(body)
			if w != nil {
				t.Errorf("ParseWebhook(%s) returned a webhook with error %v", body, err)
			}
			wantField(t, "ParseWebhook("+tt.path+")", err, tt.field)
		})
	}

	for _, body := range []string{``, `{`, `[]`, `"x"`, `null`} {
		if w, err := kombo.ParseWebhook([]byte(body)); w != nil || err == nil {
			t.Errorf("ParseWebhook(%q) = %v, %v; want error", body, w, err)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, name := range glob(f, "webhook-*.json") {
		f.Add(readFile(f, name))
	}
	f.Add([]byte(`{"id":"x","type":"assessment:order-received","data":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := kombo.ParseWebhook(body)
		if err != nil {
			if w != nil {
				t.Fatalf("ParseWebhook returned a webhook and error %v", err)
			}
			return
		}
		if w.ID == "" || w.Type == "" || len(w.Data) == 0 {
			t.Fatalf("ParseWebhook(%q) accepted an envelope without id, type or data: %+v", body, w)
		}
		switch w.Type {
		case kombo.EventOrderReceived, kombo.EventInlineOrderReceived:
			o := w.Order
			if o == nil || o.ID == "" || o.IntegrationID == "" || o.PackageID == "" || !o.Status.Valid() || o.Candidate.Email == "" {
				t.Fatalf("ParseWebhook(%q) accepted an order without required fields: %+v", body, o)
			}
		case kombo.EventIntegrationCreated:
			if d := w.IntegrationCreated; d == nil || d.ID == "" || d.Tool == "" {
				t.Fatalf("ParseWebhook(%q) accepted %+v", body, d)
			}
		case kombo.EventIntegrationDeleted:
			if d := w.IntegrationDeleted; d == nil || d.ID == "" || d.Tool == "" {
				t.Fatalf("ParseWebhook(%q) accepted %+v", body, d)
			}
		case kombo.EventIntegrationStateChanged:
			if d := w.IntegrationStateChanged; d == nil || d.IntegrationID == "" || d.State == "" {
				t.Fatalf("ParseWebhook(%q) accepted %+v", body, d)
			}
		case kombo.EventConnectionFlowFailed:
			if w.ConnectionFlowFailed == nil {
				t.Fatalf("ParseWebhook(%q) did not decode connection-flow-failed data", body)
			}
		}
	})
}

// An order whose ids are usable is refused by its id (an *OrderError, 422);
// one whose ids are not, and any other webhook, is a bad request. Text no
// database holds is named by its field, wherever it is.
func TestParseWebhook_orderOrRequest(t *testing.T) {
	const order = "webhook-assessment-order-received.json"
	long := strings.Repeat("x", kombo.MaxIDBytes+1)
	tests := []struct {
		name  string
		body  []byte
		field string
		order bool // an *OrderError
	}{
		{"EmailNotAnAddress", mutate(t, readFile(t, order), "data.candidate.email", "nobody"), "data.candidate.email", true},
		{"UnknownStatus", mutate(t, readFile(t, order), "data.status", "PENDING"), "data.status", true},
		{"NULInName", mutate(t, readFile(t, order), "data.candidate.first_name", "Ma\x00ria"), "data.candidate.first_name", true},
		{"NULInUnknownField", mutate(t, readFile(t, order), "data.extra", []any{"a", "b\x00"}), "data.extra[1]", true},
		{"LongPackage", mutate(t, readFile(t, order), "data.package_id", long), "data.package_id", true},
		{"InvalidUTF8InName", bytes.Replace(readFile(t, order), []byte(`"Maria"`), []byte("\"Ma\xffria\""), 1), "data.candidate.first_name", true},
		{"NULInOrderID", mutate(t, readFile(t, order), "data.id", "o\x00"), "data.id", false},
		{"LongOrderID", mutate(t, readFile(t, order), "data.id", long), "data.id", false},
		{"LongEventID", mutate(t, readFile(t, order), "id", long), "id", false},
		{"NULInIntegrationID", mutate(t, readFile(t, order), "data.integration_id", "\x00"), "data.integration_id", false},
		{"NULInOrganisation", mutate(t, readFile(t, "webhook-integration-created.json"), "data.end_user.organization_name", "A\x00"), "data.end_user.organization_name", false},
		{"NULInType", mutate(t, readFile(t, order), "type", "x\x00"), "type", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := kombo.ParseWebhook(tt.body)
			if w != nil {
				t.Fatalf("ParseWebhook = %+v, %v; want an error", w, err)
			}
			wantField(t, "ParseWebhook", err, tt.field)
			var oe *kombo.OrderError
			if errors.As(err, &oe) != tt.order {
				t.Errorf("ParseWebhook = %T %v; want an *OrderError: %v", err, err, tt.order)
			}
			if tt.order && (oe.OrderID == "" || oe.IntegrationID == "" || oe.EventID == "") {
				t.Errorf("OrderError = %+v; want the event, order and integration ids", oe)
			}
		})
	}
}
