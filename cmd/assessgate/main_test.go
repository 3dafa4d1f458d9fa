package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

const (
	testSecret = "whsec_test_secret"
	testToken  = "test-api-token"
)

// app is assessgate started through run(), as main starts it.
type app struct {
	t      testing.TB
	URL    string
	DBURL  string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startApp runs "assessgate serve" on a free port with env (on top of a
// webhook secret, an API token and dbURL) and waits until it is healthy. It
// is stopped when the test ends.
func startApp(t testing.TB, dbURL string, env map[string]string, args ...string) *app {
	t.Helper()
	return startAppClock(t, nil, dbURL, env, args...)
}

// startAppClock is startApp on clk, which the store, River and the admin
// pages go by; nil runs "serve" through run, as main does.
func startAppClock(t testing.TB, clk *clock.Stub, dbURL string, env map[string]string, args ...string) *app {
	t.Helper()
	full := map[string]string{
		"KOMBO_WEBHOOK_SECRET":      testSecret,
		"ASSESSGATE_API_TOKEN":      testToken,
		"ASSESSGATE_DATABASE_URL":   dbURL,
		"ASSESSGATE_ADDR":           "127.0.0.1:0",
		"ASSESSGATE_ASSESSMENT_URL": "https://assess.example/start/{package_id}/{order_id}?t={token}",
	}
	for k, v := range env {
		full[k] = v
	}
	getenv := func(k string) string { return full[k] }

	// Postgres is migrated by serve only when asked; "--migrate=false" in
	// args keeps it from being asked.
	if strings.HasPrefix(dbURL, "postgres") && !slices.Contains(args, "--migrate=false") {
		args = append(args, "--migrate")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	a := &app{t: t, DBURL: dbURL, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	go func() {
		var err error
		if clk == nil {
			err = run(ctx, append([]string{"serve"}, args...), getenv, pw, a.logs)
		} else {
			err = serve(ctx, args, getenv, pw, a.logs, clk)
		}
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		a.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("assessgate did not start: %v\nlogs:\n%s", err, a.logs)
	}
	go io.Copy(io.Discard, pr)
	a.URL = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	t.Cleanup(a.stop)

	resp, err := apitest.Client(t).Get(a.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %v, %v", resp, err)
	}
	resp.Body.Close()
	return a
}

// stop cancels run's context and waits for it to return.
func (a *app) stop() {
	a.cancel()
	select {
	case err := <-a.done:
		if err != nil {
			a.t.Errorf("run() = %v; want nil after shutdown", err)
		}
		a.done <- err // let a later stop see it too
	case <-time.After(30 * time.Second):
		a.t.Errorf("run() did not return within 30s of shutdown")
	}
}

// webhook posts body signed with testSecret.
func (a *app) webhook(body []byte) (int, []byte) {
	a.t.Helper()
	return a.post("/webhooks/kombo", body, map[string]string{kombo.SignatureHeader: kombo.Sign(testSecret, body)})
}

func (a *app) post(path string, body []byte, headers map[string]string) (int, []byte) {
	a.t.Helper()
	return a.do(http.MethodPost, path, body, headers)
}

func (a *app) do(method, path string, body []byte, headers map[string]string) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.URL+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := apitest.Client(a.t).Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// api calls the vendor API with the test token and decodes the JSON answer.
func (a *app) api(method, path string, body []byte, v any) int {
	a.t.Helper()
	status, b := a.do(method, path, body, map[string]string{"Authorization": "Bearer " + testToken})
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			a.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return status
}

// db opens the app's database beside it, for checks the API does not offer.
func (a *app) db() *sql.DB {
	a.t.Helper()
	db, err := store.Open(context.Background(), a.DBURL)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { db.Close() })
	return db.Writer
}

// count returns the number of rows of a table matching an optional where.
func (a *app) count(table, where string, args ...any) int {
	a.t.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := a.db().QueryRow(q, args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// oneInviteEach reports whether every stored order, and nothing else, is in
// exactly one invitation job, as the intake's hook puts it.
func (a *app) oneInviteEach() error {
	a.t.Helper()
	db, err := store.Open(context.Background(), a.DBURL)
	if err != nil {
		a.t.Fatal(err)
	}
	defer db.Close()
	jobs := inviteJobs(a.t, db)
	if n := a.count("orders", ""); len(jobs) != n {
		return fmt.Errorf("%d orders in invitation jobs; want the %d stored", len(jobs), n)
	}
	for id, states := range jobs {
		if len(states) != 1 {
			return fmt.Errorf("order %s is in %d invitation jobs; want 1", id, len(states))
		}
	}
	return nil
}

// fixture reads a file of Kombo's examples.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	for _, dir := range []string{"testdata", filepath.Join("..", "..", "kombo", "testdata")} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return b
		}
	}
	t.Fatalf("fixture %s not found", name)
	return nil
}

// forEachDatabase runs f against a fresh SQLite database, and a fresh
// Postgres one when the tests have a Postgres server.
func forEachDatabase(t *testing.T, f func(t *testing.T, dbURL string)) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, d.URL) })
	}
}
