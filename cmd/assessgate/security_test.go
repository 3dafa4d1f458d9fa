package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/apitest"

	"github.com/assessgate/assessgate/internal/admin"
	"github.com/assessgate/assessgate/internal/store/storetest"
)

// TestServe_TrustedProxies: X-Forwarded-For is believed from the addresses
// of ASSESSGATE_TRUSTED_PROXIES only: the logs name the client behind a
// trusted proxy, and the peer itself when the header comes from anyone
// else.
func TestServe_TrustedProxies(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	bad := map[string]string{"X-Kombo-Signature": "v1,AAAA", "X-Forwarded-For": "198.51.100.23"}
	for _, tt := range []struct {
		name, trusted, want string
	}{{"Untrusted", "", "remote=127.0.0.1"}, {"Trusted", "10.0.0.0/8, 127.0.0.1", "remote=198.51.100.23"}} {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, storetest.SQLite(t).URL, map[string]string{"ASSESSGATE_TRUSTED_PROXIES": tt.trusted})
			if status, _ := a.post("/webhooks/kombo", body, bad); status != http.StatusUnauthorized {
				t.Fatalf("badly signed webhook = %d; want 401", status)
			}
			var line string
			for _, l := range strings.Split(a.logs.String(), "\n") {
				if strings.Contains(l, "webhook signature mismatch") {
					line = l
				}
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("log line %q; want %s", line, tt.want)
			}
		})
	}

	getenv := func(v string) func(string) string {
		return func(k string) string {
			return map[string]string{"KOMBO_WEBHOOK_SECRET": "s", "ASSESSGATE_TRUSTED_PROXIES": v}[k]
		}
	}
	if _, err := parseServeConfig(nil, getenv("10.0.0.0/8,nginx"), io.Discard); err == nil || !strings.Contains(err.Error(), "ASSESSGATE_TRUSTED_PROXIES") {
		t.Errorf("ASSESSGATE_TRUSTED_PROXIES=10.0.0.0/8,nginx: %v; want an error naming the setting", err)
	}
	cfg, err := parseServeConfig([]string{"--trusted-proxies", "172.16.0.0/12"}, getenv(""), io.Discard)
	if err != nil || cfg.TrustedProxies.String() != "172.16.0.0/12" {
		t.Errorf("--trusted-proxies 172.16.0.0/12 = %v, %v", cfg, err)
	}
}

// TestAPI_NotFoundIsJSON: 404 and 405 under /api/ and /webhooks/ answer in
// the JSON shape of every other error; elsewhere they stay as they were.
func TestAPI_NotFoundIsJSON(t *testing.T) {
	a := startApp(t, storetest.SQLite(t).URL, nil)
	for _, tt := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/api/v1/nope", 404, "not_found", ""},
		{"GET", "/api/v2/orders", 404, "not_found", ""},
		{"POST", "/webhooks/other", 404, "not_found", ""},
		{"DELETE", "/api/v1/orders", 405, "method_not_allowed", "GET, HEAD"},
		{"GET", "/webhooks/kombo", 405, "method_not_allowed", "POST"},
		{"PATCH", "/api/v1/candidates/export", 405, "method_not_allowed", "POST"},
	} {
		req, _ := http.NewRequest(tt.method, a.URL+tt.path, nil)
		resp, err := apitest.Client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.status || err != nil || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.path) ||
			resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d %s %+v (%v), Allow %q; want %d, JSON code %s naming the path, Allow %q",
				tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), e, err, resp.Header.Get("Allow"), tt.status, tt.code, tt.allow)
		}
	}
	// Known routes answer as before (401: no token).
	if status, _ := a.do("GET", "/api/v1/orders", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/orders without a token = %d; want 401", status)
	}
}

// TestAPI_BodyErrorNamesNoAddress: a body cut short answers 400 with a
// message that names no socket address.
func TestAPI_BodyErrorNamesNoAddress(t *testing.T) {
	a := startApp(t, storetest.SQLite(t).URL, nil)
	addr := strings.TrimPrefix(a.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /api/v1/orders/o-1/result HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status\":", testToken)
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	host, _, _ := net.SplitHostPort(addr)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), host) || !strings.Contains(string(b), "could not read the body") {
		t.Errorf("body cut short = %d %s; want 400 saying so, with no address", resp.StatusCode, b)
	}
}

// TestServe_WeakSecrets: weak secrets start, with a warning naming each
// setting and never its value.
func TestServe_WeakSecrets(t *testing.T) {
	a := startApp(t, storetest.SQLite(t).URL, map[string]string{
		"KOMBO_WEBHOOK_SECRET": "a", "ASSESSGATE_API_TOKEN": "tok-0123456789abcdef,bbbbbbbbbbbbbbbbbbbb", "ASSESSGATE_ADMIN_PASSWORD": "xxxxxxxxxxxx",
	})
	logs := a.logs.String()
	for _, want := range []string{"KOMBO_WEBHOOK_SECRET: shorter than 16", "ASSESSGATE_API_TOKEN (value 2 of 2): only 1 different",
		"ASSESSGATE_ADMIN_PASSWORD: only 1 different"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack the warning %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"bbbbbbbbbbbbbbbbbbbb", "xxxxxxxxxxxx", "tok-0123456789abcdef"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the secret %q", secret)
		}
	}
	if strings.Contains(logs, "ASSESSGATE_API_TOKEN (value 1") {
		t.Errorf("a strong token was warned about")
	}

	// Not only in the log: in /metrics and on the admin overview.
	status, body := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer tok-0123456789abcdef"})
	if status != http.StatusOK || !regexp.MustCompile(`(?m)^assessgate_weak_secrets 3$`).Match(body) {
		t.Errorf("GET /metrics = %d; want assessgate_weak_secrets 3", status)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Post(a.URL+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader("password=xxxxxxxxxxxx"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="weak-secrets"`, "KOMBO_WEBHOOK_SECRET: shorter than 16", "ASSESSGATE_ADMIN_PASSWORD: only 1 different"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("admin overview after sign-in lacks %q", want)
		}
	}
	if strings.Contains(string(page), "xxxxxxxxxxxx") {
		t.Errorf("admin overview shows the password")
	}
}

// TestAdmin_SignInMetrics: failed and throttled sign-ins show in /metrics,
// where an alert can watch for guessing.
func TestAdmin_SignInMetrics(t *testing.T) {
	a := startApp(t, storetest.SQLite(t).URL, map[string]string{"ASSESSGATE_ADMIN_PASSWORD": testAdminPassword})
	for range admin.FreeSignInAttempts + 2 {
		resp, err := http.Post(a.URL+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader("password=guess"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	_, b := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
	for _, want := range []string{
		fmt.Sprintf(`assessgate_http_requests_total{code="401",route="POST /admin/login"} %d`, admin.FreeSignInAttempts+1),
		`assessgate_http_requests_total{code="429",route="POST /admin/login"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
