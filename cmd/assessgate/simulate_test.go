package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

func TestSimulate(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	env := map[string]string{"KOMBO_WEBHOOK_SECRET": "other-secret," + testSecret}
	sim := func(args ...string) (string, error) {
		t.Helper()
		return runCmd(t, env, append([]string{"simulate", "--url", a.URL, "--secret", testSecret}, args...)...)
	}

	// A made-up order, with realistic data.
	out, err := sim("order", "--email", "sim@example.com")
	if err != nil || !strings.Contains(out, "200 OK") {
		t.Fatalf("simulate order = %v\n%s", err, out)
	}
	var list struct {
		Data []struct {
			ID        string `json:"id"`
			Candidate struct {
				Email     string  `json:"email"`
				FirstName *string `json:"first_name"`
			} `json:"candidate"`
			Job struct {
				Name       *string `json:"name"`
				Location   any     `json:"location"`
				HiringTeam []any   `json:"hiring_team"`
			} `json:"job"`
		} `json:"data"`
	}
	a.api("GET", "/api/v1/orders?email=sim@example.com", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("orders for sim@example.com = %d; want 1", len(list.Data))
	}
	o := list.Data[0]
	if o.Candidate.FirstName == nil || o.Job.Name == nil || o.Job.Location == nil || len(o.Job.HiringTeam) != 2 || !strings.Contains(out, o.ID) {
		t.Errorf("simulated order = %+v; want a name, a job, a location and a hiring team, and its id printed", o)
	}

	// An order from a file; the event goes first or last, the secret from
	// the environment (the first of the list is tried, so give it alone).
	out, err = runCmd(t, map[string]string{"KOMBO_WEBHOOK_SECRET": testSecret}, "simulate", "--url", a.URL+"/webhooks/kombo",
		"--file", filepath.Join("testdata", "seed-assessment-order-received.json"), "order")
	if err != nil || !strings.Contains(out, "B5KQKhAgTv6ZwzrfAbqbhipd") {
		t.Fatalf("simulate --file = %v\n%s", err, out)
	}
	if n := a.count("orders", "id = 'B5KQKhAgTv6ZwzrfAbqbhipd'"); n != 1 {
		t.Errorf("seed order stored %d times; want 1", n)
	}

	// An inline order prints its assessment_url.
	out, err = sim("inline-order")
	if err != nil || !strings.Contains(out, "assessment_url: https://assess.example/start/typescript_test/") {
		t.Errorf("simulate inline-order = %v\n%s; want the assessment_url", err, out)
	}

	// Integration events.
	const integ = "lever:SimTest0000000000000001"
	if out, err := sim("--integration-id", integ, "--organization", "Globex", "--tenant", "globex-42", "integration-created"); err != nil || !strings.Contains(out, "tenant globex-42") {
		t.Fatalf("integration-created = %v\n%s", err, out)
	}
	if out, err := sim("order", "--integration-id", integ, "--email", "tenant@example.com"); err != nil {
		t.Fatalf("order of the tenant = %v\n%s", err, out)
	}
	var ofTenant struct {
		Data []struct {
			TenantID *string `json:"tenant_id"`
		} `json:"data"`
	}
	a.api("GET", "/api/v1/orders?tenant_id=globex-42", nil, &ofTenant)
	if len(ofTenant.Data) != 1 || ofTenant.Data[0].TenantID == nil || *ofTenant.Data[0].TenantID != "globex-42" {
		t.Errorf("orders of tenant globex-42 = %+v; want the simulated one", ofTenant.Data)
	}
	if n := a.count("integrations", "id = $1 AND state = 'ACTIVE' AND organization_name = 'Globex' AND tool = 'lever'", integ); n != 1 {
		t.Errorf("integration %s not created active for Globex", integ)
	}
	if out, err := sim("integration-state-changed", "--integration-id", integ, "--state", "inactive"); err != nil {
		t.Fatalf("integration-state-changed = %v\n%s", err, out)
	}
	if n := a.count("integrations", "id = $1 AND state = 'INACTIVE'", integ); n != 1 {
		t.Errorf("integration %s not INACTIVE", integ)
	}
	if out, err := sim("integration-deleted", "--integration-id", integ); err != nil {
		t.Fatalf("integration-deleted = %v\n%s", err, out)
	}
	if n := a.count("integrations", "id = $1 AND state = 'DELETED'", integ); n != 1 {
		t.Errorf("integration %s not deleted", integ)
	}

	// Mistakes say what is wrong.
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"simulate", "--url", a.URL, "--secret", "wrong", "order"}, nil, "401"},
		{[]string{"simulate", "--url", a.URL, "order"}, nil, "no secret"},
		{[]string{"simulate", "--url", a.URL, "--secret", "s", "refund"}, nil, `unknown event "refund"`},
		{[]string{"simulate", "--url", a.URL, "--secret", "s"}, nil, "say which event"},
		{[]string{"simulate", "--url", "localhost:8080", "--secret", "s", "order"}, nil, "--url"},
		{[]string{"simulate", "--url", a.URL, "--secret", testSecret, "--state", "GONE", "integration-state-changed"}, nil, "--state"},
		{[]string{"simulate", "--url", a.URL, "--secret", testSecret, "--file", "nope.json", "order"}, nil, "nope.json"},
	} {
		if _, err := runCmd(t, tt.env, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s = %v; want an error containing %q", strings.Join(tt.args[3:], " "), err, tt.want)
		}
	}
}

// TestSimulate_SetupPending: "simulate setup-pending" plays Kombo refusing a
// write-back with 409 INTEGRATION.SETUP_INCOMPLETE until the setup is
// complete; against a real assessgate, the write-back parks and then goes.
func TestSimulate_SetupPending(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), map[string]string{
		"KOMBO_API_KEY": kombotest.DefaultAPIKey, "KOMBO_API_URL": "http://" + addr, "ASSESSGATE_RETRY_BASE": "20ms",
	})
	out, err := runCmd(t, nil, "simulate", "setup-pending", "--url", a.URL, "--secret", testSecret, "--api-token", testToken,
		"--kombo-addr", addr, "--setup-for", "1s", "--timeout", "60s")
	if err != nil {
		t.Fatalf("simulate setup-pending = %v\n%s", err, out)
	}
	for _, want := range []string{"409 " + kombo.CodeSetupIncomplete, "202 Accepted", "The parked write-back was delivered", "as COMPLETED"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Parked, then delivered: on the order's timeline, and nothing left parked.
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	a.api("GET", "/api/v1/orders", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("orders = %d; want 1", len(list.Data))
	}
	// Kombo has the result when simulate ends; assessgate records it as
	// delivered right after.
	wait.For(t, 10*time.Second, "work.parked, then result.delivered on the timeline", func() bool {
		kinds, _ := a.timeline(list.Data[0].ID)
		return contains(kinds, "work.parked") && contains(kinds, "result.delivered")
	})
}
