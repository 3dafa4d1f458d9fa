package jobs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// TestLanguagesAgree: the languages a tenant may choose are those the
// e-mails are written in.
func TestLanguagesAgree(t *testing.T) {
	if !slices.Equal(orders.Languages, mail.Languages) || orders.DefaultLanguage != mail.Languages[0] {
		t.Errorf("orders.Languages %v, mail.Languages %v; want the same, English first", orders.Languages, mail.Languages)
	}
}

// TestCandidateMessage: an order's e-mail follows its tenant's settings:
// the language (the order's own first, then the job's country when the
// tenant opted in, then the tenant's), the company's name, the branding and
// the recruiter as Reply-To; its key stays the same until the order is
// invited again.
func TestCandidateMessage(t *testing.T) {
	de, recruiter := "DE", "jane@acme.example"
	o := &orders.Order{Order: kombo.Order{ID: "o-1", Candidate: kombo.Candidate{Email: "john@example.com"}}}
	o.Job.Location = &kombo.Location{Country: &de}
	o.Job.HiringTeam = []kombo.HiringTeamMember{{Email: new("hm@acme.example"), HiringTeamRoles: []string{"HIRING_MANAGER"}},
		{Email: &recruiter, HiringTeamRoles: []string{"RECRUITER"}}}
	expires := time.Date(2026, 12, 10, 9, 30, 0, 0, time.UTC)

	m := jobs.CandidateMessage(mail.Invitation, o, nil, "Acme GmbH", "Go (90 min)", "https://a.example/a/t", &expires)
	if m.Data.Lang != "en" || m.Data.Organization != "Acme GmbH" || m.ReplyTo != "" || m.To != "john@example.com" ||
		m.Data.PackageName != "Go (90 min)" || !m.Data.ExpiresAt.Equal(expires) {
		t.Errorf("without settings: %+v %+v; want English, the organisation, no Reply-To", m, m.Data)
	}
	ts := &orders.TenantSettings{TenantID: "acme", Language: "fr", LanguageByCountry: true, DisplayName: "Acme Corp",
		LogoURL: "https://cdn.acme.example/l.png", AccentColor: "#0b6e4f", ReplyTo: orders.ReplyToRecruiter}
	m = jobs.CandidateMessage(mail.Reminder, o, ts, "Acme GmbH", "", "https://a.example/a/t", nil)
	if m.Data.Lang != "de" || m.Data.Organization != "Acme Corp" || m.ReplyTo != recruiter || m.Data.AccentColor != "#0b6e4f" ||
		m.Data.LogoURL != ts.LogoURL {
		t.Errorf("with settings: %+v %+v; want German (Berlin), Acme Corp, the recruiter", m, m.Data)
	}
	ts.LanguageByCountry = false
	if m = jobs.CandidateMessage(mail.Reminder, o, ts, "", "", "x", nil); m.Data.Lang != "fr" {
		t.Errorf("not by country: %s; want the tenant's fr", m.Data.Lang)
	}
	o.Language = "it"
	if m = jobs.CandidateMessage(mail.Reminder, o, ts, "", "", "x", nil); m.Data.Lang != "it" {
		t.Errorf("re-invited in it: %s; want it", m.Data.Lang)
	}

	first := jobs.CandidateMessage(mail.Invitation, o, ts, "", "", "link-1", nil).Key
	if again := jobs.CandidateMessage(mail.Invitation, o, ts, "", "", "link-2", nil).Key; again != first {
		t.Errorf("keys of a retry: %q, %q; want the same", first, again)
	}
	invited := time.Now()
	o.InvitedAt = &invited
	if next := jobs.CandidateMessage(mail.Invitation, o, ts, "", "", "link-3", nil).Key; next == first {
		t.Errorf("the key of a re-invitation is the first's (%q)", first)
	}
	if r := jobs.CandidateMessage(mail.Reminder, o, ts, "", "", "x", nil).Key; r == first {
		t.Errorf("a reminder has an invitation's key")
	}
}
