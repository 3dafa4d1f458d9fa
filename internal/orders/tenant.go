package orders

import (
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Languages are the languages candidates are written to in, those Kombo
// Connect itself offers; the first is the fallback.
var Languages = []string{"en", "de", "fr", "es", "it"}

// DefaultLanguage is the language of a tenant that chose none.
const DefaultLanguage = "en"

// ValidLanguage reports whether lang is one of Languages.
func ValidLanguage(lang string) bool { return slices.Contains(Languages, lang) }

// CheckLanguage returns an EINVALID error naming field unless lang is one
// of Languages.
func CheckLanguage(field, lang string) error {
	if ValidLanguage(lang) {
		return nil
	}
	return Errorf(EINVALID, "%s %q: want one of %s", field, lang, strings.Join(Languages, ", "))
}

// The reply-to policies of a tenant.
const (
	// ReplyToNone: candidates' e-mails have no Reply-To; a reply goes to
	// the vendor's sender address.
	ReplyToNone = "none"
	// ReplyToRecruiter: a reply goes to the job's recruiter, the first
	// member of the hiring team with the role RECRUITER and an address.
	ReplyToRecruiter = "recruiter"
)

// TenantSettings are how a tenant (a customer of the vendor) wants its
// candidates written to: in which language, in whose name, with which
// branding. The zero value is a tenant that set nothing: English, in the
// integration's organisation's name, no Reply-To.
type TenantSettings struct {
	TenantID string `json:"tenant_id"`
	// Language is the tenant's language (one of Languages); "" is English.
	Language string `json:"language"`
	// LanguageByCountry, when true, picks the language from the country of
	// the job's location (see LanguageOf), falling back to Language.
	LanguageByCountry bool `json:"language_by_country"`
	// DisplayName names the hiring company in e-mails instead of the
	// integration's organisation name.
	DisplayName string `json:"display_name"`
	// LogoURL is an https image shown at the top of e-mails.
	LogoURL string `json:"logo_url"`
	// AccentColor, "#rrggbb", colours the e-mails' button.
	AccentColor string `json:"accent_color"`
	// ReplyTo is ReplyToNone or ReplyToRecruiter.
	ReplyTo   string     `json:"reply_to"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

var accentColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate fills in the defaults of s and returns an EINVALID error naming
// the first field that is wrong.
func (s *TenantSettings) Validate() error {
	s.DisplayName = strings.TrimSpace(s.DisplayName)
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if err := CheckLanguage("language", s.Language); err != nil {
		return err
	}
	if len(s.DisplayName) > 200 || strings.ContainsFunc(s.DisplayName, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return Errorf(EINVALID, "display_name: at most 200 characters, on one line")
	}
	if s.LogoURL != "" {
		u, err := url.Parse(s.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(s.LogoURL) > 2000 {
			return Errorf(EINVALID, "logo_url %q: want an https URL", s.LogoURL)
		}
	}
	if s.AccentColor != "" && !accentColor.MatchString(s.AccentColor) {
		return Errorf(EINVALID, "accent_color %q: want #rrggbb", s.AccentColor)
	}
	s.AccentColor = strings.ToLower(s.AccentColor)
	switch s.ReplyTo {
	case "":
		s.ReplyTo = ReplyToNone
	case ReplyToNone, ReplyToRecruiter:
	default:
		return Errorf(EINVALID, "reply_to %q: want %q or %q", s.ReplyTo, ReplyToNone, ReplyToRecruiter)
	}
	return nil
}

// countryLanguages maps ISO 3166 alpha-2 countries to the one of Languages
// their candidates most likely read; countries not listed get the tenant's
// language. Countries of several languages (Belgium, Switzerland) are left
// to the tenant.
var countryLanguages = map[string]string{
	"DE": "de", "AT": "de", "LI": "de",
	"FR": "fr", "LU": "fr", "MC": "fr",
	"ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es", "UY": "es",
	"IT": "it", "SM": "it", "VA": "it",
	"GB": "en", "IE": "en", "US": "en", "CA": "en", "AU": "en", "NZ": "en",
}

// countryNames are the raw country values Kombo passes on when it cannot
// map them to a code, lower case.
var countryNames = map[string]string{
	"germany": "DE", "deutschland": "DE", "austria": "AT", "österreich": "AT",
	"france": "FR", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT",
	"united kingdom": "GB", "ireland": "IE", "united states": "US", "usa": "US",
}

// LanguageOf returns the language to write to the candidate of o in: the
// order's own (a re-invitation's choice), else, when the tenant opted in,
// the language of the job's country, else the tenant's, else English.
// s may be nil (a tenant that set nothing).
func (s *TenantSettings) LanguageOf(o *Order) string {
	if ValidLanguage(o.Language) {
		return o.Language
	}
	if s == nil {
		return DefaultLanguage
	}
	if s.LanguageByCountry && o.Job.Location != nil && o.Job.Location.Country != nil {
		c := strings.TrimSpace(*o.Job.Location.Country)
		if code, ok := countryNames[strings.ToLower(c)]; ok {
			c = code
		}
		if lang, ok := countryLanguages[strings.ToUpper(c)]; ok {
			return lang
		}
	}
	if ValidLanguage(s.Language) {
		return s.Language
	}
	return DefaultLanguage
}

// Company is the name the candidate's e-mails give the hiring company: the
// tenant's display name, else the integration's organisation (organization,
// may be ""). s may be nil.
func (s *TenantSettings) Company(organization string) string {
	if s != nil && s.DisplayName != "" {
		return s.DisplayName
	}
	return organization
}

// ReplyToOf returns the address a candidate's reply to an e-mail about o
// goes to, or "" for none: the job's recruiter's, when the tenant allows it.
func (s *TenantSettings) ReplyToOf(o *Order) string {
	if s == nil || s.ReplyTo != ReplyToRecruiter {
		return ""
	}
	for _, m := range o.Job.HiringTeam {
		if m.Email == nil || !slices.Contains(m.HiringTeamRoles, "RECRUITER") {
			continue
		}
		if a, err := mail.ParseAddress(*m.Email); err == nil {
			return a.Address
		}
	}
	return ""
}
