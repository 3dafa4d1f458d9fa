package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/assessgate/assessgate/internal/orders"
)

// Tenant settings (tenant_settings, migration 0012): how a tenant wants its
// candidates written to. They hold no personal data.

const tenantSettingsColumns = `tenant_id, language, language_by_country, display_name, logo_url, accent_color, reply_to, updated_at`

// PutTenantSettings stores the settings of ts.TenantID, replacing any, and
// returns them as stored. ts must have been validated
// (orders.TenantSettings.Validate).
func (s *Store) PutTenantSettings(ctx context.Context, ts orders.TenantSettings) (*orders.TenantSettings, error) {
	if ts.TenantID == "" {
		return nil, orders.Errorf(orders.EINVALID, "tenant_id is empty")
	}
	if err := ts.Validate(); err != nil {
		return nil, err
	}
	now := s.Now()
	byCountry := 0
	if ts.LanguageByCountry {
		byCountry = 1
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_settings (`+tenantSettingsColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (tenant_id) DO UPDATE SET language = excluded.language,
				language_by_country = excluded.language_by_country, display_name = excluded.display_name,
				logo_url = excluded.logo_url, accent_color = excluded.accent_color,
				reply_to = excluded.reply_to, updated_at = excluded.updated_at`,
			ts.TenantID, ts.Language, byCountry, ts.DisplayName, ts.LogoURL, ts.AccentColor, ts.ReplyTo, now.UnixMilli())
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindTenantSettings(ctx, ts.TenantID)
}

// FindTenantSettings returns the settings of a tenant. A tenant that set
// none but has an integration gets the defaults (UpdatedAt nil); one with
// neither is ENOTFOUND.
func (s *Store) FindTenantSettings(ctx context.Context, tenantID string) (*orders.TenantSettings, error) {
	ts, err := s.tenantSettings(ctx, tenantID)
	if !errors.Is(err, sql.ErrNoRows) {
		return ts, err
	}
	var one int
	err = s.db.Reader.QueryRowContext(ctx, `SELECT 1 FROM integrations WHERE origin_id = $1 LIMIT 1`, tenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.Errorf(orders.ENOTFOUND, "tenant %s not found: no integration has it as end_user.origin_id, and it has no settings", tenantID)
	}
	if err != nil {
		return nil, err
	}
	return &orders.TenantSettings{TenantID: tenantID, Language: orders.DefaultLanguage, ReplyTo: orders.ReplyToNone}, nil
}

// ListTenantSettings returns the settings of every tenant that has some,
// by tenant id.
func (s *Store) ListTenantSettings(ctx context.Context) ([]*orders.TenantSettings, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+tenantSettingsColumns+` FROM tenant_settings ORDER BY tenant_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*orders.TenantSettings
	for rows.Next() {
		ts, err := scanTenantSettings(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, ts)
	}
	return list, rows.Err()
}

// TenantSettingsOf returns the settings of the tenant of o, or nil when it
// has none (or no tenant yet): the defaults.
func (s *Store) TenantSettingsOf(ctx context.Context, o *orders.Order) (*orders.TenantSettings, error) {
	if o.TenantID == nil {
		return nil, nil
	}
	ts, err := s.tenantSettings(ctx, *o.TenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return ts, err
}

// tenantSettings reads the row of a tenant; sql.ErrNoRows when it has none.
func (s *Store) tenantSettings(ctx context.Context, tenantID string) (*orders.TenantSettings, error) {
	return scanTenantSettings(s.db.Reader.QueryRowContext(ctx,
		`SELECT `+tenantSettingsColumns+` FROM tenant_settings WHERE tenant_id = $1`, tenantID))
}

func scanTenantSettings(row scanner) (*orders.TenantSettings, error) {
	var (
		ts        orders.TenantSettings
		byCountry int
		updated   int64
	)
	if err := row.Scan(&ts.TenantID, &ts.Language, &byCountry, &ts.DisplayName, &ts.LogoURL, &ts.AccentColor,
		&ts.ReplyTo, &updated); err != nil {
		return nil, err
	}
	ts.LanguageByCountry = byCountry != 0
	at := fromMillis(updated)
	ts.UpdatedAt = &at
	return &ts, nil
}
