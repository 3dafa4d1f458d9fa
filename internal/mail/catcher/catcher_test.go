package catcher_test

import (
	"context"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/mail/catcher"
)

func start(t *testing.T) *catcher.Server {
	t.Helper()
	s, err := catcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The mailer assessgate uses (go-mail) sends through the catcher, and the
// catcher reads back what a person would see.
func TestCatcher_Mailer(t *testing.T) {
	s := start(t)
	m, err := mail.New(mail.Config{URL: s.URL(), From: "Acme Assessments <noreply@acme.example>"})
	if err != nil {
		t.Fatal(err)
	}
	d := &mail.Data{FirstName: "Jürgen", JobName: "Bottle Opener", Organization: "Acme Corp", Link: "http://127.0.0.1:1/a/TOKEN",
		ExpiresAt: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)}
	if _, err := m.Send(context.Background(), mail.Invitation, "jurgen@example.com", d); err != nil {
		t.Fatalf("Send = %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d; want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "noreply@acme.example" || len(got.To) != 1 || got.To[0] != "jurgen@example.com" {
		t.Errorf("envelope = %q -> %q", got.From, got.To)
	}
	if got.Subject != "Acme Corp: your assessment for Bottle Opener" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if !strings.Contains(got.Text, "Hello Jürgen,") || !strings.Contains(got.Text, "http://127.0.0.1:1/a/TOKEN") {
		t.Errorf("Text = %q; want the greeting and the link, decoded", got.Text)
	}
	if !strings.Contains(got.HTML, `href="http://127.0.0.1:1/a/TOKEN"`) {
		t.Errorf("HTML = %q; want the link", got.HTML)
	}
}

func TestCatcher_DotStuffingAndEncodedSubject(t *testing.T) {
	s := start(t)
	body := "Subject: =?UTF-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\nline one\r\n.starts with a dot\r\n"
	if err := smtp.SendMail(s.Addr(), nil, "a@example.com", []string{"b@example.com", "c@example.com"}, []byte(body)); err != nil {
		t.Fatalf("SendMail = %v", err)
	}
	m := s.Messages()[0]
	if m.Subject != "Grüße" || m.Text != "line one\n.starts with a dot\n" || len(m.To) != 2 {
		t.Errorf("message = subject %q text %q to %v", m.Subject, m.Text, m.To)
	}
}

func TestCatcher_Protocol(t *testing.T) {
	s := start(t)
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Rcpt("x@example.com"); err == nil {
		t.Error("RCPT before EHLO and MAIL succeeded")
	}
	if err := c.Hello("test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Data(); err == nil {
		t.Error("DATA without recipients succeeded")
	}
	if err := c.Quit(); err != nil {
		t.Errorf("QUIT = %v", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("messages = %d; want 0", n)
	}
}
