package kombotest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// This file builds what Kombo sends a vendor: orders with made-up,
// plausible data and the signed webhooks that carry them. The demo, the
// simulator, the load generator and the tests all take their orders and
// webhooks from here.

// OrderOption sets a field of an order made by Order or Orders.Order.
type OrderOption func(*kombo.Order)

// WithID sets the order's id.
func WithID(id string) OrderOption { return func(o *kombo.Order) { o.ID = id } }

// WithIntegration sets the integration the order belongs to.
func WithIntegration(id string) OrderOption {
	return func(o *kombo.Order) { o.IntegrationID = id }
}

// WithPackage sets the package ordered.
func WithPackage(id string) OrderOption { return func(o *kombo.Order) { o.PackageID = id } }

// WithEmail sets the candidate's e-mail address.
func WithEmail(email string) OrderOption { return func(o *kombo.Order) { o.Candidate.Email = email } }

// DefaultIntegration and DefaultPackage are the integration and package of
// an order made without WithIntegration or WithPackage.
const (
	DefaultIntegration = "greenhouse:SimulatedAcmeCorp000000001"
	DefaultPackage     = "typescript_test"
)

// Orders makes up orders from a seeded source: the same seed makes the same
// orders. It is not safe for concurrent use.
type Orders struct {
	rng *rand.Rand
}

// NewOrders returns an Orders seeded with seed.
func NewOrders(seed uint64) *Orders {
	return &Orders{rng: rand.New(rand.NewPCG(seed, 1))}
}

// Order makes up an open order: a candidate with a name, an e-mail at
// example.com and a phone number, an application, and a job with a
// description, a location and a hiring team of two, all ids new. opts
// change it; without them it belongs to DefaultIntegration and orders
// DefaultPackage.
func Order(opts ...OrderOption) kombo.Order {
	return NewOrders(rand.Uint64()).Order(opts...)
}

// Order makes up an order as the function Order does, from g's source.
func (g *Orders) Order(opts ...OrderOption) kombo.Order {
	r := g.rng
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	ptr := func(s string) *string { return &s }
	num := func(from, n int) *string { return ptr(fmt.Sprint(from + r.IntN(n))) }
	first, last := pick(firstNames), pick(lastNames)
	job := jobs[r.IntN(len(jobs))]
	place := places[r.IntN(len(places))]
	member := func(role string) kombo.HiringTeamMember {
		f, l := pick(firstNames), pick(lastNames)
		return kombo.HiringTeamMember{RemoteID: num(10000, 90000), FirstName: ptr(f), LastName: ptr(l),
			Email: ptr(emailLocal(f) + "." + emailLocal(l) + "@acme-corp.example"), HiringTeamRoles: []string{role}}
	}
	o := kombo.Order{
		ID: g.ID(), IntegrationID: DefaultIntegration, PackageID: DefaultPackage, Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{
			RemoteID: num(100000, 900000), FirstName: ptr(first), LastName: ptr(last),
			Email: fmt.Sprintf("%s.%s+%d@example.com", emailLocal(first), emailLocal(last), r.IntN(100_000)),
			Phone: ptr(fmt.Sprintf("+49 30 %07d", r.IntN(10_000_000))),
		},
		Application: kombo.Application{RemoteID: num(100000, 900000)},
		Job: kombo.Job{
			RemoteID: num(1000, 9000), Name: ptr(job.Name),
			JobCode: ptr(fmt.Sprintf("%s-%d", job.Code, 100+r.IntN(900))), Description: ptr(job.Description),
			Location: &kombo.Location{Street1: ptr(place.Street), City: ptr(place.City), State: ptr(place.State),
				ZipCode: ptr(place.Zip), Country: ptr(place.Country), Raw: ptr(place.Raw)},
			HiringTeam: []kombo.HiringTeamMember{member("RECRUITER"), member("HIRING_MANAGER")},
		},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// ID returns a new id of 24 letters and digits, like Kombo's, from g's
// source.
func (g *Orders) ID() string { return newID(g.rng.IntN) }

// Webhook returns the body of a webhook as Kombo sends it: the envelope
// {id, type, data} with event id eventID (a new one when empty) and data
// encoded with encoding/json (a json.RawMessage is sent as it is).
func Webhook(eventID, eventType string, data any) ([]byte, error) {
	d, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("kombotest: webhook %s: %w", eventType, err)
	}
	if eventID == "" {
		eventID = NewID()
	}
	return json.Marshal(struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}{eventID, eventType, d})
}

// OrderWebhook returns the body of an assessment:order-received webhook
// for o, with event id eventID (a new one when empty).
func OrderWebhook(eventID string, o kombo.Order) []byte {
	return orderWebhook(eventID, kombo.EventOrderReceived, o)
}

// InlineOrderWebhook returns the body of an
// inline-assessment:order-received webhook for o, with event id eventID (a
// new one when empty).
func InlineOrderWebhook(eventID string, o kombo.Order) []byte {
	return orderWebhook(eventID, kombo.EventInlineOrderReceived, o)
}

func orderWebhook(eventID, eventType string, o kombo.Order) []byte {
	body, err := Webhook(eventID, eventType, o)
	if err != nil {
		panic(err) // an Order always encodes
	}
	return body
}

// Integration is what an integration webhook says about an integration.
type Integration struct {
	ID           string // "greenhouse:…"; its tool is the part before the colon
	Organization string // the customer's name
	OriginID     string // the customer's id in the vendor's system (default: made from Organization)
	State        string // for EventIntegrationStateChanged
	At           time.Time
}

// IntegrationWebhook returns the body of an integration webhook of type
// eventType (kombo.EventIntegrationCreated, EventIntegrationDeleted or
// EventIntegrationStateChanged) for in, with event id eventID (a new one
// when empty). At stamps deleted_at or updated_at (default: now).
func IntegrationWebhook(eventID, eventType string, in Integration) ([]byte, error) {
	tool, _, _ := strings.Cut(in.ID, ":")
	slug := strings.ToLower(strings.Join(strings.Fields(in.Organization), "-"))
	if in.OriginID == "" {
		in.OriginID = "simulated-" + slug
	}
	if in.At.IsZero() {
		in.At = time.Now()
	}
	endUser := map[string]any{"organization_name": in.Organization, "creator_email": "it@" + slug + ".example", "origin_id": in.OriginID}
	var data map[string]any
	switch eventType {
	case kombo.EventIntegrationCreated:
		data = map[string]any{"id": in.ID, "tool": tool, "category": "ASSESSMENT", "end_user": endUser}
	case kombo.EventIntegrationDeleted:
		data = map[string]any{"id": in.ID, "tool": tool, "category": "ASSESSMENT", "end_user": endUser, "deleted_at": kombo.FormatTime(in.At)}
	case kombo.EventIntegrationStateChanged:
		data = map[string]any{"integration_id": in.ID, "integration_tool": tool, "integration_category": "ASSESSMENT", "end_user": endUser,
			"qa_status": "PASSED", "setup_status": "COMPLETED", "state": in.State, "updated_at": kombo.FormatTime(in.At)}
	default:
		return nil, fmt.Errorf("kombotest: %q is no integration webhook", eventType)
	}
	return Webhook(eventID, eventType, data)
}

// Header returns the headers Kombo sends with a webhook body: its content
// type and its signature under secret.
func Header(secret string, body []byte) http.Header {
	return http.Header{
		"Content-Type":        {"application/json"},
		kombo.SignatureHeader: {kombo.Sign(secret, body)},
	}
}

// Made-up data for orders: plausible, and never a real address (every
// e-mail is at example.com or a .example domain).
var (
	firstNames = []string{"Ada", "Grace", "Linus", "Margaret", "Alan", "Hedy", "Tim", "Barbara", "Dennis", "Radia", "Ken", "Frances", "Jürgen", "Amélie", "Chidi", "Priya", "Mei", "Olusegun", "Sofía", "Mateusz"}
	lastNames  = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Lamarr", "Berners-Lee", "Liskov", "Ritchie", "Perlman", "Thompson", "Allen", "Schmidt", "Dubois", "Okafor", "Sharma", "Chen", "Adeyemi", "García", "Kowalski"}
	jobs       = []struct{ Name, Code, Description string }{
		{"Senior Backend Engineer", "ENG-BE", "<p>Design and run the services behind our product.</p><ul><li>Go or Java</li><li>SQL and queues</li></ul>"},
		{"Frontend Developer", "ENG-FE", "<p>Build fast, accessible interfaces in <b>TypeScript</b> and React.</p>"},
		{"Data Analyst", "DATA-AN", "<p>Turn our data into decisions. SQL, Python and a curious mind.</p>"},
		{"Site Reliability Engineer", "ENG-SRE", "<p>Keep production healthy: observability, incident response, automation.</p>"},
		{"Product Designer", "DES-PD", "<p>Shape how recruiters and candidates use our product.</p>"},
		{"Bottle Opener", "BO", "<p>We are looking for a skilled and energetic individual to join our team. This role requires precision, attention to detail, and the ability to handle a high volume of work in a fast-paced environment. The ideal candidate will ship swiftly and safely while maintaining our standards.</p>"},
	}
	places = []struct{ Street, City, State, Zip, Country, Raw string }{
		{"Lohmühlenstraße 65", "Berlin", "Berlin", "12435", "DE", "Berlin, Germany"},
		{"1 Market St", "San Francisco", "CA", "94105", "US", "San Francisco, CA, USA"},
		{"12 Rue de Rivoli", "Paris", "Île-de-France", "75004", "FR", "Paris, France"},
		{"221B Baker Street", "London", "England", "NW1 6XE", "GB", "London, United Kingdom"},
		{"Herengracht 182", "Amsterdam", "North Holland", "1016 BR", "NL", "Amsterdam, Netherlands"},
	}
)

var asciiLetters = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "é", "e", "è", "e", "á", "a", "í", "i", "ó", "o", "ñ", "n", "ł", "l")

// emailLocal makes a name fit the local part of an address: ASCII letters
// and hyphens, lower case.
func emailLocal(s string) string {
	s = asciiLetters.Replace(strings.ToLower(s))
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c == '-' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
