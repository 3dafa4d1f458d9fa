package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// runMail is "assessgate mail SUBCOMMAND"; its one subcommand is preview.
func runMail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "preview" {
		fmt.Fprintln(stderr, "Usage: assessgate mail preview [--lang L] [--tenant T] [--out DIR] [flags]")
		return errors.New(`"assessgate mail" needs a subcommand: preview`)
	}
	return runMailPreview(ctx, args[1:], getenv, stdout, stderr)
}

// runMailPreview is "assessgate mail preview": it renders every candidate
// e-mail (invitation, reminder) for the seed order (John Doe, "Bottle
// Opener" in Berlin) with the templates serve would use
// (ASSESSGATE_TEMPLATES_DIR) in a language, as a tenant's settings in the
// database make it (--tenant), so that a vendor can check its templates and
// a tenant's branding before they go out. It writes to stdout, or each
// e-mail's headers and text part (KIND.LANG.txt) and HTML part
// (KIND.LANG.html) to --out.
func runMailPreview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newEnvFlags("mail preview", getenv, stderr)
	lang := f.fs.String("lang", "", "language: "+strings.Join(orders.Languages, ", ")+" (default: the tenant's for the sample order, else en)")
	tenant := f.fs.String("tenant", "", "render with this tenant's settings (PUT /api/v1/tenants/{tenant_id}), read from the database")
	out := f.fs.String("out", "", "write the e-mails to files in this directory instead of stdout")
	dbURL := f.String("database-url", "ASSESSGATE_DATABASE_URL", "sqlite:assessgate.db", "database, for --tenant: sqlite:PATH or postgres://…")
	templates := f.String("templates-dir", "ASSESSGATE_TEMPLATES_DIR", "", "directory of e-mail templates replacing the embedded ones of the same name")
	from := f.String("mail-from", "ASSESSGATE_MAIL_FROM", "Assessments <noreply@vendor.example>", "sender of candidate e-mails")
	publicURL := f.String("public-url", "ASSESSGATE_PUBLIC_URL", "https://assess.vendor.example", "assessgate's public address, for the sample link")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *lang != "" {
		if err := orders.CheckLanguage("--lang", *lang); err != nil {
			return err
		}
	}
	sender, err := netmail.ParseAddress(*from)
	if err != nil {
		return fmt.Errorf("ASSESSGATE_MAIL_FROM %q: not an e-mail address: %v", *from, err)
	}
	tmpl, err := mail.LoadTemplates(*templates)
	if err != nil {
		return err
	}
	o, err := sampleOrder()
	if err != nil {
		return err
	}
	organization := "Acme Corp"
	var ts *orders.TenantSettings
	if *tenant != "" {
		if ts, organization, err = tenantForPreview(ctx, *dbURL, *tenant); err != nil {
			return err
		}
	}
	o.Language = *lang // "" leaves it to the tenant
	expires := time.Now().Add(14 * 24 * time.Hour).Truncate(time.Minute)
	link := strings.TrimRight(*publicURL, "/") + "/a/sample-token"
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
	}
	for _, kind := range mail.CandidateKinds {
		msg := jobs.CandidateMessage(kind, o, ts, organization, "TypeScript (60 min)", link, &expires)
		r, err := tmpl.Render(kind, msg.Data)
		if err != nil {
			return err
		}
		head := fmt.Sprintf("From: %s\nTo: %s\n", mail.Sender(sender, msg.Data.Organization), o.Candidate.Email)
		if msg.ReplyTo != "" {
			head += "Reply-To: " + msg.ReplyTo + "\n"
		}
		head += fmt.Sprintf("Subject: %s\nContent-Language: %s\n\n", r.Subject, r.Lang)
		if *out == "" {
			fmt.Fprintf(stdout, "==== %s (%s) ====\n%s%s\n---- HTML ----\n%s\n", kind, r.Lang, head, r.Text, r.HTML)
			continue
		}
		base := filepath.Join(*out, fmt.Sprintf("%s.%s", kind, r.Lang))
		if err := os.WriteFile(base+".txt", []byte(head+r.Text), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(base+".html", []byte(r.HTML), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s.txt and %s.html\n", base, base)
	}
	return nil
}

// sampleOrder is the seed order (Kombo's example), as an order of
// assessgate's.
func sampleOrder() (*orders.Order, error) {
	seed, err := demodata.ReadFile("demodata/seed-assessment-order-received.json")
	if err != nil {
		return nil, err
	}
	var hook struct{ Data kombo.Order }
	if err := json.Unmarshal(seed, &hook); err != nil {
		return nil, fmt.Errorf("seed order: %w", err)
	}
	return &orders.Order{Order: hook.Data}, nil
}

// tenantForPreview reads a tenant's settings and the organisation of its
// first integration (or its id) from the database at dbURL.
func tenantForPreview(ctx context.Context, dbURL, tenant string) (*orders.TenantSettings, string, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	st := store.New(db, store.Config{})
	ts, err := st.FindTenantSettings(ctx, tenant)
	if err != nil {
		return nil, "", fmt.Errorf("--tenant %s: %w", tenant, err)
	}
	organization := tenant
	if list, err := st.ListIntegrations(ctx, store.IntegrationFilter{TenantID: &tenant}); err == nil && len(list) > 0 && list[0].OrganizationName != "" {
		organization = list[0].OrganizationName
	}
	return ts, organization, nil
}
