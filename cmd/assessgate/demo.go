package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/assessgate/assessgate/client"
	"github.com/assessgate/assessgate/internal/mail/catcher"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// demodata holds the seed order (Kombo's example, as in testdata) and a
// package catalogue.
//
//go:embed demodata/*.json
var demodata embed.FS

// demoOrganization is the customer the demo's integration belongs to, and
// demoTenant its id in the vendor's system (Kombo's end_user.origin_id).
const (
	demoOrganization = "Acme Corp"
	demoTenant       = "acme-1"
)

// runDemo is "assessgate demo": the whole loop on this machine with no
// configuration. It runs the real "serve" (through run, with an
// environment of its own) on a temporary SQLite database, against an
// in-process fake Kombo, an in-process mail catcher and a stand-in for the
// vendor's platform, and walks one order through it: packages pushed, the
// seed order received as a signed webhook, the invitation e-mailed, the
// candidate's link opened, a result posted through the vendor API and
// written back to Kombo. It prints what each side saw. With --serve it keeps
// running for a person to click through the admin pages.
func runDemo(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	f := newEnvFlags("demo", func(string) string { return "" }, stderr)
	serve := f.fs.Bool("serve", false, "keep running after the walk-through, and print the admin pages' address and password")
	addr := f.fs.String("addr", "127.0.0.1:0", "address to listen on (port 0: a free one)")
	verbose := f.fs.Bool("verbose", false, "show assessgate's logs on stderr")
	if err := f.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	d, err := startDemo(ctx, *addr, *verbose, stderr)
	if err != nil {
		return err
	}
	defer d.close()

	out := &demoPrinter{w: stdout}
	out.intro(d)
	if err := d.walk(ctx, out); err != nil {
		d.dumpLogs(stderr)
		return fmt.Errorf("demo: %w", err)
	}
	if !*serve {
		out.printf("\nDone in %.1fs: the order went from Kombo to the candidate and back. Run \"assessgate demo --serve\" to click through the admin pages.\n",
			time.Since(start).Seconds())
		return d.stop()
	}
	out.printf("\nassessgate keeps running (Ctrl-C stops it and deletes everything):\n\n")
	out.printf("  Admin pages   %s/admin/\n", d.baseURL)
	out.printf("  Password      %s\n", d.adminPassword)
	out.printf("  Vendor API    curl -H 'Authorization: Bearer %s' %s/api/v1/orders\n", d.apiToken, d.baseURL)
	out.printf("  More orders   go run ./cmd/assessgate simulate --url %s --secret %s order\n", d.baseURL, d.secret)
	out.printf("  E-mails       kept in memory; the invitation link above works\n")
	<-ctx.Done()
	return d.stop()
}

// demo is everything the demo runs.
type demo struct {
	dir           string
	baseURL       string
	secret        string
	apiToken      string
	adminPassword string
	mail          *catcher.Server
	kombo         *kombotest.Server
	platform      *httptest.Server
	vendorSecret  string
	api           *client.ClientWithResponses
	logs          *lockedBuffer
	cancel        context.CancelFunc
	done          chan error
	stopped       bool

	order kombo.Order
	seed  []byte
}

// startDemo starts the catcher, the fake Kombo, the vendor's platform and
// assessgate, and waits until assessgate answers.
func startDemo(ctx context.Context, addr string, verbose bool, stderr io.Writer) (*demo, error) {
	d := &demo{secret: "demo_" + randomString(18), apiToken: randomString(24), adminPassword: randomString(18), logs: &lockedBuffer{}}
	var err error
	if d.seed, err = demodata.ReadFile("demodata/seed-assessment-order-received.json"); err != nil {
		return nil, err
	}
	var hook struct{ Data kombo.Order }
	if err := json.Unmarshal(d.seed, &hook); err != nil {
		return nil, fmt.Errorf("seed order: %w", err)
	}
	d.order = hook.Data
	if d.dir, err = os.MkdirTemp("", "assessgate-demo-"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	pkgs, err := demodata.ReadFile("demodata/packages.json")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(d.dir, "packages.json"), pkgs, 0o600); err != nil {
		return nil, err
	}
	if d.mail, err = catcher.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start the mail catcher: %w", err)
	}
	d.kombo = kombotest.NewServer()
	d.kombo.AddOrder(d.order.IntegrationID, d.order) // as Kombo has it
	d.vendorSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte(randomString(24)))
	verifier, err := client.NewWebhookVerifier(d.vendorSecret)
	if err != nil {
		return nil, err
	}
	d.platform = httptest.NewServer(vendorPlatform(verifier))

	// The public address must be known before serve starts, for the links
	// in e-mails: pick a free port now.
	if strings.HasSuffix(addr, ":0") {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	d.baseURL = "http://" + addr
	if d.api, err = client.New(d.baseURL, d.apiToken, client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second})); err != nil {
		return nil, err
	}
	env := map[string]string{
		"KOMBO_WEBHOOK_SECRET":             d.secret,
		"ASSESSGATE_API_TOKEN":             d.apiToken,
		"ASSESSGATE_ADMIN_PASSWORD":        d.adminPassword,
		"ASSESSGATE_ADDR":                  addr,
		"ASSESSGATE_DATABASE_URL":          "sqlite:" + filepath.Join(d.dir, "assessgate.db"),
		"ASSESSGATE_PACKAGES_FILE":         filepath.Join(d.dir, "packages.json"),
		"ASSESSGATE_ASSESSMENT_URL":        d.platform.URL + "/start/{package_id}/{order_id}?token={token}",
		"ASSESSGATE_PUBLIC_URL":            d.baseURL,
		"ASSESSGATE_SMTP_URL":              d.mail.URL(),
		"ASSESSGATE_MAIL_FROM":             demoOrganization + " via Acme Assessments <noreply@acme-assess.example>",
		"ASSESSGATE_VENDOR_WEBHOOK_URL":    d.platform.URL + "/webhooks/assessgate",
		"ASSESSGATE_VENDOR_WEBHOOK_SECRET": d.vendorSecret,
		"KOMBO_API_KEY":                    kombotest.DefaultAPIKey,
		"KOMBO_API_URL":                    d.kombo.URL,
		"ASSESSGATE_RECONCILE_INTERVAL":    "0",
		"ASSESSGATE_RETRY_BASE":            "100ms",
		"ASSESSGATE_REPLICA_NAME":          "demo",
	}
	var logs io.Writer = d.logs
	if verbose {
		logs = io.MultiWriter(d.logs, stderr)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel, d.done = cancel, make(chan error, 1)
	pr, pw := io.Pipe()
	go func() {
		err := run(runCtx, []string{"serve"}, func(k string) string { return env[k] }, pw, logs)
		pw.CloseWithError(fmt.Errorf("assessgate stopped: %v", err))
		d.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		d.dumpLogs(stderr)
		return nil, fmt.Errorf("assessgate did not start: %w", err)
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(line, "listening on ") {
		return nil, fmt.Errorf("assessgate said %q", line)
	}
	ok = true
	return d, nil
}

// stop stops assessgate and returns what run returned.
func (d *demo) stop() error {
	if d.stopped || d.cancel == nil {
		return nil
	}
	d.stopped = true
	d.cancel()
	return <-d.done
}

// close stops everything and deletes the temporary files.
func (d *demo) close() {
	d.stop()
	if d.platform != nil {
		d.platform.Close()
	}
	if d.kombo != nil {
		d.kombo.Close()
	}
	if d.mail != nil {
		d.mail.Close()
	}
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

func (d *demo) dumpLogs(w io.Writer) {
	fmt.Fprintf(w, "assessgate's logs:\n%s", d.logs)
}

// vendorPlatform stands in for the vendor's assessment platform: candidate
// links redirect to it, and it takes assessgate's vendor webhooks, verified
// as a vendor does with the public client's WebhookVerifier (401 when not).
func vendorPlatform(verifier *client.WebhookVerifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if _, err := verifier.VerifyRequest(r); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><meta charset="utf-8"><title>Assessment</title>
<body style="font-family:sans-serif;max-width:36em;margin:4em auto"><h1>The assessment would start here</h1>
<p>This page stands in for the vendor's platform, where assessgate sends the candidate.</p></body>`)
	})
}

// walk takes the seed order around the loop, printing each step.
func (d *demo) walk(ctx context.Context, out *demoPrinter) error {
	o := d.order
	integ := o.IntegrationID

	// 1. Kombo announces the integration; assessgate pushes the catalogue.
	created, err := kombotest.IntegrationWebhook("demo-integration-created", kombo.EventIntegrationCreated,
		kombotest.Integration{ID: integ, Organization: demoOrganization, OriginID: demoTenant})
	if err != nil {
		return err
	}
	status, body, err := d.webhook(ctx, created)
	if err != nil {
		return err
	}
	out.step("Kombo → assessgate", "webhook integration-created for %s (%s, tenant %s): %d %s", integ, demoOrganization, demoTenant, status, body)
	if status != http.StatusOK {
		return fmt.Errorf("integration-created answered %d", status)
	}
	if err := demoWait(ctx, "the package push at Kombo", func() bool { return len(d.kombo.Packages(integ)) > 0 }); err != nil {
		return err
	}
	var names []string
	for _, p := range d.kombo.Packages(integ) {
		names = append(names, p.ID)
	}
	out.step("assessgate → Kombo", "PUT /assessment/packages: %s", strings.Join(names, ", "))

	// 2. The recruiter orders an assessment; Kombo sends the signed webhook.
	status, body, err = d.webhook(ctx, d.seed)
	if err != nil {
		return err
	}
	out.step("Kombo → assessgate", "webhook assessment:order-received, order %s, signed with X-Kombo-Signature: %d %s", o.ID, status, body)
	if status != http.StatusOK {
		return fmt.Errorf("the order webhook answered %d", status)
	}
	status, answer, err := d.do(ctx, http.MethodGet, "/api/v1/orders/"+o.ID, nil, http.Header{"Authorization": {"Bearer " + d.apiToken}})
	if err != nil {
		return err
	}
	var stored struct {
		TenantID *string `json:"tenant_id"`
	}
	if status != http.StatusOK || json.Unmarshal(answer, &stored) != nil || stored.TenantID == nil {
		return fmt.Errorf("GET /api/v1/orders/%s answered %d %s; want the order with its tenant", o.ID, status, answer)
	}
	out.step("vendor → assessgate", "GET /api/v1/orders/%s: tenant_id %q, the customer in your system (also in vendor webhooks and ?tenant_id=)", o.ID, *stored.TenantID)

	// 3. The invitation.
	if err := demoWait(ctx, "the invitation e-mail", func() bool { return len(d.mail.Messages()) > 0 }); err != nil {
		return err
	}
	m := d.mail.Messages()[0]
	out.step("assessgate → candidate", "invitation e-mail")
	out.printf("      From:    %s\n      To:      %s\n      Subject: %s\n", m.From, strings.Join(m.To, ", "), m.Subject)
	out.block(m.Text)
	link := ""
	for _, field := range strings.Fields(m.Text) {
		if strings.HasPrefix(field, d.baseURL+"/a/") {
			link = field
		}
	}
	if link == "" {
		return errors.New("the invitation has no candidate link")
	}

	// 4. The candidate opens the link.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(link)
	if err != nil {
		return err
	}
	resp.Body.Close()
	out.step("candidate → assessgate", "opens the link: %d, redirected to the vendor's platform %s", resp.StatusCode, resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound {
		return fmt.Errorf("the candidate link answered %d", resp.StatusCode)
	}

	// 5. The vendor's platform posts the result.
	// Through the client generated from api/openapi.yaml, as a vendor's
	// platform written in Go would.
	score, maxScore, completed := 87.0, 100.0, "COMPLETED"
	put, err := d.api.PutResultWithResponse(ctx, o.ID, client.ResultRequest{
		Status: "COMPLETED", ResultUrl: "https://app.acme-assess.example/results/" + o.ID, Score: &score, MaxScore: &maxScore,
		Attributes: &[]client.Attribute{
			{Type: client.TEXT, Label: new("Recommendation"), Value: new("Strong hire")},
			{Type: client.SUBRESULT, Id: new("async"), Label: new("Async programming"), Score: &client.Score{Value: 44, Max: 50}, Status: &completed},
		},
	})
	if err != nil {
		return err
	}
	out.step("vendor → assessgate", "PUT /api/v1/orders/%s/result (score 87/100): %d", o.ID, put.StatusCode())
	if put.StatusCode() != http.StatusAccepted {
		return fmt.Errorf("the result answered %d %s", put.StatusCode(), put.Body)
	}

	// 6. assessgate writes it back to Kombo.
	var writeback *kombotest.Request
	if err := demoWait(ctx, "the result at Kombo", func() bool {
		for _, r := range d.kombo.Requests() {
			if r.Method == http.MethodPut && r.Path == "/assessment/orders/"+o.ID+"/result" {
				writeback = &r
				return true
			}
		}
		return false
	}); err != nil {
		return err
	}
	out.step("assessgate → Kombo", "the result write-back, as Kombo received it:")
	out.request(writeback)

	// 7. The order's timeline, once Kombo's answer is recorded.
	var view orders.View
	if err := demoWait(ctx, "result.delivered on the timeline", func() bool {
		got, err := d.api.GetOrderWithResponse(ctx, o.ID)
		// The timeline's entries are decoded by kind, for their
		// descriptions, with the domain's types.
		if err != nil || got.StatusCode() != http.StatusOK || json.Unmarshal(got.Body, &view) != nil {
			return false
		}
		delivered, completed := false, false
		for _, e := range view.Timeline {
			delivered = delivered || e.Kind == orders.EventResultDelivered
			data, _ := e.Data()
			sent, ok := data.(orders.VendorWebhookSent)
			completed = completed || ok && sent.Event == "order.completed"
		}
		return delivered && completed
	}); err != nil {
		return err
	}
	out.step("timeline", "order %s is %s, Kombo status %s:", o.ID, view.State, view.Status)
	for _, e := range view.Timeline {
		data, err := e.Data()
		if err != nil {
			return err
		}
		at, _ := time.Parse(time.RFC3339Nano, e.At)
		out.printf("      %s  %-22s %s\n", at.Local().Format("15:04:05.000"), e.Kind, data.Describe())
	}
	return nil
}

// webhook posts body to assessgate signed as Kombo signs it.
func (d *demo) webhook(ctx context.Context, body []byte) (int, string, error) {
	status, b, err := d.do(ctx, http.MethodPost, "/webhooks/kombo", body, kombotest.Header(d.secret, body))
	return status, strings.TrimSpace(string(b)), err
}

func (d *demo) do(ctx context.Context, method, path string, body []byte, headers http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, d.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// demoWait polls cond for up to 20 seconds.
func demoWait(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s after 20s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return nil
}

// demoPrinter writes the demo's story.
type demoPrinter struct {
	w  io.Writer
	mu sync.Mutex
	n  int
}

func (p *demoPrinter) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

func (p *demoPrinter) intro(d *demo) {
	p.printf("assessgate demo: one order around the whole loop, on a temporary SQLite database,\n")
	p.printf("with a fake Kombo, an in-process mail catcher and a stand-in for the vendor's platform.\n")
	p.printf("assessgate (the real \"serve\") listens on %s.\n\n", d.baseURL)
}

// step prints a numbered step: who talks to whom, and what.
func (p *demoPrinter) step(who, format string, args ...any) {
	p.n++
	p.printf("%2d. %-24s %s\n", p.n, who, fmt.Sprintf(format, args...))
}

// block prints text indented between rules.
func (p *demoPrinter) block(text string) {
	p.printf("      ----\n")
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p.printf("      %s\n", l)
	}
	p.printf("      ----\n")
}

// request prints a request Kombo received: method, path, headers (the API
// key hidden) and the body, indented.
func (p *demoPrinter) request(r *kombotest.Request) {
	p.printf("      %s %s\n", r.Method, r.Path)
	var keys []string
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(r.Header[k], ", ")
		switch k {
		case "Authorization":
			v = "Bearer … (the API key, not shown)"
		case "Accept-Encoding", "Content-Length":
			continue
		}
		p.printf("      %s: %s\n", k, v)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, r.Body, "      ", "  ") != nil {
		pretty.Write(r.Body)
	}
	p.printf("\n      %s\n", pretty.String())
}

// randomString returns n random letters and digits.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	s = strings.NewReplacer("-", "x", "_", "y").Replace(s)
	return s[:n]
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
