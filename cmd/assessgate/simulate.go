package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

const simulateUsage = `Usage: assessgate simulate [flags] EVENT

Sends one webhook to an assessgate, signed as Kombo signs it, and prints the
answer. EVENT is one of:

  order                      assessment:order-received, a new order
  inline-order               inline-assessment:order-received; prints the assessment_url
  integration-created        a customer connected an ATS
  integration-deleted        a customer disconnected it
  integration-state-changed  the integration's state changed (--state)

Orders are made up (names, e-mail at example.com, job, location, hiring
team) unless --file gives one: a webhook body, whose data is sent, or an
order alone. Each run is a new event; an order from a file keeps its id.

Flags:
`

// simulateEvents maps the command's event names to Kombo's webhook types.
var simulateEvents = map[string]string{
	"order":                     kombo.EventOrderReceived,
	"inline-order":              kombo.EventInlineOrderReceived,
	"integration-created":       kombo.EventIntegrationCreated,
	"integration-deleted":       kombo.EventIntegrationDeleted,
	"integration-state-changed": kombo.EventIntegrationStateChanged,
}

// runSimulate is "assessgate simulate": it sends a signed webhook to any
// assessgate, the way "stripe trigger" helps test locally.
func runSimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newEnvFlags("simulate", getenv, stderr)
	target := f.fs.String("url", "http://localhost:8080", "assessgate's address, or the full webhook URL")
	secrets := f.String("secret", "KOMBO_WEBHOOK_SECRET", "", "the webhook secret assessgate checks (the first, if several)")
	file := f.fs.String("file", "", "JSON file with the order: a webhook body or the order alone")
	integrationID := f.fs.String("integration-id", "greenhouse:SimulatedAcmeCorp000000001", "the integration the event belongs to")
	packageID := f.fs.String("package-id", "typescript_test", "the package ordered (must be in assessgate's catalogue, if it has one)")
	email := f.fs.String("email", "", "the candidate's e-mail (default: made up, at example.com)")
	org := f.fs.String("organization", "Acme Corp", "the customer's organisation, for integration events")
	state := f.fs.String("state", kombo.IntegrationStateActive, "the new state, for integration-state-changed: ACTIVE, INVALID or INACTIVE")
	f.fs.Usage = func() {
		fmt.Fprint(stderr, simulateUsage)
		f.fs.PrintDefaults()
	}
	// The event may come before or after the flags.
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	rest := f.fs.Args()
	if len(rest) == 0 {
		f.fs.Usage()
		return errors.New("simulate: say which event to send, e.g. \"assessgate simulate order\"")
	}
	event := rest[0]
	if err := f.Parse(rest[1:]); err != nil {
		return err
	}
	typ, ok := simulateEvents[event]
	if !ok {
		f.fs.Usage()
		return fmt.Errorf("simulate: unknown event %q", event)
	}
	secret := ""
	if list := splitList(*secrets); len(list) > 0 {
		secret = list[0]
	}
	if secret == "" {
		return errors.New("simulate: no secret: set --secret or KOMBO_WEBHOOK_SECRET to the secret assessgate checks")
	}
	webhookURL, err := webhookURL(*target)
	if err != nil {
		return err
	}

	var data any
	var what string
	switch typ {
	case kombo.EventOrderReceived, kombo.EventInlineOrderReceived:
		var o *kombo.Order
		if *file != "" {
			if o, err = readOrderFile(*file); err != nil {
				return err
			}
		} else {
			o = fakeOrder(rand.New(rand.NewPCG(rand.Uint64(), uint64(time.Now().UnixNano()))), *integrationID, *packageID)
		}
		if *email != "" {
			o.Candidate.Email = *email
		}
		data = o
		what = fmt.Sprintf("order %s for %s <%s>, %s", o.ID, candidateLabel(o.Candidate), o.Candidate.Email, deref(o.Job.Name))
	default:
		data, what = integrationData(typ, *integrationID, *org, strings.ToUpper(*state))
		if typ == kombo.EventIntegrationStateChanged {
			switch s := strings.ToUpper(*state); s {
			case kombo.IntegrationStateActive, kombo.IntegrationStateInvalid, kombo.IntegrationStateInactive:
			default:
				return fmt.Errorf("simulate: --state %q: want ACTIVE, INVALID or INACTIVE", *state)
			}
		}
	}
	d, err := json.Marshal(data)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"id": kombotest.NewID(), "type": typ, "data": json.RawMessage(d)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(kombo.SignatureHeader, kombo.Sign(secret, body))
	fmt.Fprintf(stdout, "POST %s\n  %s: %s\n", webhookURL, typ, what)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(stdout, "%s\n%s\n", resp.Status, strings.TrimSpace(string(answer)))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("simulate: assessgate answered %s", resp.Status)
	}
	if typ == kombo.EventInlineOrderReceived {
		var a struct {
			AssessmentURL string `json:"assessment_url"`
		}
		if json.Unmarshal(answer, &a) == nil && a.AssessmentURL != "" {
			fmt.Fprintf(stdout, "assessment_url: %s\n", a.AssessmentURL)
		}
	}
	return nil
}

// webhookURL turns assessgate's address into its webhook URL; a URL with a
// path is taken as it is.
func webhookURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("simulate: --url %q: want assessgate's address, such as http://localhost:8080", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/webhooks/kombo"
	}
	return u.String(), nil
}

// readOrderFile reads an order from a webhook body ({"id", "type", "data"})
// or from an order alone.
func readOrderFile(path string) (*kombo.Order, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &envelope); err != nil {
		return nil, fmt.Errorf("simulate: %s is not JSON: %v", path, err)
	}
	if len(envelope.Data) > 0 {
		b = envelope.Data
	}
	var o kombo.Order
	if err := json.Unmarshal(b, &o); err != nil || o.ID == "" {
		return nil, fmt.Errorf("simulate: %s holds no order (want a webhook body or an order with an id)", path)
	}
	return &o, nil
}

// integrationData is the data of an integration webhook, as Kombo sends it.
func integrationData(typ, id, org, state string) (map[string]any, string) {
	tool, _, _ := strings.Cut(id, ":")
	endUser := map[string]any{"organization_name": org, "creator_email": "it@" + domainOf(org), "origin_id": "simulated-" + strings.ToLower(strings.ReplaceAll(org, " ", "-"))}
	now := kombo.FormatTime(time.Now())
	switch typ {
	case kombo.EventIntegrationDeleted:
		return map[string]any{"id": id, "tool": tool, "category": "ASSESSMENT", "end_user": endUser, "deleted_at": now},
			fmt.Sprintf("integration %s (%s) deleted", id, org)
	case kombo.EventIntegrationStateChanged:
		return map[string]any{"integration_id": id, "integration_tool": tool, "integration_category": "ASSESSMENT", "end_user": endUser,
				"qa_status": "PASSED", "setup_status": "COMPLETED", "state": state, "updated_at": now},
			fmt.Sprintf("integration %s (%s) is now %s", id, org, state)
	}
	return map[string]any{"id": id, "tool": tool, "category": "ASSESSMENT", "end_user": endUser},
		fmt.Sprintf("integration %s (%s, %s) created", id, org, tool)
}

func domainOf(org string) string {
	return strings.ToLower(strings.Join(strings.Fields(org), "-")) + ".example"
}

func candidateLabel(c kombo.Candidate) string {
	if n := strings.TrimSpace(deref(c.FirstName) + " " + deref(c.LastName)); n != "" {
		return n
	}
	return "a candidate"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Made-up data for orders: plausible, and never a real address (every
// e-mail is at example.com or a .example domain).
var (
	simFirstNames = []string{"Ada", "Grace", "Linus", "Margaret", "Alan", "Hedy", "Tim", "Barbara", "Dennis", "Radia", "Ken", "Frances", "Jürgen", "Amélie", "Chidi", "Priya", "Mei", "Olusegun", "Sofía", "Mateusz"}
	simLastNames  = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Lamarr", "Berners-Lee", "Liskov", "Ritchie", "Perlman", "Thompson", "Allen", "Schmidt", "Dubois", "Okafor", "Sharma", "Chen", "Adeyemi", "García", "Kowalski"}
	simJobs       = []struct{ Name, Code, Description string }{
		{"Senior Backend Engineer", "ENG-BE", "<p>Design and run the services behind our product.</p><ul><li>Go or Java</li><li>SQL and queues</li></ul>"},
		{"Frontend Developer", "ENG-FE", "<p>Build fast, accessible interfaces in <b>TypeScript</b> and React.</p>"},
		{"Data Analyst", "DATA-AN", "<p>Turn our data into decisions. SQL, Python and a curious mind.</p>"},
		{"Site Reliability Engineer", "ENG-SRE", "<p>Keep production healthy: observability, incident response, automation.</p>"},
		{"Product Designer", "DES-PD", "<p>Shape how recruiters and candidates use our product.</p>"},
	}
	simPlaces = []struct{ Street, City, State, Zip, Country, Raw string }{
		{"Lohmühlenstraße 65", "Berlin", "Berlin", "12435", "DE", "Berlin, Germany"},
		{"1 Market St", "San Francisco", "CA", "94105", "US", "San Francisco, CA, USA"},
		{"12 Rue de Rivoli", "Paris", "Île-de-France", "75004", "FR", "Paris, France"},
		{"221B Baker Street", "London", "England", "NW1 6XE", "GB", "London, United Kingdom"},
		{"Herengracht 182", "Amsterdam", "North Holland", "1016 BR", "NL", "Amsterdam, Netherlands"},
	}
)

// fakeOrder makes up an order with realistic data.
func fakeOrder(r *rand.Rand, integrationID, packageID string) *kombo.Order {
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	ptr := func(s string) *string { return &s }
	first, last := pick(simFirstNames), pick(simLastNames)
	job := simJobs[r.IntN(len(simJobs))]
	place := simPlaces[r.IntN(len(simPlaces))]
	member := func(role string) kombo.HiringTeamMember {
		f, l := pick(simFirstNames), pick(simLastNames)
		return kombo.HiringTeamMember{RemoteID: ptr(fmt.Sprint(10000 + r.IntN(90000))), FirstName: ptr(f), LastName: ptr(l),
			Email: ptr(emailLocal(f) + "." + emailLocal(l) + "@acme-corp.example"), HiringTeamRoles: []string{role}}
	}
	return &kombo.Order{
		ID: kombotest.NewID(), IntegrationID: integrationID, PackageID: packageID, Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{
			RemoteID: ptr(fmt.Sprint(100000 + r.IntN(900000))), FirstName: ptr(first), LastName: ptr(last),
			Email: fmt.Sprintf("%s.%s+%d@example.com", emailLocal(first), emailLocal(last), r.IntN(1000)),
			Phone: ptr(fmt.Sprintf("+49 30 %07d", r.IntN(10000000))),
		},
		Application: kombo.Application{RemoteID: ptr(fmt.Sprint(100000 + r.IntN(900000)))},
		Job: kombo.Job{
			RemoteID: ptr(fmt.Sprint(1000 + r.IntN(9000))), Name: ptr(job.Name),
			JobCode: ptr(fmt.Sprintf("%s-%d", job.Code, 100+r.IntN(900))), Description: ptr(job.Description),
			Location: &kombo.Location{Street1: ptr(place.Street), City: ptr(place.City), State: ptr(place.State),
				ZipCode: ptr(place.Zip), Country: ptr(place.Country), Raw: ptr(place.Raw)},
			HiringTeam: []kombo.HiringTeamMember{member("RECRUITER"), member("HIRING_MANAGER")},
		},
	}
}

// emailLocal makes a name fit the local part of an address: ASCII letters
// and hyphens, lower case.
func emailLocal(s string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "é", "e", "è", "e", "á", "a", "í", "i", "ó", "o", "ñ", "n", "ł", "l")
	s = r.Replace(strings.ToLower(s))
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c == '-' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
