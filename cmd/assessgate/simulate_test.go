package main

import (
	"path/filepath"
	"strings"
	"testing"
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
