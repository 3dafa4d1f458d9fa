package admin

import (
	"fmt"
	"html"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// pageNames are the templates in templates/, each rendered inside
// layout.html.
var pageNames = []string{"login", "error", "overview", "orders", "order", "deadletters", "integrations", "packages", "sessions"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when":       formatWhen,
		"whenp":      formatWhenPtr,
		"deref":      deref,
		"name":       candidateName,
		"stateClass": stateClass,
		"ms": func(d time.Duration) string {
			return d.Round(time.Second).String()
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("admin template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// formatWhen shows a time in UTC to the second.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatWhenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatWhen(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stateClass is the CSS class of an order state's badge.
func stateClass(s orders.State) string {
	switch s {
	case orders.StateCompleted:
		return "ok"
	case orders.StateCancelled, orders.StateExpired:
		return "muted"
	case orders.StateStarted, orders.StateInvited:
		return "info"
	}
	return "new"
}

// candidateName is "First Last", or "" when the ATS sent no name.
func candidateName(c kombo.Candidate) string {
	return strings.TrimSpace(deref(c.FirstName) + " " + deref(c.LastName))
}

// location is a job's location in one line.
func location(l *kombo.Location) string {
	if l == nil {
		return ""
	}
	if l.Raw != nil && *l.Raw != "" {
		return *l.Raw
	}
	var parts []string
	for _, p := range []*string{l.Street1, l.Street2, l.ZipCode, l.City, l.State, l.Country} {
		if p != nil && *p != "" {
			parts = append(parts, *p)
		}
	}
	return strings.Join(parts, ", ")
}

// hiringMember is a hiring team member in one line: name, roles, e-mail.
func hiringMember(m kombo.HiringTeamMember) string {
	s := strings.TrimSpace(deref(m.FirstName) + " " + deref(m.LastName))
	if len(m.HiringTeamRoles) > 0 {
		s += " (" + strings.ToLower(strings.Join(m.HiringTeamRoles, ", ")) + ")"
	}
	if e := deref(m.Email); e != "" {
		s += " <" + e + ">"
	}
	return strings.TrimSpace(s)
}

// htmlToText turns the HTML of a job description into plain text: tags are
// dropped, block elements become line breaks (paragraphs a blank line),
// scripts and styles go with their content, whitespace collapses as a
// browser would, and entities are decoded. The result is escaped again by
// the template: the description is never rendered as HTML.
func htmlToText(s string) string {
	var (
		b      strings.Builder
		breaks int  // line breaks wanted before the next text
		space  bool // a space wanted before the next text
	)
	text := func(chunk string) {
		chunk = html.UnescapeString(chunk)
		words := strings.Fields(chunk)
		if len(words) == 0 {
			space = space || chunk != ""
			return
		}
		if b.Len() > 0 {
			switch {
			case breaks > 0:
				b.WriteString(strings.Repeat("\n", breaks))
			case space || strings.TrimLeft(chunk, " \t\r\n") != chunk:
				b.WriteString(" ")
			}
		}
		b.WriteString(strings.Join(words, " "))
		breaks = 0
		space = strings.TrimRight(chunk, " \t\r\n") != chunk
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			text(s)
			break
		}
		text(s[:i])
		s = s[i:]
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break // an unclosed tag: drop the rest
		}
		tag := strings.ToLower(strings.TrimLeft(s[1:j], "/ "))
		if f := strings.FieldsFunc(tag, func(r rune) bool { return r == ' ' || r == '/' || r == '\t' || r == '\n' }); len(f) > 0 {
			tag = f[0]
		}
		s = s[j+1:]
		switch tag {
		case "script", "style":
			if k := strings.Index(strings.ToLower(s), "</"+tag); k >= 0 {
				s = s[k:]
				if e := strings.IndexByte(s, '>'); e >= 0 {
					s = s[e+1:]
				}
			} else {
				s = ""
			}
		case "p", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre":
			breaks = 2
		case "br", "li", "div", "tr", "dt", "dd":
			breaks = max(breaks, 1)
		}
	}
	return b.String()
}

// eventRow is a timeline entry as the order page shows it: a sentence, a
// tone for its colour, and every detail.
type eventRow struct {
	At      time.Time
	Kind    string
	Summary string
	Tone    string // ok, warn, err or "" (neutral)
	Details []detail
}

type detail struct{ Key, Value string }

// newEventRow describes a timeline event in words (its Describe) and lists
// the fields of its detail.
func newEventRow(e orders.Event) eventRow {
	row := eventRow{At: e.At, Kind: e.Kind(), Summary: e.Data.Describe(), Tone: string(e.Data.Outcome())}
	d := e.Detail()
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := d[k]
		var s string
		switch v := v.(type) {
		case float64:
			s = fmt.Sprintf("%v", v)
			if v == float64(int64(v)) {
				s = fmt.Sprintf("%d", int64(v))
			}
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			s = strings.Join(parts, "; ")
			if s == "" {
				s = "none"
			}
		default:
			s = fmt.Sprint(v)
		}
		row.Details = append(row.Details, detail{k, s})
	}
	return row
}

// writebackError is a write-back error (see Store.FindWritebackErrors) as
// the overview lists it: its HTTP status, Kombo's error code and the error,
// each empty when the event has none.
type writebackError struct {
	orders.Event
	Status, ErrorCode, Error string
}

func newWritebackError(e orders.Event) writebackError {
	w := writebackError{Event: e}
	switch d := e.Data.(type) {
	case orders.KomboCall:
		w.Status, w.ErrorCode, w.Error = strconv.Itoa(d.Status), deref(d.ErrorCode), deref(d.Error)
	case orders.DeadLetter:
		if d.Status != nil {
			w.Status = strconv.Itoa(*d.Status)
		}
		w.ErrorCode, w.Error = deref(d.ErrorCode), d.Error
	}
	return w
}
