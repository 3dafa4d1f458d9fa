package main

import (
	"io"
	"mime"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/apitest"
)

// TestCandidates_Languages: a tenant's settings through the API decide the
// language and the name its candidates' e-mails are written in and where
// replies go; a re-invitation may name another language, and the
// candidate pages follow the order's.
func TestCandidates_Languages(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		c := startCandidates(t, dbURL, 0, map[string]string{"ASSESSGATE_REMINDER_AFTER": "0"})
		const tenant = "cust_000123" // webhook-integration-created.json's origin_id

		var e apiError
		for body, field := range map[string]string{
			`{"language": "pt"}`:                      "language",
			`{"accent_color": "#12345"}`:              "accent_color",
			`{"reply_to": "always"}`:                  "reply_to",
			`{"logo_url": "javascript:alert(1)"}`:     "logo_url",
			`{"tenant_id": "other"}`:                  "tenant_id",
			`{"language": "de", "colour": "#fff000"}`: "colour",
		} {
			if status := c.api("PUT", "/api/v1/tenants/"+tenant, []byte(body), &e); status != http.StatusBadRequest || !strings.Contains(e.Error.Message, field) {
				t.Errorf("PUT %s = %d %q; want 400 naming %s", body, status, e.Error.Message, field)
			}
		}
		if status := c.api("GET", "/api/v1/tenants/nobody", nil, &e); status != http.StatusNotFound {
			t.Errorf("GET an unknown tenant = %d; want 404", status)
		}
		var ts map[string]any
		if status := c.api("GET", "/api/v1/tenants/"+tenant, nil, &ts); status != http.StatusOK || ts["language"] != "en" || ts["updated_at"] != nil {
			t.Errorf("GET a tenant that set nothing = %d %v; want the defaults", status, ts)
		}
		settings := `{"language": "de", "display_name": "Acme Corp Berlin", "accent_color": "#0B6E4F", "reply_to": "recruiter",
			"logo_url": "https://cdn.acme.example/logo.png"}`
		if status := c.api("PUT", "/api/v1/tenants/"+tenant, []byte(settings), &ts); status != http.StatusOK || ts["accent_color"] != "#0b6e4f" {
			t.Fatalf("PUT settings = %d %v", status, ts)
		}
		if status := c.api("GET", "/api/v1/tenants/"+tenant, nil, &ts); status != http.StatusOK || ts["display_name"] != "Acme Corp Berlin" ||
			ts["reply_to"] != "recruiter" || ts["language_by_country"] != false || ts["updated_at"] == nil {
			t.Errorf("GET settings = %d %v", status, ts)
		}

		c.order("ev-1", "order-1", "john@cand.example")
		first := c.mp.WaitFor(t, "john@cand.example", 1, 30*time.Second)[0]
		if first.Subject != "Acme Corp Berlin: Einladung zum Online-Test (Bottle Opener)" || !strings.HasPrefix(first.Text, "Guten Tag John Doe,") {
			t.Errorf("invitation = %q:\n%s; want German, from Acme Corp Berlin", first.Subject, first.Text)
		}
		raw, err := netmail.ReadMessage(strings.NewReader(c.mp.Raw(t, first.ID)))
		if err != nil {
			t.Fatal(err)
		}
		from, _ := netmail.ParseAddress(raw.Header.Get("From"))
		replyTo, _ := netmail.ParseAddress(raw.Header.Get("Reply-To"))
		if from == nil || from.Name != "Acme Corp Berlin via Acme Assessments" || from.Address != "noreply@acme-assess.example" {
			t.Errorf("From = %q; want the company via the vendor, on the vendor's address", raw.Header.Get("From"))
		}
		if replyTo == nil || replyTo.Address != "jane.doe@gmail.com" { // the seed order's recruiter
			t.Errorf("Reply-To = %q; want the recruiter's", raw.Header.Get("Reply-To"))
		}
		if raw.Header.Get("Content-Language") != "de" || !strings.Contains(first.HTML, `<html lang="de">`) ||
			!strings.Contains(first.HTML, "#0b6e4f") || !strings.Contains(first.HTML, "https://cdn.acme.example/logo.png") {
			t.Errorf("German invitation: Content-Language %q, HTML:\n%s", raw.Header.Get("Content-Language"), first.HTML)
		}

		// A re-invitation in French; a language not offered is refused.
		c.waitOrder("order-1", "invited", func(o orderView) bool { return o.State == "invited" })
		c.advance(time.Hour) // a request at the invitation's instant is taken as answered by it
		if status := c.api("POST", "/api/v1/orders/order-1/invite", []byte(`{"language": "pt"}`), &e); status != http.StatusBadRequest ||
			!strings.Contains(e.Error.Message, "language") {
			t.Errorf("POST invite in pt = %d %q; want 400 naming language", status, e.Error.Message)
		}
		if status := c.api("POST", "/api/v1/orders/order-1/invite", []byte(`{"language": "fr"}`), nil); status != http.StatusAccepted {
			t.Fatalf("POST invite in fr = %d; want 202", status)
		}
		second := c.mp.WaitFor(t, "john@cand.example", 2, 30*time.Second)[1]
		if subject, _ := new(mime.WordDecoder).DecodeHeader(second.Subject); !strings.HasPrefix(second.Text, "Bonjour John Doe,") ||
			!strings.Contains(subject, "invitation à un test en ligne") {
			t.Errorf("re-invitation = %q:\n%s; want French", subject, second.Text)
		}
		if second.MessageID == first.MessageID || !strings.HasSuffix(second.MessageID, "@acme-assess.example") {
			t.Errorf("Message-IDs %q, %q; want two, on the vendor's domain", first.MessageID, second.MessageID)
		}
		o := c.get("order-1")
		if !o.has("invite.requested", map[string]any{"language": "fr"}) {
			t.Errorf("timeline %+v; want the request in fr", o.Timeline)
		}
		// An unknown link's page is in the browser's language.
		req, _ := http.NewRequest("GET", c.URL+"/a/unknown-token", nil)
		req.Header.Set("Accept-Language", "it-IT,it;q=0.9")
		resp, err := apitest.Client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(page), `<html lang="it">`) ||
			!strings.Contains(string(page), "Questo link non funziona") {
			t.Errorf("unknown link = %d %s; want 404 in Italian", resp.StatusCode, page)
		}
		status, _, body := c.open("GET", token(t, second))
		if status != http.StatusFound {
			t.Errorf("the French link = %d %s; want the assessment", status, body)
		}
	})
}
