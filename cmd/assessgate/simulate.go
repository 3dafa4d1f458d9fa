package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
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
  integration-created        a customer (--tenant) connected an ATS
  integration-deleted        a customer disconnected it
  integration-state-changed  the integration's state changed (--state)
  setup-pending              a write-back while the integration's setup is
                             pending: serves a fake Kombo (--kombo-addr) that
                             answers 409 INTEGRATION.SETUP_INCOMPLETE until the
                             integration becomes active (see "simulate
                             setup-pending -h")

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
	if i := slices.Index(args, "setup-pending"); i >= 0 {
		return runSimulateSetupPending(ctx, slices.Delete(slices.Clone(args), i, i+1), getenv, stdout, stderr)
	}
	f := newEnvFlags("simulate", getenv, stderr)
	target := f.fs.String("url", "http://localhost:8080", "assessgate's address, or the full webhook URL")
	secrets := f.String("secret", "KOMBO_WEBHOOK_SECRET", "", "the webhook secret assessgate checks (the first, if several)")
	file := f.fs.String("file", "", "JSON file with the order: a webhook body or the order alone")
	integrationID := f.fs.String("integration-id", "greenhouse:SimulatedAcmeCorp000000001", "the integration the event belongs to")
	packageID := f.fs.String("package-id", "typescript_test", "the package ordered (must be in assessgate's catalogue, if it has one)")
	email := f.fs.String("email", "", "the candidate's e-mail (default: made up, at example.com)")
	org := f.fs.String("organization", "Acme Corp", "the customer's organisation, for integration events")
	tenant := f.fs.String("tenant", "", "the customer's id in your system (Kombo's end_user.origin_id), for integration events; orders of the integration then carry it as tenant_id (default: made from --organization)")
	state := f.fs.String("state", kombo.IntegrationStateActive, "the new state, for integration-state-changed: ACTIVE, INVALID or INACTIVE")
	f.fs.Usage = func() {
		fmt.Fprint(stderr, simulateUsage)
		f.fs.PrintDefaults()
	}
	// The event may come before or after the flags.
	if err := f.parseFlags(args); err != nil {
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
	webhookURL, secret, err := simulateTarget(*target, *secrets)
	if err != nil {
		return err
	}

	var body []byte
	var what string
	switch typ {
	case kombo.EventOrderReceived, kombo.EventInlineOrderReceived:
		var o kombo.Order
		if *file != "" {
			if o, err = readOrderFile(*file); err != nil {
				return err
			}
		} else {
			o = kombotest.Order(kombotest.WithIntegration(*integrationID), kombotest.WithPackage(*packageID))
		}
		if *email != "" {
			o.Candidate.Email = *email
		}
		body, err = kombotest.Webhook("", typ, o)
		what = fmt.Sprintf("order %s for %s <%s>, %s", o.ID, candidateLabel(o.Candidate), o.Candidate.Email, deref(o.Job.Name))
	default:
		st := strings.ToUpper(*state)
		switch typ {
		case kombo.EventIntegrationDeleted:
			what = fmt.Sprintf("integration %s (%s) deleted", *integrationID, *org)
		case kombo.EventIntegrationStateChanged:
			switch st {
			case kombo.IntegrationStateActive, kombo.IntegrationStateInvalid, kombo.IntegrationStateInactive:
			default:
				return fmt.Errorf("simulate: --state %q: want ACTIVE, INVALID or INACTIVE", *state)
			}
			what = fmt.Sprintf("integration %s (%s) is now %s", *integrationID, *org, st)
		default:
			tool, _, _ := strings.Cut(*integrationID, ":")
			what = fmt.Sprintf("integration %s (%s, %s) created", *integrationID, *org, tool)
		}
		if *tenant != "" {
			what += ", tenant " + *tenant
		}
		body, err = kombotest.IntegrationWebhook("", typ, kombotest.Integration{ID: *integrationID, Organization: *org, OriginID: *tenant, State: st})
	}
	if err != nil {
		return err
	}
	answer, err := sendWebhook(ctx, webhookURL, secret, typ, what, body, stdout)
	if err != nil {
		return err
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

// sendWebhook posts a webhook body of type typ, signed with secret, prints
// what it sends and the answer, and returns the answer; an answer other
// than 2xx is an error.
func sendWebhook(ctx context.Context, webhookURL, secret, typ, what string, body []byte, stdout io.Writer) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = kombotest.Header(secret, body)
	fmt.Fprintf(stdout, "POST %s\n  %s: %s\n", webhookURL, typ, what)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(stdout, "%s\n%s\n", resp.Status, strings.TrimSpace(string(answer)))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("simulate: assessgate answered %s", resp.Status)
	}
	return answer, nil
}

// simulateTarget returns the webhook URL of assessgate's address target and
// the secret to sign with: the first of secrets.
func simulateTarget(target, secrets string) (hookURL, secret string, err error) {
	if list := splitList(secrets); len(list) > 0 {
		secret = list[0]
	}
	if secret == "" {
		return "", "", errors.New("simulate: no secret: set --secret or KOMBO_WEBHOOK_SECRET to the secret assessgate checks")
	}
	hookURL, err = webhookURL(target)
	return hookURL, secret, err
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
func readOrderFile(path string) (kombo.Order, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return kombo.Order{}, fmt.Errorf("simulate: %w", err)
	}
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &envelope); err != nil {
		return kombo.Order{}, fmt.Errorf("simulate: %s is not JSON: %v", path, err)
	}
	if len(envelope.Data) > 0 {
		b = envelope.Data
	}
	var o kombo.Order
	if err := json.Unmarshal(b, &o); err != nil || o.ID == "" {
		return kombo.Order{}, fmt.Errorf("simulate: %s holds no order (want a webhook body or an order with an id)", path)
	}
	return o, nil
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
