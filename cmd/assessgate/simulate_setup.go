package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assessgate/assessgate/client"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

const setupPendingUsage = `Usage: assessgate simulate setup-pending [flags]

Plays Kombo for a write-back while the customer has not finished setting up
the integration. It serves a fake Kombo on --kombo-addr, which answers the
write-back 409 INTEGRATION.SETUP_INCOMPLETE, sends assessgate an order from
that integration, waits for the result (posted by you, or by this command
with --api-token), then, after --setup-for, completes the setup and sends
integration-state-changed (ACTIVE): the parked write-back goes through.

Start assessgate first with Kombo's address set to the fake's:

  KOMBO_API_URL=http://127.0.0.1:8091 KOMBO_API_KEY=` + kombotest.DefaultAPIKey + ` assessgate serve …

Flags:
`

// runSimulateSetupPending is "assessgate simulate setup-pending".
func runSimulateSetupPending(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newEnvFlags("simulate setup-pending", getenv, stderr)
	target := f.fs.String("url", "http://localhost:8080", "assessgate's address")
	secrets := f.String("secret", "KOMBO_WEBHOOK_SECRET", "", "the webhook secret assessgate checks (the first, if several)")
	token := f.String("api-token", "ASSESSGATE_API_TOKEN", "", "if set, post the order's result through assessgate's API; else wait for your platform to")
	komboAddr := f.fs.String("kombo-addr", "127.0.0.1:8091", "where to serve the fake Kombo (assessgate's KOMBO_API_URL)")
	integrationID := f.fs.String("integration-id", "greenhouse:SimulatedSetupPending0001", "the integration whose setup is pending")
	packageID := f.fs.String("package-id", "typescript_test", "the package ordered (must be in assessgate's catalogue, if it has one)")
	setupFor := f.fs.Duration("setup-for", 30*time.Second, "how long after the refused write-back the customer completes the setup")
	timeout := f.fs.Duration("timeout", 5*time.Minute, "give up if the result has not reached the fake Kombo by then")
	f.fs.Usage = func() {
		fmt.Fprint(stderr, setupPendingUsage)
		f.fs.PrintDefaults()
	}
	if err := f.Parse(args); err != nil {
		return err
	}
	hookURL, secret, err := simulateTarget(*target, *secrets)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	fake := kombotest.NewServer()
	defer fake.Close()
	ln, err := net.Listen("tcp", *komboAddr)
	if err != nil {
		return fmt.Errorf("simulate: --kombo-addr %s: %w", *komboAddr, err)
	}
	srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(stdout, "fake Kombo on http://%s (assessgate needs KOMBO_API_URL=http://%s KOMBO_API_KEY=%s)\n",
		ln.Addr(), ln.Addr(), kombotest.DefaultAPIKey)

	integ := *integrationID
	fake.SetSetupStatus(integ, kombotest.SetupIncomplete)
	o := kombotest.Order(kombotest.WithIntegration(integ), kombotest.WithPackage(*packageID))
	fake.AddOrder(integ, o)
	body, err := kombotest.Webhook("", kombo.EventOrderReceived, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n1. The customer's setup of %s is INCOMPLETE. An order arrives:\n", integ)
	if _, err := sendWebhook(ctx, hookURL, secret, kombo.EventOrderReceived, "order "+o.ID, body, stdout); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\n2. A result for order %s", o.ID)
	if *token != "" {
		fmt.Fprintln(stdout, ", posted through the API:")
		if err := putSimulatedResult(ctx, hookURL, *token, o.ID, stdout); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, ": post it from your platform (PUT /api/v1/orders/%s/result); waiting…\n", o.ID)
	}
	if err := waitFor(ctx, func() bool { return len(resultPuts(fake, o.ID)) > 0 }); err != nil {
		return fmt.Errorf("simulate: no write-back reached the fake Kombo: %w", err)
	}
	fmt.Fprintf(stdout, "\n3. Kombo answered the write-back 409 %s. assessgate parks it, neither retrying nor\n"+
		"   dead-lettering it: GET /api/v1/orders/%s shows \"writeback\": {\"status\": \"parked\", …},\n"+
		"   the admin overview lists it, /metrics counts it in assessgate_parked_work{kind=\"writeback\"}.\n",
		kombo.CodeSetupIncomplete, o.ID)

	fmt.Fprintf(stdout, "\n4. In %s the customer completes the setup.\n", *setupFor)
	select {
	case <-time.After(*setupFor):
	case <-ctx.Done():
		return ctx.Err()
	}
	fake.SetSetupStatus(integ, kombotest.SetupCompleted)
	body, err = kombotest.IntegrationWebhook("", kombo.EventIntegrationStateChanged,
		kombotest.Integration{ID: integ, Organization: "Acme Corp", State: kombo.IntegrationStateActive})
	if err != nil {
		return err
	}
	if _, err := sendWebhook(ctx, hookURL, secret, kombo.EventIntegrationStateChanged, "integration "+integ+" is ACTIVE, setup COMPLETED", body, stdout); err != nil {
		return err
	}
	if err := waitFor(ctx, func() bool { return len(fake.Results(o.ID)) > 0 }); err != nil {
		return fmt.Errorf("simulate: the parked write-back did not reach the fake Kombo: %w", err)
	}
	fmt.Fprintf(stdout, "\n5. The parked write-back was delivered: Kombo has order %s as %s, after %d write-back requests.\n",
		o.ID, fake.Results(o.ID)[0].Status, len(resultPuts(fake, o.ID)))
	return nil
}

// putSimulatedResult posts a COMPLETED result for an order through
// assessgate's API, with the client generated from api/openapi.yaml.
func putSimulatedResult(ctx context.Context, hookURL, token, orderID string, stdout io.Writer) error {
	u, _ := url.Parse(hookURL)
	u.Path = ""
	api, err := client.New(u.String(), token, client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	if err != nil {
		return err
	}
	at := kombo.FormatTime(time.Now())
	score := 87.0
	resp, err := api.PutResultWithResponse(ctx, orderID, client.ResultRequest{Status: string(kombo.OrderStatusCompleted), Score: &score,
		ResultUrl: "https://vendor.example/reports/" + url.PathEscape(orderID), CompletedAt: &at})
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	fmt.Fprintf(stdout, "PUT %s\n%s\n", resp.HTTPResponse.Request.URL, resp.HTTPResponse.Status)
	if resp.StatusCode() != http.StatusAccepted {
		return fmt.Errorf("simulate: assessgate answered the result %s: %s", resp.HTTPResponse.Status, strings.TrimSpace(string(resp.Body)))
	}
	return nil
}

// resultPuts returns the result write-backs the fake received for an order.
func resultPuts(fake *kombotest.Server, orderID string) []kombotest.Request {
	var out []kombotest.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPut && r.Path == "/assessment/orders/"+orderID+"/result" {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
