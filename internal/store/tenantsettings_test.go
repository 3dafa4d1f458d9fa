package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// TestStore_TenantSettings: a tenant's settings are stored, replaced and
// read back; a tenant known by an integration that set none gets the
// defaults, one known by neither is not found; bad settings are refused
// naming the field; an order reads its tenant's.
func TestStore_TenantSettings(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.FindTenantSettings(ctx, "acme"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("settings of an unknown tenant: %v; want ENOTFOUND", err)
		}
		if err := st.ConnectIntegration(ctx, &orders.Integration{ID: "personio:acme", Tool: "personio", OrganizationName: "Acme GmbH",
			OriginID: new("acme"), State: kombo.IntegrationStateActive}); err != nil {
			t.Fatal(err)
		}
		ts, err := st.FindTenantSettings(ctx, "acme")
		if err != nil || ts.Language != "en" || ts.ReplyTo != orders.ReplyToNone || ts.UpdatedAt != nil {
			t.Errorf("defaults = %+v, %v; want English, no reply-to, never updated", ts, err)
		}
		mustIntake(t, st, orderIntake(t, "ev-1", "o-1", func(o *kombo.Order) { o.IntegrationID = "personio:acme" }))
		o, err := st.FindOrderByID(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := st.TenantSettingsOf(ctx, o); got != nil || err != nil {
			t.Errorf("TenantSettingsOf before any = %+v, %v; want nil", got, err)
		}

		for field, bad := range map[string]orders.TenantSettings{
			"language":     {Language: "pt"},
			"accent_color": {AccentColor: "blue"},
			"logo_url":     {LogoURL: "http://acme.example/logo.png"},
			"reply_to":     {ReplyTo: "everyone"},
			"display_name": {DisplayName: "Acme\r\nBcc: x@example.com"},
		} {
			bad.TenantID = "acme"
			if _, err := st.PutTenantSettings(ctx, bad); orders.ErrorCode(err) != orders.EINVALID || !strings.Contains(err.Error(), field) {
				t.Errorf("PutTenantSettings(bad %s) = %v; want EINVALID naming it", field, err)
			}
		}

		want := orders.TenantSettings{TenantID: "acme", Language: "de", LanguageByCountry: true, DisplayName: "Acme Corp",
			LogoURL: "https://cdn.acme.example/logo.png", AccentColor: "#0B6E4F", ReplyTo: orders.ReplyToRecruiter}
		got, err := st.PutTenantSettings(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		want.AccentColor = "#0b6e4f"
		if got.UpdatedAt == nil || !got.UpdatedAt.Equal(st.Now().Truncate(time.Millisecond)) {
			t.Errorf("updated_at = %v; want now", got.UpdatedAt)
		}
		got.UpdatedAt = nil
		if *got != want {
			t.Errorf("stored %+v; want %+v", *got, want)
		}
		if of, err := st.TenantSettingsOf(ctx, o); err != nil || of == nil || of.DisplayName != "Acme Corp" {
			t.Errorf("TenantSettingsOf = %+v, %v", of, err)
		}
		// PUT replaces: what is left out takes its default.
		if got, err = st.PutTenantSettings(ctx, orders.TenantSettings{TenantID: "acme", Language: "fr"}); err != nil ||
			got.DisplayName != "" || got.LanguageByCountry || got.ReplyTo != orders.ReplyToNone {
			t.Errorf("replaced = %+v, %v; want French and nothing else", got, err)
		}
		// Settings may come before the tenant's first integration.
		if _, err := st.PutTenantSettings(ctx, orders.TenantSettings{TenantID: "globex", Language: "it"}); err != nil {
			t.Fatal(err)
		}
		list, err := st.ListTenantSettings(ctx)
		if err != nil || len(list) != 2 || list[0].TenantID != "acme" || list[1].Language != "it" {
			t.Errorf("ListTenantSettings = %+v, %v", list, err)
		}
	})
}

// TestStore_RequestInviteIn: a re-invitation in a language sets the
// order's language, which the order keeps; a language not offered is
// refused and changes nothing.
func TestStore_RequestInviteIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		onEvent(st, func(context.Context, *sql.Tx, store.InvitationRequested) error { return nil })
		mustIntake(t, st, orderIntake(t, "ev-1", "o-1", nil))
		if _, err := st.RequestInviteIn(ctx, "o-1", "pt"); orders.ErrorCode(err) != orders.EINVALID || !strings.Contains(err.Error(), "language") {
			t.Errorf("RequestInviteIn(pt) = %v; want EINVALID naming language", err)
		}
		if o, err := st.RequestInviteIn(ctx, "o-1", "es"); err != nil || o.Language != "es" {
			t.Fatalf("RequestInviteIn(es) = %+v, %v", o, err)
		}
		if _, err := st.RequestInvite(ctx, "o-1"); err != nil {
			t.Fatal(err)
		}
		o, err := st.FindOrderByID(ctx, "o-1")
		if err != nil || o.Language != "es" {
			t.Fatalf("order after a re-invitation in es, then one without a language: %+v, %v; want es", o, err)
		}
		var inLanguage int
		for _, e := range o.Timeline {
			if r, ok := e.Data.(orders.InviteRequested); ok && r.Language == "es" {
				inLanguage++
			}
		}
		if inLanguage != 1 {
			t.Errorf("timeline has %d requests in es; want 1", inLanguage)
		}
	})
}
