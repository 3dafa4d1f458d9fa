package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// candidatesConfig is the configuration of the candidate side of "serve":
// e-mail, links, reminders, expiry and vendor webhooks.
type candidatesConfig struct {
	SMTPURL             string
	MailFrom            string
	TemplatesDir        string
	PublicURL           string
	ReminderAfter       time.Duration
	InviteTTL           time.Duration
	ExpiryWriteback     bool
	VendorWebhookURL    string
	VendorWebhookSecret string
}

// defineCandidatesFlags defines the flags of the candidate side; the
// function it returns gives the configuration once f is parsed.
func defineCandidatesFlags(f *envFlags) func() (*candidatesConfig, error) {
	smtpURL := f.String("smtp-url", "ASSESSGATE_SMTP_URL", "", "SMTP server for candidate e-mails: smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (implicit TLS); unset: the vendor's platform invites")
	from := f.String("mail-from", "ASSESSGATE_MAIL_FROM", "", `sender of candidate e-mails, e.g. "Acme Assessments <noreply@acme.example>"`)
	templates := f.String("templates-dir", "ASSESSGATE_TEMPLATES_DIR", "", "directory of e-mail templates replacing the embedded ones of the same name")
	publicURL := f.String("public-url", "ASSESSGATE_PUBLIC_URL", "", "assessgate's public address; candidate links are PUBLIC_URL/a/TOKEN")
	remindAfter := f.Duration("reminder-after", "ASSESSGATE_REMINDER_AFTER", 48*time.Hour, "remind a candidate who has not opened the link after this long; 0: never")
	ttl := f.Duration("invite-ttl", "ASSESSGATE_INVITE_TTL", 14*24*time.Hour, "an invitation expires after this long; 0: never")
	writeback := f.Bool("expiry-writeback", "ASSESSGATE_EXPIRY_WRITEBACK", true, "write an expired order back to Kombo as CANCELLED")
	vendorURL := f.String("vendor-webhook-url", "ASSESSGATE_VENDOR_WEBHOOK_URL", "", "URL of the vendor's platform that receives order events (Standard Webhooks)")
	vendorSecret := f.String("vendor-webhook-secret", "ASSESSGATE_VENDOR_WEBHOOK_SECRET", "", `secret that signs vendor webhooks: "whsec_" + base64, or any string`)
	return func() (*candidatesConfig, error) {
		c := &candidatesConfig{
			SMTPURL: *smtpURL, MailFrom: *from, TemplatesDir: *templates, PublicURL: *publicURL,
			ReminderAfter: *remindAfter, InviteTTL: *ttl, ExpiryWriteback: *writeback,
			VendorWebhookURL: *vendorURL, VendorWebhookSecret: *vendorSecret,
		}
		if c.PublicURL != "" {
			u, err := url.Parse(c.PublicURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("ASSESSGATE_PUBLIC_URL %q: want an absolute http(s) URL such as https://assess.vendor.example", c.PublicURL)
			}
		}
		if c.SMTPURL != "" {
			if c.MailFrom == "" {
				return nil, errors.New("ASSESSGATE_SMTP_URL is set but ASSESSGATE_MAIL_FROM is not: set the sender of candidate e-mails")
			}
			if c.PublicURL == "" {
				return nil, errors.New("ASSESSGATE_SMTP_URL is set but ASSESSGATE_PUBLIC_URL is not: candidate links need assessgate's public address")
			}
		}
		return c, nil
	}
}

// newCandidates builds the candidate side: the mailer (when SMTP is set),
// the vendor webhooks (when their URL is set) and what the jobs share.
func newCandidates(cfg *candidatesConfig, st *store.Store, catalogue *orders.Catalogue, logger *slog.Logger) (*jobs.Candidates, error) {
	vendor, err := jobs.NewVendor(st, logger, cfg.VendorWebhookURL, cfg.VendorWebhookSecret)
	if err != nil {
		return nil, err
	}
	c := &jobs.Candidates{
		Store: st, Logger: logger, Catalogue: catalogue, PublicURL: cfg.PublicURL,
		InviteTTL: cfg.InviteTTL, ReminderAfter: cfg.ReminderAfter, ExpiryWriteback: cfg.ExpiryWriteback,
		Vendor: vendor,
		// EnqueueResult is set by the results write-back; until then an
		// expired order is recorded as not written back.
	}
	if cfg.SMTPURL == "" {
		logger.Warn("ASSESSGATE_SMTP_URL is not set: invitations are not e-mailed; the vendor's platform is expected to invite candidates")
	} else {
		m, err := mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.MailFrom, TemplatesDir: cfg.TemplatesDir})
		if err != nil {
			return nil, err
		}
		c.Mailer = m
		logger.Info("invitations are e-mailed", "smtp", m.Server, "reminder_after", formatDuration(cfg.ReminderAfter),
			"invite_ttl", formatDuration(cfg.InviteTTL), "templates_dir", cfg.TemplatesDir)
	}
	if vendor.Enabled() {
		u, _ := url.Parse(cfg.VendorWebhookURL)
		logger.Info("vendor webhooks are sent", "host", u.Host)
	} else {
		logger.Info("ASSESSGATE_VENDOR_WEBHOOK_URL is not set: no vendor webhooks")
	}
	if !cfg.ExpiryWriteback {
		logger.Info("expired orders are not written back to Kombo (ASSESSGATE_EXPIRY_WRITEBACK=false)")
	}
	return c, nil
}

// clockKey is the context key of a clock that replaces the wall clock.
type clockKey struct{}

// clockFrom returns the clock tests put in run's context, or nil for the
// wall clock. Production never sets one.
func clockFrom(ctx context.Context) rivertype.TimeGenerator {
	clk, _ := ctx.Value(clockKey{}).(rivertype.TimeGenerator)
	return clk
}
