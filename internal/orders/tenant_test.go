package orders

import (
	"testing"

	"github.com/assessgate/assessgate/kombo"
)

// TestLanguageOf: by the job's country (a code, or the raw name Kombo
// passes on when it cannot map one) when the tenant opted in, else the
// tenant's language, else English; the order's own first.
func TestLanguageOf(t *testing.T) {
	byCountry := &TenantSettings{Language: "es", LanguageByCountry: true}
	for _, tt := range []struct {
		ts      *TenantSettings
		country string // "" : no location
		own     string
		want    string
	}{
		{nil, "DE", "", "en"},
		{byCountry, "DE", "", "de"},
		{byCountry, "at", "", "de"},
		{byCountry, " Italia ", "", "it"},
		{byCountry, "Germany", "", "de"},
		{byCountry, "CH", "", "es"}, // several languages: the tenant's
		{byCountry, "", "", "es"},
		{byCountry, "FR", "it", "it"},
		{&TenantSettings{Language: "fr"}, "DE", "", "fr"},
		{&TenantSettings{}, "DE", "", "en"},
	} {
		o := &Order{Language: tt.own}
		if tt.country != "" {
			o.Job.Location = &kombo.Location{Country: &tt.country}
		}
		if got := tt.ts.LanguageOf(o); got != tt.want {
			t.Errorf("LanguageOf(%+v, country %q, own %q) = %s; want %s", tt.ts, tt.country, tt.own, got, tt.want)
		}
	}
}
