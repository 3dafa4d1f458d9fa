package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

const fuzzSecret = "fuzz-secret"

// FuzzWebhook feeds the webhook handler arbitrary bodies and signatures,
// some signed correctly so that decoding and storage are reached too: no
// panic, no 5xx, and nothing stored for a rejected request.
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
	f.Add([]byte(`{}`), "", true)
	f.Add([]byte{}, "", false)

	db := storetest.Open(f, storetest.SQLite(f))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(db, store.Config{Logger: logger})
	h := New(Config{
		Store: st, Logger: logger, WebhookSecrets: []string{fuzzSecret},
		Catalogue:     orders.NewCatalogue([]orders.Package{{Package: kombo.Package{ID: "typescript_test", Type: kombo.PackageSkillsTest, Name: "TS", Description: ""}}}),
		AssessmentURL: "https://a.example/{token}",
	}).Handler()

	f.Fuzz(func(t *testing.T, body []byte, sig string, sign bool) {
		if sign {
			sig = kombo.Sign(fuzzSecret, body)
		}
		before := rowCounts(t, db)
		req := httptest.NewRequest(http.MethodPost, "/webhooks/kombo", bytes.NewReader(body))
		req.Header.Set(kombo.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("POST = %d %s; want 2xx or 4xx", rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			if after := rowCounts(t, db); after != before {
				t.Fatalf("rejected request (%d %s) changed the database: %v -> %v", rec.Code, rec.Body, before, after)
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
