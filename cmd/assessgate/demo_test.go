package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/kombo/kombotest"
)

func TestDemo(t *testing.T) {
	start := time.Now()
	out, err := runCmd(t, nil, "demo")
	if err != nil {
		t.Fatalf("demo = %v; want success\n%s", err, out)
	}
	const order = "B5KQKhAgTv6ZwzrfAbqbhipd" // the seed order
	for _, want := range []string{
		"PUT /assessment/packages: typescript_test, go_backend",
		"Subject: Acme Corp: your assessment for Bottle Opener",
		"Hello John Doe,",
		`tenant_id "acme-1"`,
		"(Acme Corp, tenant acme-1)",
		"opens the link: 302",
		"PUT /assessment/orders/" + order + "/result",
		"X-Integration-Id: workday:CBNMt7dSNCzBdnRTx87dev4E",
		`"score": 87`,
		"result.delivered       Result COMPLETED delivered to Kombo",
		"Kombo PUT /assessment/orders/{id}/result → HTTP 200",
		"Done in",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, kombotest.DefaultAPIKey) {
		t.Errorf("demo output shows the Kombo API key")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("demo took %s; want a few seconds", d)
	}
}

func TestDemo_Serve(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"demo", "--serve"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	var adminURL, password string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "Admin" && f[1] == "pages":
			adminURL = f[2]
		case len(f) == 2 && f[0] == "Password":
			password = f[1]
		}
		if password != "" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if adminURL == "" || password == "" {
		t.Fatalf("demo --serve printed no admin URL and password")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(adminURL+"login", url.Values{"password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 {
		t.Errorf("sign-in with the printed password = %d; want 303 with a session", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo --serve = %v after Ctrl-C; want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo --serve did not stop")
	}
}
