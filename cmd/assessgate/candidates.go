package main

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/server"
)

// defineCandidatesFlags defines the flags of the candidate side; the
// function it returns gives the configuration once f is parsed.
func defineCandidatesFlags(f *envFlags) func() (*assessgate.CandidatesConfig, error) {
	smtpURL := f.String("smtp-url", "ASSESSGATE_SMTP_URL", "", "SMTP server for candidate e-mails: smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (implicit TLS); unset: the vendor's platform invites")
	from := f.String("mail-from", "ASSESSGATE_MAIL_FROM", "", `sender of candidate e-mails, e.g. "Acme Assessments <noreply@acme.example>"`)
	templates := f.String("templates-dir", "ASSESSGATE_TEMPLATES_DIR", "", "directory of e-mail templates replacing the embedded ones of the same name")
	publicURL := f.String("public-url", "ASSESSGATE_PUBLIC_URL", "", "assessgate's public address; candidate links are PUBLIC_URL/a/TOKEN")
	remindAfter := f.Duration("reminder-after", "ASSESSGATE_REMINDER_AFTER", 48*time.Hour, "remind a candidate who has not opened the link after this long; 0: never")
	ttl := f.Duration("invite-ttl", "ASSESSGATE_INVITE_TTL", 14*24*time.Hour, "an invitation expires after this long; 0: never")
	writeback := f.Bool("expiry-writeback", "ASSESSGATE_EXPIRY_WRITEBACK", true, "write an expired order back to Kombo as CANCELLED")
	relinkEmail := f.Bool("relink-email", "ASSESSGATE_RELINK_EMAIL", false, "e-mail an integration's reconnection link to the person who connected it (Kombo's creator_email) when it turns INVALID; needs SMTP")
	vendorURL := f.String("vendor-webhook-url", "ASSESSGATE_VENDOR_WEBHOOK_URL", "", "URL of the vendor's platform that receives order events (Standard Webhooks)")
	vendorSecret := f.String("vendor-webhook-secret", "ASSESSGATE_VENDOR_WEBHOOK_SECRET", "", `secret that signs vendor webhooks: "whsec_" + base64, or any string`)
	notice := f.Bool("candidate-notice", "ASSESSGATE_CANDIDATE_NOTICE", false, "show candidates, before the assessment, who processes their data and the vendor's privacy policy (needs ASSESSGATE_PRIVACY_URL)")
	privacyURL := f.String("privacy-url", "ASSESSGATE_PRIVACY_URL", "", "the vendor's privacy policy, linked from the candidate notice")
	vendorName := f.String("vendor-name", "ASSESSGATE_VENDOR_NAME", "", "the vendor's name in the candidate notice (default: the name of ASSESSGATE_MAIL_FROM)")
	return func() (*assessgate.CandidatesConfig, error) {
		c := &assessgate.CandidatesConfig{
			SMTPURL: *smtpURL, MailFrom: *from, TemplatesDir: *templates, PublicURL: *publicURL,
			ReminderAfter: *remindAfter, InviteTTL: *ttl, ExpiryWriteback: *writeback,
			VendorWebhookURL: *vendorURL, VendorWebhookSecret: *vendorSecret, RelinkEmail: *relinkEmail,
		}
		if *notice {
			n, err := candidateNotice(*privacyURL, *vendorName, c.MailFrom)
			if err != nil {
				return nil, err
			}
			c.Notice = n
		}
		if c.RelinkEmail && c.SMTPURL == "" {
			return nil, errors.New("ASSESSGATE_RELINK_EMAIL is on but ASSESSGATE_SMTP_URL is not set: reconnection links cannot be e-mailed")
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

// candidateNotice checks the settings of the candidate notice.
func candidateNotice(privacyURL, vendorName, mailFrom string) (*server.Notice, error) {
	if u, err := url.Parse(privacyURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("ASSESSGATE_CANDIDATE_NOTICE is on: ASSESSGATE_PRIVACY_URL %q must be the https address of the vendor's privacy policy", privacyURL)
	}
	if vendorName == "" {
		if a, err := netmail.ParseAddress(mailFrom); err == nil {
			vendorName = a.Name
		}
	}
	if vendorName = strings.TrimSpace(vendorName); vendorName == "" {
		return nil, errors.New("ASSESSGATE_CANDIDATE_NOTICE is on but the vendor has no name: set ASSESSGATE_VENDOR_NAME (or a name in ASSESSGATE_MAIL_FROM)")
	}
	return &server.Notice{Processor: vendorName, PrivacyURL: privacyURL}, nil
}
