package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/mail/mailtest"
	"github.com/assessgate/assessgate/internal/wait"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// apiError is the body of an error answer.
type apiError struct {
	Error struct{ Code, Message string }
}

// TestConnect onboards a customer through the API: a Connect link for its
// tenant, the token exchange that stores the integration and pushes its
// packages, orders that carry the tenant, and a reconnection link once the
// integration turns INVALID.
func TestConnect(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		file := filepath.Join(t.TempDir(), "packages.json")
		os.WriteFile(file, fixture(t, "request-put-assessment-packages.json"), 0o600)
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		a := startApp(t, dbURL, komboEnv(fake, map[string]string{"ASSESSGATE_PACKAGES_FILE": file}))

		// Bad bodies are refused before Kombo is called.
		for _, tt := range []struct{ body, want string }{
			{`{"organization_name":"Acme","email":"it@acme.example"}`, "tenant_id"},
			{`{"tenant_id":"acme","email":"it@acme.example"}`, "organization_name"},
			{`{"tenant_id":"acme","organization_name":"Acme","email":"acme"}`, "email"},
			{`{"tenant_id":"acme","organization_name":"Acme","email":"it@acme.example","link_type":"POSTCARD"}`, "link_type"},
			{`{"tenant_id":"acme","organization_name":"Acme","email":"it@acme.example","colour":"red"}`, "colour"},
		} {
			var e apiError
			if status := a.api("POST", "/api/v1/connect/links", []byte(tt.body), &e); status != 400 || !strings.Contains(e.Error.Message, tt.want) {
				t.Errorf("POST /api/v1/connect/links %s = %d %q; want 400 naming %s", tt.body, status, e.Error.Message, tt.want)
			}
		}
		if n := len(fake.Links()); n != 0 {
			t.Errorf("Kombo made %d links for bad bodies; want none", n)
		}

		var link struct {
			Link     string `json:"link"`
			LinkType string `json:"link_type"`
			TenantID string `json:"tenant_id"`
		}
		body := `{"tenant_id":"acme","organization_name":"Acme, Inc.","email":"it@acme.example","tool":"greenhouse","language":"de"}`
		if status := a.api("POST", "/api/v1/connect/links", []byte(body), &link); status != 200 {
			t.Fatalf("POST /api/v1/connect/links = %d; want 200", status)
		}
		links := fake.Links()
		if len(links) != 1 || links[0].URL != link.Link {
			t.Fatalf("Kombo made %+v; want the link returned, %s", links, link.Link)
		}
		if l := links[0]; l.IntegrationCategory != kombo.CategoryAssessment || l.EndUserOriginID == nil || *l.EndUserOriginID != "acme" ||
			l.EndUserEmail != "it@acme.example" || l.EndUserOrganizationName != "Acme, Inc." || *l.IntegrationTool != "greenhouse" || *l.Language != "de" {
			t.Errorf("link asked of Kombo = %+v; want category ASSESSMENT for tenant acme", l)
		}
		if link.LinkType != kombo.LinkTypeEmbedded || link.TenantID != "acme" {
			t.Errorf("answer = %+v; want an EMBEDDED link of tenant acme", link)
		}

		// The customer connects; the frontend hands in the token.
		id, token := fake.Connect(link.Link, "")
		var in map[string]any
		if status := a.api("POST", "/api/v1/connect/tokens", []byte(`{"token":"`+token+`"}`), &in); status != 201 {
			t.Fatalf("POST /api/v1/connect/tokens = %d %v; want 201", status, in)
		}
		if in["id"] != id || in["tenant_id"] != "acme" || in["tool"] != "greenhouse" || in["state"] != "ACTIVE" || in["setup_status"] != "COMPLETED" {
			t.Errorf("integration = %v; want %s of tenant acme, ACTIVE, COMPLETED", in, id)
		}
		wait.For(t, 10*time.Second, "the tenant's packages pushed", func() bool { return len(fake.Packages(id)) == 3 })
		var e apiError
		if status := a.api("POST", "/api/v1/connect/tokens", []byte(`{"token":"forged"}`), &e); status != 422 || !strings.Contains(e.Error.Message, "token") {
			t.Errorf("an unknown token = %d %q; want 422", status, e.Error.Message)
		}
		if status := a.api("POST", "/api/v1/connect/tokens", []byte(`{}`), &e); status != 400 || !strings.Contains(e.Error.Message, "token") {
			t.Errorf("no token = %d %q; want 400 naming token", status, e.Error.Message)
		}

		// Orders carry their tenant; an order of an integration not known
		// yet has none.
		pkg := fake.Packages(id)[0].ID
		if status, b := a.webhook(orderBody(t, "e-acme", "o-acme", func(d map[string]any) { d["integration_id"] = id; d["package_id"] = pkg })); status != 200 {
			t.Fatalf("order webhook = %d %s", status, b)
		}
		if status, b := a.webhook(orderBody(t, "e-other", "o-other", func(d map[string]any) { d["integration_id"] = "lever:unknown"; d["package_id"] = pkg })); status != 200 {
			t.Fatalf("order webhook = %d %s", status, b)
		}
		if o := a.order("o-acme"); o["tenant_id"] != "acme" {
			t.Errorf("order of acme: tenant_id = %v; want acme", o["tenant_id"])
		}
		if o := a.order("o-other"); o["tenant_id"] != nil {
			t.Errorf("order of an unknown integration: tenant_id = %v; want null", o["tenant_id"])
		}
		var list struct {
			Data []map[string]any `json:"data"`
		}
		a.api("GET", "/api/v1/orders?tenant_id=acme", nil, &list)
		if len(list.Data) != 1 || list.Data[0]["id"] != "o-acme" || list.Data[0]["tenant_id"] != "acme" {
			t.Errorf("orders of tenant acme = %v; want o-acme", list.Data)
		}

		var ints struct {
			Data []map[string]any `json:"data"`
		}
		a.api("GET", "/api/v1/integrations?tenant_id=acme", nil, &ints)
		if len(ints.Data) != 1 || ints.Data[0]["id"] != id || ints.Data[0]["open_orders"] != float64(1) ||
			ints.Data[0]["last_order_at"] == nil || ints.Data[0]["dead_letters"] != float64(0) || ints.Data[0]["organization_name"] != "Acme, Inc." {
			t.Errorf("integrations of acme = %v; want %s with 1 open order, a last order, no dead letters", ints.Data, id)
		}
		if status := a.api("GET", "/api/v1/integrations?state=broken", nil, &e); status != 400 || !strings.Contains(e.Error.Message, "state") {
			t.Errorf("state=broken = %d %q; want 400 naming state", status, e.Error.Message)
		}
		if status := a.api("GET", "/api/v1/integrations/lever:nope", nil, &e); status != 404 {
			t.Errorf("GET an unknown integration = %d; want 404", status)
		}

		// The customer's credentials break: a reconnection link.
		fake.SetIntegrationState(id, kombo.IntegrationStateInvalid, "")
		changed, err := kombotest.IntegrationWebhook("e-invalid", kombo.EventIntegrationStateChanged,
			kombotest.Integration{ID: id, Organization: "Acme, Inc.", OriginID: "acme", State: kombo.IntegrationStateInvalid})
		if err != nil {
			t.Fatal(err)
		}
		if status, b := a.webhook(changed); status != 200 {
			t.Fatalf("state-changed webhook = %d %s", status, b)
		}
		// A reconnection link is made by itself, for the admin page and
		// the API.
		wait.For(t, 10*time.Second, "a reconnection link for the INVALID integration", func() bool {
			a.api("GET", "/api/v1/integrations?state=INVALID", nil, &ints)
			return len(ints.Data) == 1 && ints.Data[0]["relink_url"] != nil
		})
		links = fake.Links()
		if l := links[len(links)-1]; ints.Data[0]["id"] != id || ints.Data[0]["relink_url"] != l.URL || l.IntegrationID != id || l.LinkType != kombo.LinkTypeMagicLink {
			t.Errorf("INVALID integration = %v; want %s with Kombo's magic relink link %+v", ints.Data[0], id, l)
		}
		if status, m := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken}); status != 200 ||
			!strings.Contains(string(m), `assessgate_integrations{setup_status="COMPLETED",state="INVALID"} 1`) {
			t.Errorf("GET /metrics = %d; want the INVALID integration counted", status)
		}
		var relink struct {
			Link string `json:"link"`
		}
		if status := a.api("POST", "/api/v1/integrations/"+id+"/relink", []byte(`{"link_type":"MAGIC_LINK"}`), &relink); status != 200 {
			t.Fatalf("POST relink = %d; want 200", status)
		}
		links = fake.Links()
		if l := links[len(links)-1]; l.URL != relink.Link || l.IntegrationID != id || l.LinkType != kombo.LinkTypeMagicLink {
			t.Errorf("relink asked of Kombo = %+v; want a MAGIC_LINK for %s, returned as %s", l, id, relink.Link)
		}
		if status := a.api("POST", "/api/v1/integrations/lever:nope/relink", nil, &e); status != 404 {
			t.Errorf("relink of an unknown integration = %d; want 404", status)
		}

		// Kombo failing is said as such.
		fake.Fail(1, kombotest.Fault{Status: http.StatusInternalServerError, Code: kombo.CodeUnknownError})
		if status := a.api("POST", "/api/v1/connect/links", []byte(body), &e); status != 502 || !strings.Contains(e.Error.Message, "Kombo") {
			t.Errorf("a link while Kombo fails = %d %q; want 502 naming Kombo", status, e.Error.Message)
		}
	})
}

// TestConnect_withoutKombo: without KOMBO_API_KEY the onboarding endpoints
// say so with 503.
func TestConnect_withoutKombo(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	for _, tt := range []struct{ path, body string }{
		{"/api/v1/connect/links", `{"tenant_id":"acme","organization_name":"Acme","email":"it@acme.example"}`},
		{"/api/v1/connect/tokens", `{"token":"t"}`},
	} {
		var e apiError
		if status := a.api("POST", tt.path, []byte(tt.body), &e); status != 503 || !strings.Contains(e.Error.Message, "KOMBO_API_KEY") {
			t.Errorf("POST %s = %d %q; want 503 naming KOMBO_API_KEY", tt.path, status, e.Error.Message)
		}
	}
	var ints struct {
		Data []json.RawMessage `json:"data"`
	}
	if status := a.api("GET", "/api/v1/integrations", nil, &ints); status != 200 || len(ints.Data) != 0 {
		t.Errorf("GET /api/v1/integrations = %d %d; want 200, none", status, len(ints.Data))
	}
}

// TestRelinkEmail: with ASSESSGATE_RELINK_EMAIL, an integration that turns
// INVALID has its reconnection link e-mailed to the person who connected
// it, once; through a real SMTP server (mailpit).
func TestRelinkEmail(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		mp := mailtest.Start(t, nil)
		fake := kombotest.NewServer()
		t.Cleanup(fake.Close)
		a := startApp(t, dbURL, komboEnv(fake, map[string]string{
			"ASSESSGATE_SMTP_URL": mp.SMTPURL(), "ASSESSGATE_MAIL_FROM": "Acme Assessments <noreply@acme-assess.example>",
			"ASSESSGATE_PUBLIC_URL": "https://assess.example", "ASSESSGATE_RELINK_EMAIL": "true",
		}))
		const id = "lever:globex2"
		in := kombotest.Integration{ID: id, Organization: "Globex", OriginID: "globex"} // created by it@globex.example
		for _, step := range []struct{ event, state string }{
			{kombo.EventIntegrationCreated, ""},
			{kombo.EventIntegrationStateChanged, kombo.IntegrationStateInvalid},
			{kombo.EventIntegrationStateChanged, kombo.IntegrationStateInvalid}, // again: no second e-mail
		} {
			if step.state != "" {
				fake.SetIntegrationState(id, step.state, "")
			}
			in.State = step.state
			body, err := kombotest.IntegrationWebhook("", step.event, in)
			if err != nil {
				t.Fatal(err)
			}
			if status, b := a.webhook(body); status != 200 {
				t.Fatalf("%s = %d %s", step.event, status, b)
			}
		}
		msgs := mp.WaitFor(t, "it@globex.example", 1, 10*time.Second)
		m := mp.Message(t, msgs[0].ID)
		links := fake.Links()
		if len(links) == 0 {
			t.Fatal("Kombo made no relink link")
		}
		link := links[len(links)-1]
		if link.IntegrationID != id || !strings.Contains(m.Text, link.URL) || !strings.Contains(m.HTML, "Reconnect") ||
			!strings.Contains(m.Subject, "lever") || !strings.Contains(m.Subject, "Globex") {
			t.Errorf("e-mail %q:\n%s\nwant Kombo's relink link %s for %s", m.Subject, m.Text, link.URL, id)
		}
		// Let any further job run before counting: the e-mail is sent once.
		wait.For(t, 10*time.Second, "no relink job left", func() bool {
			return a.count("river_job", "kind = 'relink' AND state NOT IN ('completed')") == 0
		})
		if n := len(mp.MessagesTo(t, "it@globex.example")); n != 1 {
			t.Errorf("%d e-mails to the creator; want 1", n)
		}
	})
}

func TestRelinkEmail_needsSMTP(t *testing.T) {
	_, err := runCmd(t, map[string]string{"KOMBO_WEBHOOK_SECRET": testSecret, "ASSESSGATE_RELINK_EMAIL": "true",
		"ASSESSGATE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "a.db")}, "serve")
	if err == nil || !strings.Contains(err.Error(), "ASSESSGATE_RELINK_EMAIL") || !strings.Contains(err.Error(), "ASSESSGATE_SMTP_URL") {
		t.Errorf("serve with ASSESSGATE_RELINK_EMAIL and no SMTP = %v; want an error naming both", err)
	}
}
