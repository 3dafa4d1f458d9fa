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
	// Organization is the hiring organisation, as Kombo names the
	// integration's end user; may be empty.
	Organization string
	// PackageName is the assessment's name in the vendor's catalogue; may be
	// empty.
	PackageName string
	// Link is the candidate's personal link to the assessment.
	Link string
	// ExpiresAt is when the link stops working; zero if it does not expire.
	ExpiresAt time.Time
}

// Name is the candidate's full name as far as it is known, or "".
func (d *Data) Name() string {
	return strings.TrimSpace(strings.TrimSpace(d.FirstName) + " " + strings.TrimSpace(d.LastName))
}

// Templates are the templates of every Kind: for kind K, the file K.txt is
// the plain-text part (text/template) and must define a "subject" template;
// K.html is the HTML part (html/template). Both see a *Data and the function
// date, which formats a time as "Monday, 2 January 2006, 15:04 UTC".
type Templates struct {
	text map[Kind]*texttemplate.Template
	html map[Kind]*htmltemplate.Template
}

// Kinds lists every kind of e-mail.
var Kinds = []Kind{Invitation, Reminder, Relink}

var funcs = map[string]any{
	"date": func(t time.Time) string { return t.UTC().Format("Monday, 2 January 2006, 15:04 UTC") },
}

// LoadTemplates returns the embedded templates, each replaced by the file of
// the same name in dir when dir is set and has one. Every template is tried
// out on sample data, so that a broken one stops start-up; its error names
// the file.
func LoadTemplates(dir string) (*Templates, error) {
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("ASSESSGATE_TEMPLATES_DIR %s: not a directory", dir)
		}
	}
	read := func(name string) (string, []byte, error) {
		if dir != "" {
			path := filepath.Join(dir, name)
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
	t := &Templates{text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
	for _, kind := range Kinds {
		name, b, err := read(string(kind) + ".txt")
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		tt, err := texttemplate.New(string(kind)).Funcs(funcs).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		if tt.Lookup("subject") == nil {
			return nil, fmt.Errorf(`template %s: no {{define "subject"}}…{{end}}`, name)
		}
		t.text[kind] = tt

		name, b, err = read(string(kind) + ".html")
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		ht, err := htmltemplate.New(string(kind)).Funcs(funcs).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		t.html[kind] = ht
	}
	for _, kind := range Kinds {
		if err := t.check(kind, dir); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// check renders kind on sample data, with and without the optional fields,
// and requires the link in both parts.
func (t *Templates) check(kind Kind, dir string) error {
	full := &Data{FirstName: "Ada", LastName: "Lovelace", JobName: "Engineer", Organization: "Acme",
		PackageName: "Test", Link: "https://assess.example/a/sample-token", ExpiresAt: time.Now()}
	for _, d := range []*Data{full, {Link: full.Link}} {
		r, err := t.Render(kind, d)
		if err != nil {
			return err
		}
		where := "embedded"
		if dir != "" {
			where = dir
		}
		if r.Subject == "" {
			return fmt.Errorf("template %s.txt (%s): the subject is empty", kind, where)
		}
		if !strings.Contains(r.Text, d.Link) {
			return fmt.Errorf("template %s.txt (%s): the text does not contain the link {{.Link}}", kind, where)
		}
		if !strings.Contains(r.HTML, d.Link) {
			return fmt.Errorf("template %s.html (%s): the HTML does not contain the link {{.Link}}", kind, where)
		}
	}
	return nil
}

// Rendered is a rendered e-mail.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Render renders the e-mail of kind for d.
func (t *Templates) Render(kind Kind, d *Data) (*Rendered, error) {
	tt, ht := t.text[kind], t.html[kind]
	if tt == nil || ht == nil {
		return nil, fmt.Errorf("no templates for e-mail kind %q", kind)
	}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", d); err != nil {
		return nil, fmt.Errorf("template %s.txt: subject: %w", kind, err)
	}
	if err := tt.Execute(&text, d); err != nil {
		return nil, fmt.Errorf("template %s.txt: %w", kind, err)
	}
	if err := ht.Execute(&html, d); err != nil {
		return nil, fmt.Errorf("template %s.html: %w", kind, err)
	}
	return &Rendered{Subject: oneLine(subject.String()), Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String()}, nil
}

// oneLine turns control characters, line breaks included, into spaces and
// collapses runs of spaces: a name from the ATS cannot add a header.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
