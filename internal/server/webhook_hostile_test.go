package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

// webhookHandler returns the server's handler on a fresh store of d, which
// takes the seed orders' package.
func webhookHandler(tb testing.TB, d storetest.Database) (http.Handler, *store.Store) {
	tb.Helper()
	db := storetest.Open(tb, d)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(db, store.Config{Logger: logger})
	h := New(Config{
		Store: st, Logger: logger, WebhookSecrets: []string{fuzzSecret},
		Catalogue: orders.NewCatalogue([]orders.Package{
			{Package: kombo.Package{ID: "typescript_test", Type: kombo.PackageSkillsTest, Name: "TS"}},
			{Package: kombo.Package{ID: "ts-coding-60", Type: kombo.PackageSkillsTest, Name: "TS 60"}},
		}),
		AssessmentURL: "https://a.example/{token}",
	}).Handler()
	return h, st
}

// postSigned posts body, signed, to the webhook and returns the status and
// the answer.
func postSigned(h http.Handler, body []byte) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/kombo", bytes.NewReader(body))
	req.Header.Set(kombo.SignatureHeader, kombo.Sign(fuzzSecret, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// seedOrder returns the seed order webhook with its order edited: set
// sets string fields by dotted path under data ("candidate.first_name").
func seedOrder(t *testing.T, eventID, orderID string, set map[string]any) []byte {
	t.Helper()
	b, err := os.ReadFile("../../kombo/testdata/webhook-assessment-order-received.json")
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	w["id"] = eventID
	data := w["data"].(map[string]any)
	data["id"] = orderID
	for path, v := range set {
		m, keys := data, strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			m = m[k].(map[string]any)
		}
		m[keys[len(keys)-1]] = v
	}
	out, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWebhook_HostileBodies feeds SQLite and Postgres the same correctly
// signed hostile bodies: each gets the same documented answer on both,
// again on a redelivery (never 503), a 422 names the field and puts the
// order on the stuck list, and a 400 is only for a webhook whose ids
// cannot be read or stored.
func TestWebhook_HostileBodies(t *testing.T) {
	long := strings.Repeat("x", 3000) // past Postgres's b-tree entry limit of 2704 bytes
	seed := seedOrder(t, "ev-seed", "o-seed", nil)
	invalidUTF8 := bytes.Replace(seedOrder(t, "ev-utf8", "o-utf8", nil), []byte(`"Schneider"`), []byte("\"Schn\xffeider\""), 1)
	invalidUTF8Extra := bytes.Replace(seedOrder(t, "ev-utf8x", "o-utf8x", nil), []byte(`"status":"OPEN"`), []byte("\"status\":\"OPEN\",\"note\":\"\xc3\x28\""), 1)
	tests := []struct {
		name   string
		body   []byte
		status int
		field  string // named in the answer's message
		stuck  string // the order then on the stuck list
	}{
		{"Seed", seed, 200, "", ""},
		{"NULInOrderID", seedOrder(t, "ev-1", "o\x001", nil), 400, "data.id", ""},
		{"NULInIntegrationID", seedOrder(t, "ev-2", "o-2", map[string]any{"integration_id": "greenhouse:\x00"}), 400, "data.integration_id", ""},
		{"NULInEventID", seedOrder(t, "ev\x003", "o-3", nil), 400, "id", ""},
		{"LongOrderID", seedOrder(t, "ev-4", long, nil), 400, "data.id", ""},
		{"LongEventID", seedOrder(t, long, "o-5", nil), 400, "id", ""},
		{"NULInOrganisation", []byte(`{"id":"ev-6","type":"integration-created","data":{"id":"greenhouse:x","tool":"greenhouse","category":"ATS","end_user":{"organization_name":"Acme\u0000 Corp"}}}`), 400, "data.end_user.organization_name", ""},
		{"LongIntegrationID", []byte(`{"id":"ev-7","type":"integration-created","data":{"id":"` + long + `","tool":"greenhouse","category":"ATS","end_user":{"organization_name":"Acme"}}}`), 400, "data.id", ""},
		{"NULInUnknownType", []byte(`{"id":"ev-8","type":"candidate:updated","data":{"note":"\u0000"}}`), 400, "data.note", ""},
		{"LongType", []byte(`{"id":"ev-9","type":"` + long + `","data":{}}`), 400, "type", ""},
		{"UnknownType", []byte(`{"id":"ev-10","type":"candidate:updated","data":{"email":"ada@example.com"}}`), 200, "", ""},
		{"NULInCandidateName", seedOrder(t, "ev-11", "o-11", map[string]any{"candidate.first_name": "Ma\x00ria"}), 422, "data.candidate.first_name", "o-11"},
		{"InvalidUTF8InCandidateName", invalidUTF8, 422, "data.candidate.last_name", "o-utf8"},
		{"InvalidUTF8InUnknownField", invalidUTF8Extra, 422, "data.note", "o-utf8x"},
		{"LongPackageID", seedOrder(t, "ev-12", "o-12", map[string]any{"package_id": long}), 422, "data.package_id", "o-12"},
		{"EmailWithName", seedOrder(t, "ev-13", "o-13", map[string]any{"candidate.email": "Maria <maria@example.com>"}), 422, "data.candidate.email", "o-13"},
		{"UnknownStatus", seedOrder(t, "ev-14", "o-14", map[string]any{"status": "LOST"}), 422, "data.status", "o-14"},
		{"PackageNotOffered", seedOrder(t, "ev-15", "o-15", map[string]any{"package_id": "cobol"}), 422, "cobol", "o-15"},
	}
	dbs := storetest.Databases(t)
	type answer struct {
		status  int
		message string
	}
	got := make([]map[string]answer, len(dbs))
	for i, d := range dbs {
		got[i] = map[string]answer{}
		t.Run(d.Name, func(t *testing.T) {
			h, st := webhookHandler(t, d)
			for _, tt := range tests {
				for delivery := 1; delivery <= 2; delivery++ {
					status, body := postSigned(h, tt.body)
					var e struct {
						Message string `json:"message"`
						Error   struct {
							Message string `json:"message"`
						} `json:"error"`
					}
					_ = json.Unmarshal([]byte(body), &e)
					msg := e.Error.Message
					if status != tt.status || !strings.Contains(msg, tt.field) {
						t.Errorf("%s, delivery %d: POST = %d %s; want %d naming %q", tt.name, delivery, status, body, tt.status, tt.field)
					}
					if status == 422 && e.Message != msg {
						t.Errorf("%s: 422 %s; want Kombo's rejection shape, message flat and in error", tt.name, body)
					}
					got[i][tt.name] = answer{status, msg}
				}
				if tt.stuck != "" {
					o, err := st.FindStuckOrder(context.Background(), tt.stuck)
					if err != nil || o.Reason == "" || o.IntegrationID == "" {
						t.Errorf("%s: stuck order %s = %+v, %v; want it on the stuck list with its reason", tt.name, tt.stuck, o, err)
					}
				}
			}
			list, err := st.StuckOrders(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, tt := range tests {
				if tt.stuck != "" {
					want++
				}
			}
			if len(list) != want {
				t.Errorf("stuck list has %d orders; want the %d refused", len(list), want)
			}
		})
	}
	for i := 1; i < len(dbs); i++ {
		for name, a := range got[0] {
			if b := got[i][name]; a != b {
				t.Errorf("%s: %s answered %+v, %s %+v; want the same", name, dbs[0].Name, a, dbs[i].Name, b)
			}
		}
	}
}
