package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/kombo"
)

// orderBody returns the seed order webhook with its event id, order id and
// package id replaced, and fields changed by edit.
func orderBody(t testing.TB, eventID, orderID string, edit func(data map[string]any)) []byte {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal(fixture(t, "seed-assessment-order-received.json"), &w); err != nil {
		t.Fatal(err)
	}
	w["id"] = eventID
	data := w["data"].(map[string]any)
	data["id"] = orderID
	if edit != nil {
		edit(data)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServe_RefusesToStartWithoutSecret(t *testing.T) {
	getenv := func(k string) string {
		if k == "ASSESSGATE_DATABASE_URL" {
			return "sqlite:" + filepath.Join(t.TempDir(), "a.db")
		}
		return ""
	}
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"serve"}, getenv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "KOMBO_WEBHOOK_SECRET") {
		t.Fatalf("run(serve) without a secret = %v; want an error that names KOMBO_WEBHOOK_SECRET", err)
	}
}

func TestWebhook_SignatureVectors(t *testing.T) {
	var vectors struct {
		Vectors []struct {
			Name           string `json:"name"`
			Secret         string `json:"secret"`
			Body           string `json:"body"`
			BodyFile       string `json:"body_file"`
			ExpectedHeader string `json:"expected_header"`
			MustNotEqual   string `json:"must_not_equal"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(fixture(t, "signature-test-vectors.json"), &vectors); err != nil {
		t.Fatal(err)
	}
	// One secret per vector, all configured at once, as while rotating.
	var secrets []string
	for _, v := range vectors.Vectors {
		secrets = append(secrets, v.Secret)
	}
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), map[string]string{"KOMBO_WEBHOOK_SECRET": strings.Join(secrets, ",")})

	for _, v := range vectors.Vectors {
		body := []byte(v.Body)
		if v.BodyFile != "" {
			body = fixture(t, v.BodyFile)
		}
		// The expected signature is accepted: the answer is anything but 401
		// (the "small" vector's body is no valid webhook, so 400).
		status, resp := a.post("/webhooks/kombo", body, map[string]string{kombo.SignatureHeader: v.ExpectedHeader})
		if status == http.StatusUnauthorized {
			t.Errorf("%s: POST with the expected signature = %d %s; want it accepted", v.Name, status, resp)
		}
		// A signature of other bytes with the same secret is refused.
		if v.MustNotEqual != "" {
			status, _ := a.post("/webhooks/kombo", body, map[string]string{kombo.SignatureHeader: v.MustNotEqual})
			if status != http.StatusUnauthorized {
				t.Errorf("%s: POST with the signature of re-serialised JSON = %d; want 401", v.Name, status)
			}
		}
	}
	if n := a.count("orders", ""); n != 1 {
		t.Errorf("orders = %d; want 1 (the full-order vector, delivered twice as compact and pretty JSON)", n)
	}
}

func TestWebhook_Rejections(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	seed := fixture(t, "seed-assessment-order-received.json")
	tests := []struct {
		name    string
		body    []byte
		headers map[string]string
		status  int
		message string // a part of the error message
	}{
		{"NoSignature", seed, nil, 401, "missing X-Kombo-Signature"},
		{"WrongSignature", seed, map[string]string{kombo.SignatureHeader: kombo.Sign("other-secret", seed)}, 401, "does not match"},
		{"SignatureOfOtherBody", seed, map[string]string{kombo.SignatureHeader: kombo.Sign(testSecret, []byte("{}"))}, 401, "does not match"},
		{"GarbageSignature", seed, map[string]string{kombo.SignatureHeader: "not base64 !!"}, 401, "does not match"},
		{"NotJSON", []byte("not json"), nil, 400, "not valid JSON"},
		{"MissingDataID", orderBody(t, "e1", "", nil), nil, 400, "data.id"},
		{"MissingEmail", orderBody(t, "e2", "o2", func(d map[string]any) { delete(d["candidate"].(map[string]any), "email") }), nil, 422, "data.candidate.email"},
		{"NullEmail", orderBody(t, "e3", "o3", func(d map[string]any) { d["candidate"].(map[string]any)["email"] = nil }), nil, 422, "data.candidate.email"},
		{"EmailNotAnAddress", orderBody(t, "e4", "o4", func(d map[string]any) { d["candidate"].(map[string]any)["email"] = "nobody" }), nil, 422, "data.candidate.email"},
		{"WrongType", orderBody(t, "e5", "o5", func(d map[string]any) { d["job"].(map[string]any)["name"] = 42 }), nil, 422, "data.job.name"},
		{"UnknownStatus", orderBody(t, "e6", "o6", func(d map[string]any) { d["status"] = "PENDING" }), nil, 422, "data.status"},
		{"MissingData", []byte(`{"id":"e7","type":"assessment:order-received"}`), nil, 400, "data"},
		{"MissingIntegration", orderBody(t, "e8", "o8", func(d map[string]any) { delete(d, "integration_id") }), nil, 400, "data.integration_id"},
		{"TooLarge", bytes.Repeat([]byte(" "), 1<<20+1), nil, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := tt.headers
			if headers == nil {
				headers = map[string]string{kombo.SignatureHeader: kombo.Sign(testSecret, tt.body)}
				if tt.status == 401 {
					headers = map[string]string{}
				}
			}
			status, resp := a.post("/webhooks/kombo", tt.body, headers)
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(resp, &e); err != nil {
				t.Fatalf("answer %q is not a JSON error: %v", resp, err)
			}
			if status != tt.status || !strings.Contains(e.Error.Message, tt.message) {
				t.Errorf("POST = %d %q; want %d with a message containing %q", status, e.Error.Message, tt.status, tt.message)
			}
		})
	}
	for _, table := range []string{"webhook_events", "orders", "order_events", "river_job"} {
		if n := a.count(table, ""); n != 0 {
			t.Errorf("%s has %d rows after rejected requests; want 0", table, n)
		}
	}
}

func TestWebhook_TooLargeChunked(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	body := append(orderBody(t, "big", "big", nil), bytes.Repeat([]byte(" "), 1<<20)...)
	// No Content-Length: the limit must hold while reading, not only on the header.
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/webhooks/kombo", struct{ *bytes.Reader }{bytes.NewReader(body)})
	req.Header.Set(kombo.SignatureHeader, kombo.Sign(testSecret, body))
	resp, err := apitest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Errorf("chunked POST of %d bytes = %d (content length %d); want 413", len(body), resp.StatusCode, req.ContentLength)
	}
	if n := a.count("orders", ""); n != 0 {
		t.Errorf("orders = %d; want 0", n)
	}
}

func TestWebhook_Order(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)

		t.Run("Seed", func(t *testing.T) {
			seed := fixture(t, "seed-assessment-order-received.json")
			if status, resp := a.webhook(seed); status != http.StatusOK {
				t.Fatalf("POST seed = %d %s; want 200", status, resp)
			}
			// Committed before the 200, with the job for the next step.
			if n := a.count("orders", "id = $1", "B5KQKhAgTv6ZwzrfAbqbhipd"); n != 1 {
				t.Fatalf("orders with the seed's id = %d; want 1", n)
			}
			if err := a.oneInviteEach(); err != nil {
				t.Error(err)
			}
			// Every field of Kombo's order comes back as sent.
			var got map[string]any
			if status := a.api("GET", "/api/v1/orders/B5KQKhAgTv6ZwzrfAbqbhipd", nil, &got); status != 200 {
				t.Fatalf("GET order = %d", status)
			}
			var sent map[string]any
			json.Unmarshal(seed, &sent)
			assertSubset(t, "order", sent["data"], got)
			if got["state"] != "received" || got["event_id"] != "Cbfk5sHtDxrSrJBRjsDtbaN9" || got["created_at"] == nil {
				t.Errorf("order state/event/created_at = %v/%v/%v; want received/the seed's event/a time", got["state"], got["event_id"], got["created_at"])
			}
		})

		t.Run("AllNulls", func(t *testing.T) {
			body := fixture(t, "webhook-assessment-order-received-nulls.json")
			if status, resp := a.webhook(body); status != http.StatusOK {
				t.Fatalf("POST = %d %s; want 200", status, resp)
			}
			var got map[string]any
			a.api("GET", "/api/v1/orders/Hc8Tq2LmVx5Wp9RbN3kYs7Fd", nil, &got)
			var sent map[string]any
			json.Unmarshal(body, &sent)
			assertSubset(t, "order", sent["data"], got)
			cand := got["candidate"].(map[string]any)
			if v, ok := cand["first_name"]; !ok || v != nil {
				t.Errorf("candidate.first_name = %v (present %v); want null", v, ok)
			}
			if v, ok := got["job"].(map[string]any)["location"]; !ok || v != nil {
				t.Errorf("job.location = %v (present %v); want null", v, ok)
			}
		})

		t.Run("Duplicates", func(t *testing.T) {
			body := orderBody(t, "dup-event", "dup-order", nil)
			for i := 0; i < 2; i++ {
				if status, resp := a.webhook(body); status != http.StatusOK {
					t.Fatalf("POST #%d = %d %s; want 200", i+1, status, resp)
				}
			}
			// The same order in a new event.
			if status, resp := a.webhook(orderBody(t, "dup-event-2", "dup-order", nil)); status != http.StatusOK {
				t.Fatalf("POST new event = %d %s; want 200", status, resp)
			}
			if n := a.count("orders", "id = 'dup-order'"); n != 1 {
				t.Errorf("orders = %d; want 1", n)
			}
			if err := a.oneInviteEach(); err != nil {
				t.Error(err)
			}
		})

		t.Run("ConcurrentBurst", func(t *testing.T) {
			const n = 40
			var wg sync.WaitGroup
			statuses := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Half redeliver one event; half are new events for the same order.
					ev := "burst-event"
					if i%2 == 1 {
						ev = "burst-event-" + string(rune('a'+i))
					}
					statuses[i], _ = a.webhook(orderBody(t, ev, "burst-order", nil))
				}()
			}
			wg.Wait()
			for i, s := range statuses {
				if s != http.StatusOK {
					t.Errorf("request %d = %d; want 200", i, s)
				}
			}
			if got := a.count("orders", "id = 'burst-order'"); got != 1 {
				t.Errorf("orders = %d; want 1", got)
			}
			if err := a.oneInviteEach(); err != nil {
				t.Error(err)
			}
		})
	})
}

// assertSubset checks that every key of want is in got with an equal value,
// recursively; got may have more keys.
func assertSubset(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s = %v; want an object", path, got)
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s is missing", path, k)
				continue
			}
			assertSubset(t, path+"."+k, wv, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s = %v; want %v", path, got, want)
			return
		}
		for i := range w {
			assertSubset(t, path, w[i], g[i])
		}
	default:
		if want != got {
			t.Errorf("%s = %v; want %v", path, got, want)
		}
	}
}

func TestWebhook_Catalogue(t *testing.T) {
	dir := t.TempDir()
	pkgs := filepath.Join(dir, "packages.json")
	os.WriteFile(pkgs, []byte(`{"packages":[{"id":"typescript_test","type":"SKILLS_TEST","name":"TypeScript","description":"60 minutes"}]}`), 0o600)
	a := startApp(t, "sqlite:"+filepath.Join(dir, "a.db"), map[string]string{"ASSESSGATE_PACKAGES_FILE": pkgs})

	status, resp := a.webhook(orderBody(t, "e-unknown", "o-unknown", func(d map[string]any) { d["package_id"] = "ts-coding-60" }))
	var rejection struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal(resp, &rejection)
	if status != http.StatusUnprocessableEntity || !strings.Contains(rejection.Message, "ts-coding-60") || rejection.Error.Message != rejection.Message || rejection.Status != "error" {
		t.Errorf("order for an unknown package = %d %s; want 422 in Kombo's rejection shape naming the package", status, resp)
	}
	if n := a.count("orders", ""); n != 0 {
		t.Errorf("orders = %d after a rejection; want 0", n)
	}
	if status, resp := a.webhook(orderBody(t, "e-known", "o-known", nil)); status != http.StatusOK {
		t.Errorf("order for a catalogue package = %d %s; want 200", status, resp)
	}
}

func TestWebhook_NoCatalogueAcceptsAll(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	if !strings.Contains(a.logs.String(), "orders for every package are accepted") {
		t.Errorf("start-up log does not say that every package is accepted:\n%s", a.logs)
	}
	if status, resp := a.webhook(orderBody(t, "e", "o", func(d map[string]any) { d["package_id"] = "anything" })); status != http.StatusOK {
		t.Errorf("POST = %d %s; want 200", status, resp)
	}
}

func TestServe_BadPackagesFile(t *testing.T) {
	dir := t.TempDir()
	pkgs := filepath.Join(dir, "packages.json")
	os.WriteFile(pkgs, []byte(`{"packages":[{"id":"a","type":"SKILLS_TEST","name":"A","description":""},{"id":"b","type":"QUIZ","name":"B","description":""}]}`), 0o600)
	getenv := func(k string) string {
		return map[string]string{
			"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_PACKAGES_FILE": pkgs,
			"ASSESSGATE_DATABASE_URL": "sqlite:" + filepath.Join(dir, "a.db"),
		}[k]
	}
	err := run(t.Context(), []string{"serve"}, getenv, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "packages[1].type") {
		t.Errorf("run(serve) with a bad package = %v; want an error naming packages[1].type", err)
	}
}

func TestWebhook_Inline(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		body := fixture(t, "webhook-inline-assessment-order-received.json")
		var urls []string
		for i := 0; i < 2; i++ {
			status, resp := a.webhook(body)
			var got struct {
				AssessmentURL string `json:"assessment_url"`
			}
			json.Unmarshal(resp, &got)
			prefix := "https://assess.example/start/career-page-screening/Lm5Rt8Yq2WxC9vNb4PkHs7Gd?t="
			token, ok := strings.CutPrefix(got.AssessmentURL, prefix)
			if status != http.StatusOK || !ok || len(token) < 40 {
				t.Fatalf("inline POST = %d %s; want 200 with an assessment_url %s<token>", status, resp, prefix)
			}
			urls = append(urls, got.AssessmentURL)
		}
		if urls[0] == urls[1] {
			t.Errorf("two answers carry the same token; want a fresh one each time")
		}
		if n := a.count("orders", "source = 'inline'"); n != 1 {
			t.Errorf("inline orders = %d; want 1", n)
		}
		// Only hashes of the tokens are kept.
		if n := a.count("links", "order_id = 'Lm5Rt8Yq2WxC9vNb4PkHs7Gd'"); n != 2 {
			t.Errorf("links = %d; want 2", n)
		}
		token := urls[0][strings.LastIndex(urls[0], "=")+1:]
		if n := a.count("links", "token_hash = $1", token); n != 0 {
			t.Errorf("a token is stored in plain text")
		}
	})
}

func TestWebhook_Integrations(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		integration := func(id string) (tool, org, state string) {
			t.Helper()
			a.db().QueryRow("SELECT tool, organization_name, state FROM integrations WHERE id = $1", id).Scan(&tool, &org, &state)
			return
		}
		const gh = "greenhouse:8qTmYx3ZbPw2KcRvN5dLhJ4f"
		for _, name := range []string{"webhook-integration-created.json", "webhook-integration-state-changed.json"} {
			if status, resp := a.webhook(fixture(t, name)); status != http.StatusOK {
				t.Fatalf("POST %s = %d %s", name, status, resp)
			}
		}
		if tool, org, state := integration(gh); tool != "greenhouse" || org != "Acme Corp" || state != "INVALID" {
			t.Errorf("integration = %s/%s/%s; want greenhouse/Acme Corp/INVALID", tool, org, state)
		}
		// INVALID credentials still take orders: the customer is asked to reconnect.
		inline := fixture(t, "webhook-inline-assessment-order-received.json")
		if status, resp := a.webhook(inline); status != http.StatusOK {
			t.Errorf("order for an INVALID integration = %d %s; want 200", status, resp)
		}

		// INACTIVE refuses orders.
		inactive := bytes.Replace(fixture(t, "webhook-integration-state-changed.json"), []byte(`"INVALID"`), []byte(`"INACTIVE"`), 1)
		inactive = bytes.Replace(inactive, []byte("Rk9Vb3Xq7LmT2wPc5YnHs8Gd"), []byte("inactive-event"), 1)
		a.webhook(inactive)
		status, resp := a.webhook(orderBody(t, "e-inactive", "o-inactive", func(d map[string]any) { d["integration_id"] = gh }))
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(resp), "inactive") {
			t.Errorf("order for an INACTIVE integration = %d %s; want 422", status, resp)
		}

		// Deleted refuses orders, and stays deleted whatever comes after.
		a.webhook(fixture(t, "webhook-integration-deleted.json"))
		active := bytes.Replace(inactive, []byte(`"INACTIVE"`), []byte(`"ACTIVE"`), 1)
		active = bytes.Replace(active, []byte("inactive-event"), []byte("active-event"), 1)
		a.webhook(active)
		if _, _, state := integration(gh); state != "DELETED" {
			t.Errorf("state after deletion and a later ACTIVE = %s; want DELETED", state)
		}
		status, resp = a.webhook(orderBody(t, "e-deleted", "o-deleted", func(d map[string]any) { d["integration_id"] = gh }))
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(resp), "deleted") {
			t.Errorf("order for a deleted integration = %d %s; want 422", status, resp)
		}
		if n := a.count("orders", "id IN ('o-inactive', 'o-deleted')"); n != 0 {
			t.Errorf("rejected orders stored: %d", n)
		}

		// Other types are recorded and otherwise ignored.
		other := []byte(`{"id":"evt-sync","type":"sync-finished","data":{"sync_id":"x"}}`)
		if status, resp := a.webhook(other); status != http.StatusOK {
			t.Errorf("sync-finished = %d %s; want 200", status, resp)
		}
		if n := a.count("webhook_events", "id = 'evt-sync'"); n != 1 {
			t.Errorf("sync-finished recorded %d times; want 1", n)
		}
	})
}

func TestWebhook_DatabaseRefusesWrites(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		db := a.db()
		var err error
		if strings.HasPrefix(dbURL, "sqlite") {
			_, err = db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON orders BEGIN SELECT RAISE(ABORT, 'disk refuses writes'); END`)
		} else {
			_, err = db.Exec(`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk refuses writes'; END $$ LANGUAGE plpgsql;
				CREATE TRIGGER refuse BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse()`)
		}
		if err != nil {
			t.Fatal(err)
		}
		status, resp := a.webhook(orderBody(t, "e-refused", "o-refused", nil))
		if status != http.StatusServiceUnavailable {
			t.Errorf("POST while the database refuses writes = %d %s; want 503", status, resp)
		}
		// Nothing half-written: the event went with the order.
		if n := a.count("webhook_events", "id = 'e-refused'"); n != 0 {
			t.Errorf("webhook event stored without its order")
		}
	})
}
