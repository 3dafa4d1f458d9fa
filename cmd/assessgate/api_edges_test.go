package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/store/storetest"
)

// TestAPI_RoughEdges: a retry of an unknown kind of dead letter is a 400
// naming the kinds, not 200 {"retried": 0}; an empty catalogue, which
// would accept every package, is refused through the API and as a file.
func TestAPI_RoughEdges(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		var e struct {
			Error struct{ Code, Message string }
		}
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(`{"kind":"write_back"}`), &e); status != 400 ||
			!strings.Contains(e.Error.Message, `unknown kind "write_back"`) || !strings.Contains(e.Error.Message, "writeback") {
			t.Errorf("retry of kind write_back = %d %+v; want 400 naming the kinds", status, e.Error)
		}
		var ok struct{ Retried int }
		if status := a.api("POST", "/api/v1/dead-letters/retry", []byte(`{"kind":"writeback"}`), &ok); status != 200 || ok.Retried != 0 {
			t.Errorf("retry of kind writeback = %d %+v; want 200, none retried", status, ok)
		}
		if status := a.api("GET", "/api/v1/dead-letters?kind=write_back", nil, &e); status != 400 {
			t.Errorf("list of kind write_back = %d; want 400", status)
		}

		if status := a.api("PUT", "/api/v1/packages", []byte(`{"packages":[]}`), &e); status != 400 || !strings.Contains(e.Error.Message, "packages: is empty") {
			t.Errorf("PUT an empty catalogue = %d %+v; want 400", status, e.Error)
		}
		var list struct{ Packages []any }
		if status := a.api("GET", "/api/v1/packages", nil, &list); status != 200 || len(list.Packages) != 0 {
			t.Errorf("catalogue after the refused PUT = %d %v; want unchanged", status, list)
		}
	})

	file := filepath.Join(t.TempDir(), "packages.json")
	if err := os.WriteFile(file, []byte(`{"packages": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_DATABASE_URL": storetest.SQLite(t).URL}
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--packages-file", file}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--packages-file "+file+": has no packages") {
		t.Errorf("serve with an empty packages file = %v; want it refused, naming the flag and the file", err)
	}
}
