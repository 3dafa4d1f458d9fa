package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

//go:embed templates
var embedded embed.FS

// Data is what the templates of a candidate e-mail see. The strings come
// from the ATS as Kombo sent them: the HTML templates escape them
// (html/template), and the subject is kept to one line.
type Data struct {
	FirstName string // may be empty
	LastName  string // may be empty
	// JobName is the job the candidate applied for; may be empty.
	JobName string
	// Organization is the hiring company: the tenant's display name, or the
	// integration's organisation as Kombo names its end user; may be empty.
	Organization string
	// PackageName is the assessment's name in the vendor's catalogue; may be
	// empty.
	PackageName string
	// Link is the candidate's personal link to the assessment.
	Link string
	// ExpiresAt is when the link stops working; zero if it does not expire.
	ExpiresAt time.Time

	// Lang is the language to write in (one of Languages); "" or another
	// is English.
	Lang string
	// LogoURL is the hiring company's logo (https), shown atop the HTML
	// part; may be empty.
	LogoURL string
	// AccentColor, "#rrggbb", colours the HTML part's button; "" is the
	// default, DefaultAccent.
	AccentColor string
}

// DefaultAccent is the button's colour when the tenant chose none.
const DefaultAccent = "#2456d3"

// Name is the candidate's full name as far as it is known, or "".
func (d *Data) Name() string {
	return strings.TrimSpace(strings.TrimSpace(d.FirstName) + " " + strings.TrimSpace(d.LastName))
}

// Language is the language the e-mail is written in: Lang if it is one of
// Languages, else English.
func (d *Data) Language() string {
	if slices.Contains(Languages, d.Lang) {
		return d.Lang
	}
	return Languages[0]
}

// Accent is the colour of the HTML part's button.
func (d *Data) Accent() string {
	if accent.MatchString(d.AccentColor) {
		return d.AccentColor
	}
	return DefaultAccent
}

var accent = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Languages are the languages of the candidates' e-mails, English first:
// the fallback. (orders.Languages is the same list; a test holds them
// equal.)
var Languages = []string{"en", "de", "fr", "es", "it"}

// Templates are the templates of every Kind in every language. For kind K
// in English, the file K.txt is the plain-text part (text/template) and must
// define a "subject" template; K.html is the HTML part (html/template).
// Another language L has its own in L/K.txt and L/K.html. The HTML part of
// an embedded template defines "title" and "intro" and calls the template
// "layout" (layout.html), which calls "button", "fallback", "personal" and
// "closing" (parts.html, or L/parts.html): the words around the link. All
// see a *Data and the function date, which formats a time in the
// template's language ("Monday, 2 January 2006, 15:04 UTC").
//
// Relink, an e-mail to the customer's admin rather than to a candidate, is
// in English only.
type Templates struct {
	text map[string]map[Kind]*texttemplate.Template // by language
	html map[string]map[Kind]*htmltemplate.Template
}

// Kinds lists every kind of e-mail.
var Kinds = []Kind{Invitation, Reminder, Relink}

// CandidateKinds are the kinds of e-mail written in every language.
var CandidateKinds = []Kind{Invitation, Reminder}

// File is the name of a template's file under the templates directory:
// K.ext for English, L/K.ext for language L.
func File(lang string, kind Kind, ext string) string {
	if lang == Languages[0] {
		return string(kind) + "." + ext
	}
	return lang + "/" + string(kind) + "." + ext
}

// LoadTemplates returns the embedded templates, each replaced by the file of
// the same name in dir when dir is set and has one (see File; layout.html
// and parts.html too). Every template is tried out on sample data, so that
// a broken one stops start-up; its error names the file.
func LoadTemplates(dir string) (*Templates, error) {
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("ASSESSGATE_TEMPLATES_DIR %s: not a directory", dir)
		}
	}
	read := func(name string) (string, []byte, error) {
		if dir != "" {
			path := filepath.Join(dir, filepath.FromSlash(name))
			b, err := os.ReadFile(path)
			if err == nil {
				return path, b, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return path, nil, err
			}
		}
		b, err := embedded.ReadFile("templates/" + name)
		return "embedded " + name, b, err
	}
	t := &Templates{text: map[string]map[Kind]*texttemplate.Template{}, html: map[string]map[Kind]*htmltemplate.Template{}}
	for _, lang := range Languages {
		t.text[lang], t.html[lang] = map[Kind]*texttemplate.Template{}, map[Kind]*htmltemplate.Template{}
		fn := map[string]any{"date": dateIn(lang)}
		parts := "parts.html"
		if lang != Languages[0] {
			parts = lang + "/parts.html"
		}
		kinds := CandidateKinds
		if lang == Languages[0] {
			kinds = Kinds
		}
		for _, kind := range kinds {
			name, b, err := read(File(lang, kind, "txt"))
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			tt, err := texttemplate.New(string(kind)).Funcs(fn).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			if tt.Lookup("subject") == nil {
				return nil, fmt.Errorf(`template %s: no {{define "subject"}}…{{end}}`, name)
			}
			t.text[lang][kind] = tt

			ht := htmltemplate.New(string(kind)).Funcs(fn).Option("missingkey=error")
			for _, file := range []string{"layout.html", parts, File(lang, kind, "html")} {
				if kind == Relink && file != File(lang, kind, "html") {
					continue
				}
				name, b, err := read(file)
				if err != nil {
					return nil, fmt.Errorf("template %s: %w", name, err)
				}
				if _, err := ht.Parse(string(b)); err != nil {
					return nil, fmt.Errorf("template %s: %w", name, err)
				}
			}
			t.html[lang][kind] = ht
		}
	}
	for lang, kinds := range t.text {
		for kind := range kinds {
			if err := t.check(lang, kind, dir); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// check renders kind in lang on sample data, with and without the optional
// fields, and requires the link in both parts.
func (t *Templates) check(lang string, kind Kind, dir string) error {
	full := &Data{FirstName: "Ada", LastName: "Lovelace", JobName: "Engineer", Organization: "Acme",
		PackageName: "Test", Link: "https://assess.example/a/sample-token", ExpiresAt: time.Now(), Lang: lang}
	for _, d := range []*Data{full, {Link: full.Link, Lang: lang}} {
		r, err := t.Render(kind, d)
		if err != nil {
			return err
		}
		where := "embedded"
		if dir != "" {
			where = dir
		}
		if r.Subject == "" {
			return fmt.Errorf("template %s (%s): the subject is empty", File(lang, kind, "txt"), where)
		}
		if !strings.Contains(r.Text, d.Link) {
			return fmt.Errorf("template %s (%s): the text does not contain the link {{.Link}}", File(lang, kind, "txt"), where)
		}
		if !strings.Contains(r.HTML, d.Link) {
			return fmt.Errorf("template %s (%s): the HTML does not contain the link {{.Link}}", File(lang, kind, "html"), where)
		}
	}
	return nil
}

// Rendered is a rendered e-mail.
type Rendered struct {
	Lang    string // the language it is written in
	Subject string
	Text    string
	HTML    string
}

// Render renders the e-mail of kind for d, in d's language (English when
// there is none of kind in it).
func (t *Templates) Render(kind Kind, d *Data) (*Rendered, error) {
	lang := d.Language()
	if t.text[lang][kind] == nil {
		lang = Languages[0]
	}
	tt, ht := t.text[lang][kind], t.html[lang][kind]
	if tt == nil || ht == nil {
		return nil, fmt.Errorf("no templates for e-mail kind %q", kind)
	}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", d); err != nil {
		return nil, fmt.Errorf("template %s: subject: %w", File(lang, kind, "txt"), err)
	}
	if err := tt.Execute(&text, d); err != nil {
		return nil, fmt.Errorf("template %s: %w", File(lang, kind, "txt"), err)
	}
	if err := ht.Execute(&html, d); err != nil {
		return nil, fmt.Errorf("template %s: %w", File(lang, kind, "html"), err)
	}
	return &Rendered{Subject: oneLine(subject.String()), Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String(), Lang: lang}, nil
}

// oneLine turns control characters, line breaks included, into spaces and
// collapses runs of spaces: a name from the ATS cannot add a header.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
