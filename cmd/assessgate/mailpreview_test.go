package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// TestMailPreview: "assessgate mail preview" renders every candidate e-mail
// for the seed order in the language asked, or a tenant's from the
// database, in its name and branding, to stdout or a directory; it refuses
// a language it does not have and a tenant it does not know.
func TestMailPreview(t *testing.T) {
	ctx := context.Background()
	preview := func(t *testing.T, env map[string]string, args ...string) (string, error) {
		t.Helper()
		var out, errOut strings.Builder
		err := run(ctx, append([]string{"mail", "preview"}, args...), func(k string) string { return env[k] }, &out, &errOut)
		return out.String(), err
	}

	t.Run("EveryLanguage", func(t *testing.T) {
		for _, lang := range orders.Languages {
			out, err := preview(t, nil, "--lang", lang)
			if err != nil {
				t.Fatalf("preview --lang %s: %v", lang, err)
			}
			for _, kind := range []string{"invitation", "reminder"} {
				if !strings.Contains(out, "==== "+kind+" ("+lang+") ====") {
					t.Errorf("--lang %s: no %s in %s", lang, kind, lang)
				}
			}
			if !strings.Contains(out, `<html lang="`+lang+`">`) || !strings.Contains(out, "Bottle Opener") ||
				!strings.Contains(out, "From: \"Acme Corp via Assessments\" <noreply@vendor.example>") {
				t.Errorf("--lang %s:\n%s", lang, out)
			}
		}
		if _, err := preview(t, nil, "--lang", "pt"); err == nil || !strings.Contains(err.Error(), "--lang") {
			t.Errorf("preview --lang pt = %v; want an error naming --lang", err)
		}
	})

	t.Run("Tenant", func(t *testing.T) {
		forEachDatabase(t, func(t *testing.T, dbURL string) {
			db, err := store.Open(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			st := store.New(db, store.Config{})
			if err := st.ConnectIntegration(ctx, &orders.Integration{ID: "personio:acme", Tool: "personio", OrganizationName: "Acme GmbH",
				OriginID: new("acme"), State: kombo.IntegrationStateActive}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutTenantSettings(ctx, orders.TenantSettings{TenantID: "acme", Language: "fr", LanguageByCountry: true,
				AccentColor: "#0b6e4f", ReplyTo: orders.ReplyToRecruiter}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			env := map[string]string{"ASSESSGATE_DATABASE_URL": dbURL, "ASSESSGATE_MAIL_FROM": "Vendor <noreply@vendor.example>"}

			// The job is in Berlin and the tenant chooses by country: German.
			dir := t.TempDir()
			if _, err := preview(t, env, "--tenant", "acme", "--out", dir); err != nil {
				t.Fatal(err)
			}
			for _, kind := range []string{"invitation", "reminder"} {
				text, err := os.ReadFile(filepath.Join(dir, kind+".de.txt"))
				if err != nil {
					t.Fatal(err)
				}
				html, err := os.ReadFile(filepath.Join(dir, kind+".de.html"))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"From: \"Acme GmbH via Vendor\" <noreply@vendor.example>", "Reply-To: jane.doe@gmail.com",
					"Content-Language: de", "Guten Tag John Doe,", "Bottle Opener"} {
					if !strings.Contains(string(text), want) {
						t.Errorf("%s.de.txt does not contain %q:\n%s", kind, want, text)
					}
				}
				if !strings.Contains(string(html), "#0b6e4f") {
					t.Errorf("%s.de.html without the tenant's accent colour", kind)
				}
			}
			// --lang wins over the tenant's choice.
			if out, err := preview(t, env, "--tenant", "acme", "--lang", "es"); err != nil || !strings.Contains(out, "Hola John Doe:") {
				t.Errorf("preview --tenant acme --lang es = %v:\n%s", err, out)
			}
			if _, err := preview(t, env, "--tenant", "nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
				t.Errorf("preview --tenant nobody = %v; want an error naming it", err)
			}
		})
	})
}
