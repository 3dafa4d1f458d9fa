package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdmin_Off(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	resp, err := http.Get(a.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "ASSESSGATE_ADMIN_PASSWORD") {
		t.Errorf("GET /admin/ without a password = %d %q; want 404 saying how to turn the pages on", resp.StatusCode, b)
	}
	if !strings.Contains(a.logs.String(), "ASSESSGATE_ADMIN_PASSWORD is not set") {
		t.Errorf("serve did not say at start-up that the admin pages are off")
	}
}

func TestAdmin_ShortPassword(t *testing.T) {
	env := map[string]string{
		"KOMBO_WEBHOOK_SECRET":      testSecret,
		"ASSESSGATE_DATABASE_URL":   "sqlite:" + filepath.Join(t.TempDir(), "a.db"),
		"ASSESSGATE_ADDR":           "127.0.0.1:0",
		"ASSESSGATE_ADMIN_PASSWORD": "secret",
	}
	if _, err := runCmd(t, env, "serve"); err == nil || !strings.Contains(err.Error(), "at least 12 characters") {
		t.Errorf("serve with a 6-character admin password = %v; want an error asking for 12", err)
	}
}

func TestAdmin_SignInAcrossReplicas(t *testing.T) {
	// Two processes on one database with the same password, as replicas:
	// a cookie from one works on the other.
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "a.db")
	env := map[string]string{"ASSESSGATE_ADMIN_PASSWORD": testAdminPassword}
	a := startApp(t, dbURL, env)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(a.URL+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader("password="+testAdminPassword))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("sign-in = %d with %d cookies; want 303 and a session", resp.StatusCode, len(cookies))
	}
	a.stop()
	b := startApp(t, dbURL, env)
	req, _ := http.NewRequest("GET", b.URL+"/admin/orders", nil)
	req.AddCookie(cookies[0])
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the first process's cookie on the second = %d; want 200", resp.StatusCode)
	}
}
