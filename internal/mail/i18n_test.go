package mail

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	htmltemplate "html/template"

	"github.com/assessgate/assessgate/internal/mail/mailtest"
)

// seedData is what the templates see for the seed order (Kombo's example:
// John Doe, "Bottle Opener" in Berlin) of the customer Acme Corp, in lang.
func seedData(t *testing.T, lang string) *Data {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "cmd", "assessgate", "demodata", "seed-assessment-order-received.json"))
	if err != nil {
		t.Fatal(err)
	}
	var seed struct {
		Data struct {
			Candidate struct {
				FirstName string `json:"first_name"`
				LastName  string `json:"last_name"`
			} `json:"candidate"`
			Job struct {
				Name string `json:"name"`
			} `json:"job"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &seed); err != nil {
		t.Fatal(err)
	}
	return &Data{FirstName: seed.Data.Candidate.FirstName, LastName: seed.Data.Candidate.LastName,
		JobName: seed.Data.Job.Name, Organization: "Acme Corp", PackageName: "TypeScript (60 min)",
		Link: "https://assess.example/a/tok123", ExpiresAt: expires, Lang: lang}
}

// How each language greets, and writes the expiry of the link (expires).
var greetings = map[string]struct{ greeting, date string }{
	"en": {"Hello John Doe,", "Thursday, 10 December 2026, 09:30 UTC"},
	"de": {"Guten Tag John Doe,", "Donnerstag, 10. Dezember 2026, 09:30 UTC"},
	"fr": {"Bonjour John Doe,", "jeudi 10 décembre 2026 à 09:30 UTC"},
	"es": {"Hola John Doe:", "jueves, 10 de diciembre de 2026, 09:30 UTC"},
	"it": {"Buongiorno John Doe,", "giovedì 10 dicembre 2026, 09:30 UTC"},
}

// TestTemplates_EveryLanguage renders every candidate e-mail in every
// language for the seed order: subject (who invites, for which job),
// greeting, company, link and date in the plain-text part, the same and
// lang in the HTML part. Every language has every template file and every
// template ("key") that English defines: a missing translation fails here
// (and LoadTemplates, at start-up).
func TestTemplates_EveryLanguage(t *testing.T) {
	tmpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(func(yield func(string) bool) {
		for l := range greetings {
			if !yield(l) {
				return
			}
		}
	}), slices.Sorted(slices.Values(Languages))) {
		t.Fatalf("the test knows %v; the languages are %v", greetings, Languages)
	}
	keys := func(t *testing.T, lang string, kind Kind) []string {
		var names []string
		for _, tt := range tmpl.text[lang][kind].Templates() {
			names = append(names, "txt:"+tt.Name())
		}
		for _, ht := range tmpl.html[lang][kind].Templates() {
			names = append(names, "html:"+ht.Name())
		}
		slices.Sort(names)
		return names
	}
	for _, lang := range Languages {
		for _, kind := range CandidateKinds {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				for _, ext := range []string{"txt", "html"} {
					if _, err := embedded.ReadFile("templates/" + File(lang, kind, ext)); err != nil {
						t.Errorf("no template %s: %v", File(lang, kind, ext), err)
					}
				}
				if got, want := keys(t, lang, kind), keys(t, "en", kind); !slices.Equal(got, want) {
					t.Errorf("templates defined = %v; English defines %v", got, want)
				}
				d := seedData(t, lang)
				r, err := tmpl.Render(kind, d)
				if err != nil {
					t.Fatal(err)
				}
				if r.Lang != lang {
					t.Errorf("rendered in %q; want %q", r.Lang, lang)
				}
				if !strings.Contains(r.Subject, "Acme Corp") || !strings.Contains(r.Subject, "Bottle Opener") {
					t.Errorf("subject %q: want the company and the job", r.Subject)
				}
				g := greetings[lang]
				if !strings.HasPrefix(r.Text, g.greeting+"\n") {
					t.Errorf("text does not begin with %q:\n%s", g.greeting, r.Text)
				}
				for _, want := range []string{"Acme Corp", "Bottle Opener", "TypeScript (60 min)", "\n" + d.Link + "\n", g.date} {
					if !strings.Contains(r.Text, want) {
						t.Errorf("text does not contain %q:\n%s", want, r.Text)
					}
				}
				for _, want := range []string{`<html lang="` + lang + `">`, htmltemplate.HTMLEscapeString(g.greeting), "Acme Corp",
					"Bottle Opener", `href="` + d.Link + `"`, g.date} {
					if !strings.Contains(r.HTML, want) {
						t.Errorf("HTML does not contain %q:\n%s", want, r.HTML)
					}
				}
				if lang != "en" {
					for _, english := range []string{"Hello", "assessment", "Good luck", "please"} {
						if strings.Contains(r.Text, english) || strings.Contains(r.HTML, english) {
							t.Errorf("the %s e-mail has English words (%q)", lang, english)
						}
					}
				}
				if strings.Contains(r.HTML, "<img") {
					t.Errorf("HTML without a logo has an image (a tracking pixel?):\n%s", r.HTML)
				}
			})
		}
	}
	t.Run("Fallback", func(t *testing.T) {
		r, err := tmpl.Render(Invitation, seedData(t, "pt"))
		if err != nil || r.Lang != "en" || !strings.HasPrefix(r.Text, "Hello John Doe,") {
			t.Errorf("Render in an unknown language = %+v, %v; want English", r, err)
		}
	})
	t.Run("Branding", func(t *testing.T) {
		d := seedData(t, "de")
		d.LogoURL, d.AccentColor = "https://cdn.acme.example/logo.png", "#0b6e4f"
		r, err := tmpl.Render(Invitation, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`<img src="https://cdn.acme.example/logo.png" alt="Acme Corp"`, "background: #0b6e4f"} {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("HTML does not contain %q:\n%s", want, r.HTML)
			}
		}
		d.AccentColor = "red; background-image: url(https://track.example/p.gif)"
		if r, _ = tmpl.Render(Invitation, d); strings.Contains(r.HTML, "track.example") || !strings.Contains(r.HTML, DefaultAccent) {
			t.Errorf("an accent colour that is not #rrggbb reached the HTML:\n%s", r.HTML)
		}
	})
	t.Run("MissingTranslation", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "de"), 0o700); err != nil {
			t.Fatal(err)
		}
		// A German reminder that lost its "intro": the layout cannot call it.
		if err := os.WriteFile(filepath.Join(dir, "de", "reminder.html"), []byte(`{{define "title"}}Erinnerung{{end}}{{template "layout" .}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "de/reminder.html") {
			t.Errorf("LoadTemplates without a German intro = %v; want an error naming de/reminder.html", err)
		}
	})
}

// TestMailer_Deliverability sends a German invitation through a real SMTP
// server (mailpit) and reads it back with Go's MIME parser: the sender in
// the company's name on the vendor's address, Reply-To, a Date, a
// Message-ID on the vendor's domain that a retry keeps, Content-Language,
// a plain-text part beside the HTML with the link on a line of its own, lang
// on the HTML, and no image.
func TestMailer_Deliverability(t *testing.T) {
	mp := mailtest.Start(t, nil)
	m, err := New(Config{URL: mp.SMTPURL(), From: "Vendor Tests <noreply@vendor.example>"})
	if err != nil {
		t.Fatal(err)
	}
	d := seedData(t, "de")
	d.Link = "https://assess.vendor.example/a/" + strings.Repeat("k", 90) // longer than a line
	msg := Message{To: "john.doe@example.com", Data: d, ReplyTo: "jane.doe@acme.example", Key: "invitation/order-1/0"}
	var ids []string
	for range 2 { // the same e-mail twice, as a retry sends it
		s := m.SendMany(t.Context(), Invitation, []Message{msg})[0]
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		ids = append(ids, s.MessageID)
	}
	got := mp.WaitFor(t, "john.doe@example.com", 2, 10*time.Second)
	want := "<" + MessageID("invitation/order-1/0", &netmail.Address{Address: "noreply@vendor.example"}) + ">"
	if ids[0] != want || ids[1] != want || !strings.HasSuffix(want, "@vendor.example>") {
		t.Errorf("Message-IDs = %v; want %s twice, on the vendor's domain", ids, want)
	}

	raw, err := netmail.ReadMessage(strings.NewReader(mp.Raw(t, got[0].ID)))
	if err != nil {
		t.Fatal(err)
	}
	h := raw.Header
	from, err := netmail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Acme Corp via Vendor Tests" || from.Address != "noreply@vendor.example" {
		t.Errorf("From = %q (%v); want \"Acme Corp via Vendor Tests\" <noreply@vendor.example>", h.Get("From"), err)
	}
	if rt, err := netmail.ParseAddress(h.Get("Reply-To")); err != nil || rt.Address != "jane.doe@acme.example" {
		t.Errorf("Reply-To = %q", h.Get("Reply-To"))
	}
	if h.Get("Message-Id") != want {
		t.Errorf("Message-ID header = %q; want %s", h.Get("Message-Id"), want)
	}
	if date, err := h.Date(); err != nil || time.Since(date).Abs() > time.Hour {
		t.Errorf("Date = %q (%v)", h.Get("Date"), err)
	}
	if h.Get("Content-Language") != "de" {
		t.Errorf("Content-Language = %q; want de", h.Get("Content-Language"))
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "Acme Corp: Einladung zum Online-Test (Bottle Opener)" {
		t.Errorf("Subject = %q (%v)", subject, err)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q; want multipart/alternative", h.Get("Content-Type"))
	}
	parts := map[string]string{}
	r := multipart.NewReader(raw.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(b)
	}
	text, html := parts["text/plain"], parts["text/html"]
	if !strings.Contains(strings.ReplaceAll(text, "\r\n", "\n"), "\n"+d.Link+"\n") {
		t.Errorf("the plain-text part has not the link on a line of its own:\n%s", text)
	}
	if !strings.Contains(text, "Guten Tag John Doe,") {
		t.Errorf("plain-text part:\n%s", text)
	}
	if !strings.Contains(html, `<html lang="de">`) || !strings.Contains(html, `href="`+d.Link+`"`) {
		t.Errorf("HTML part without lang=de or the link:\n%s", html)
	}
	if strings.Contains(html, "<img") {
		t.Errorf("HTML part has an image (no logo was set: a tracking pixel?)")
	}
}
