package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

const fuzzSecret = "fuzz-secret"

// FuzzWebhook feeds the webhook handler arbitrary bodies and signatures,
// some signed correctly so that decoding and storage are reached too: no
// panic, no 5xx, nothing stored for a rejected request, and the same
// answer from SQLite and, when ASSESSGATE_TEST_DATABASE_URL is set (as in
// CI, which runs it bounded), Postgres.
func FuzzWebhook(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "kombo", "testdata", "webhook-*.json"))
	if len(seeds) == 0 {
		f.Fatal("no seed webhooks in kombo/testdata")
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "", true)
		f.Add(b, kombo.Sign("other", b), false)
		f.Add(bytes.ReplaceAll(b, []byte(`"OPEN"`), []byte(`"LOST"`)), "", true)
		f.Add(bytes.ReplaceAll(b, []byte(`"email"`), []byte(`"mail"`)), "", true)
	}
	f.Add([]byte(`{"id":"e","type":"x","data":{}}`), "", true)
	f.Add([]byte(`{"id":"e\u0000","type":"x","data":{}}`), "", true)
	f.Add([]byte("{\"id\":\"e\",\"type\":\"x\",\"data\":{\"a\":\"\xff\"}}"), "", true)
	f.Add([]byte(`{"id":"e","type":"integration-created","data":{"id":"i\u0000","tool":"t","end_user":{"organization_name":"\u0000"}}}`), "", true)
	f.Add([]byte(`{}`), "", true)
	f.Add([]byte{}, "", false)

	type target struct {
		name string
		h    http.Handler
		db   *store.DB
	}
	var targets []target
	for _, d := range storetest.Databases(f) {
		h, st := webhookHandler(f, d)
		targets = append(targets, target{d.Name, h, st.DB()})
	}

	f.Fuzz(func(t *testing.T, body []byte, sig string, sign bool) {
		if sign {
			sig = kombo.Sign(fuzzSecret, body)
		}
		first := 0
		for i, tg := range targets {
			before := rowCounts(t, tg.db)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/kombo", bytes.NewReader(body))
			req.Header.Set(kombo.SignatureHeader, sig)
			rec := httptest.NewRecorder()
			tg.h.ServeHTTP(rec, req)

			if rec.Code >= 500 || rec.Code < 200 {
				t.Fatalf("%s: POST = %d %s; want 2xx or 4xx", tg.name, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				if after := rowCounts(t, tg.db); after != before {
					t.Fatalf("%s: rejected request (%d %s) changed the database: %v -> %v", tg.name, rec.Code, rec.Body, before, after)
				}
			}
			if i == 0 {
				first = rec.Code
			} else if rec.Code != first {
				t.Fatalf("%s answered %d %s, %s %d; want the same", tg.name, rec.Code, rec.Body, targets[0].name, first)
			}
		}
	})
}

func rowCounts(t *testing.T, db *store.DB) [4]int {
	t.Helper()
	var c [4]int
	for i, table := range []string{"webhook_events", "orders", "order_events", "links"} {
		if err := db.Writer.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&c[i]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}
