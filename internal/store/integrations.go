package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
)

const integrationColumns = `id, tool, category, organization_name, origin_id, state, setup_status, qa_status,
	created_at, updated_at, deleted_at, packages_hash, packages_pushed_at, push_warnings, push_error, creator_email,
	relink_url, relink_at`

// upsertIntegration records what a webhook says of an integration. Empty
// fields of i leave the stored ones as they are, and a deleted integration
// stays deleted.
func (s *Store) upsertIntegration(ctx context.Context, tx *sql.Tx, i *orders.Integration) error {
	now := s.nowMillis()
	_, err := tx.ExecContext(ctx, `INSERT INTO integrations
		(id, tool, category, organization_name, origin_id, state, setup_status, qa_status, created_at, updated_at, deleted_at, creator_email)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET
			tool = CASE WHEN excluded.tool = '' THEN integrations.tool ELSE excluded.tool END,
			category = CASE WHEN excluded.category = '' THEN integrations.category ELSE excluded.category END,
			organization_name = CASE WHEN excluded.organization_name = '' THEN integrations.organization_name ELSE excluded.organization_name END,
			origin_id = COALESCE(excluded.origin_id, integrations.origin_id),
			state = CASE WHEN integrations.state = 'DELETED' THEN integrations.state ELSE excluded.state END,
			setup_status = CASE WHEN excluded.setup_status = '' THEN integrations.setup_status ELSE excluded.setup_status END,
			qa_status = CASE WHEN excluded.qa_status = '' THEN integrations.qa_status ELSE excluded.qa_status END,
			updated_at = excluded.updated_at,
			deleted_at = COALESCE(integrations.deleted_at, excluded.deleted_at),
			creator_email = COALESCE(excluded.creator_email, integrations.creator_email)`,
		i.ID, i.Tool, i.Category, i.OrganizationName, i.OriginID, i.State, i.SetupStatus, i.QAStatus,
		now, toNullMillis(i.DeletedAt), i.CreatorEmail)
	if err != nil {
		return unavailable(fmt.Errorf("upsert integration: %w", err))
	}
	return nil
}

// FindIntegrationByID returns an integration, or an ENOTFOUND error.
func (s *Store) FindIntegrationByID(ctx context.Context, id string) (*orders.Integration, error) {
	return s.findIntegration(ctx, s.db.Reader, id)
}

// FindIntegrations returns every known integration, oldest first.
func (s *Store) FindIntegrations(ctx context.Context) ([]*orders.Integration, error) {
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT "+integrationColumns+" FROM integrations ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("find integrations: %w", err)
	}
	defer rows.Close()
	var list []*orders.Integration
	for rows.Next() {
		i, err := scanIntegration(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, i)
	}
	return list, rows.Err()
}

// ConnectIntegration stores an integration a customer has just connected
// through Kombo Connect (its tenant is i.OriginID) and, in the same
// transaction, emits IntegrationCreated, so that its tenant's packages are
// pushed at once. Connecting an integration again updates it and pushes
// again; a deleted one stays deleted.
func (s *Store) ConnectIntegration(ctx context.Context, i *orders.Integration) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.upsertIntegration(ctx, tx, i); err != nil {
			return err
		}
		return s.happened(ctx, tx, IntegrationCreated{IntegrationID: i.ID})
	})
}

// RecordRelink keeps a reconnection link made for an integration, to show
// while it is INVALID.
func (s *Store) RecordRelink(ctx context.Context, id, link string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE integrations SET relink_url = $1, relink_at = $2 WHERE id = $3", link, s.nowMillis(), id)
		if err != nil {
			return unavailable(fmt.Errorf("record relink: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return orders.Errorf(orders.ENOTFOUND, "integration %q not found", id)
		}
		return nil
	})
}

// IntegrationFilter selects integrations in ListIntegrations. Nil fields do
// not filter.
type IntegrationFilter struct {
	ID       *string
	TenantID *string
	State    *string
}

// ListIntegrations returns the integrations that match f, grouped by
// tenant (those without one last), oldest first within a tenant, each with
// its open orders (Kombo status OPEN) and the time of its last order.
func (s *Store) ListIntegrations(ctx context.Context, f IntegrationFilter) ([]*orders.Integration, error) {
	var (
		where []string
		args  []any
	)
	if f.ID != nil {
		args = append(args, *f.ID)
		where = append(where, fmt.Sprintf("id = $%d", len(args)))
	}
	if f.TenantID != nil {
		args = append(args, *f.TenantID)
		where = append(where, fmt.Sprintf("origin_id = $%d", len(args)))
	}
	if f.State != nil {
		args = append(args, *f.State)
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	query := "SELECT " + integrationColumns + `,
		(SELECT count(*) FROM orders WHERE orders.integration_id = integrations.id AND orders.status = 'OPEN'),
		(SELECT max(created_at) FROM orders WHERE orders.integration_id = integrations.id)
		FROM integrations`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY origin_id IS NULL, origin_id, created_at, id"
	rows, err := s.db.Reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rows.Close()
	var list []*orders.Integration
	for rows.Next() {
		var (
			open int
			last sql.NullInt64
		)
		i, err := scanIntegration(rows, &open, &last)
		if err != nil {
			return nil, fmt.Errorf("list integrations: %w", err)
		}
		i.OpenOrders, i.LastOrderAt = open, fromNullMillis(last)
		list = append(list, i)
	}
	return list, rows.Err()
}

func (s *Store) findIntegration(ctx context.Context, q querier, id string) (*orders.Integration, error) {
	i, err := scanIntegration(q.QueryRowContext(ctx, "SELECT "+integrationColumns+" FROM integrations WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.Errorf(orders.ENOTFOUND, "integration %q not found", id)
	}
	return i, err
}

type scanner interface{ Scan(dest ...any) error }

// scanIntegration reads a row of integrationColumns, followed by the
// columns of more, if any.
func scanIntegration(row scanner, more ...any) (*orders.Integration, error) {
	var (
		i                                 orders.Integration
		originID, hash, warnings, pushErr sql.NullString
		creatorEmail, relinkURL           sql.NullString
		relinkAt                          sql.NullInt64
		created, updated                  int64
		deleted, pushed                   sql.NullInt64
	)
	cols := []any{&i.ID, &i.Tool, &i.Category, &i.OrganizationName, &originID, &i.State, &i.SetupStatus,
		&i.QAStatus, &created, &updated, &deleted, &hash, &pushed, &warnings, &pushErr, &creatorEmail,
		&relinkURL, &relinkAt}
	if err := row.Scan(append(cols, more...)...); err != nil {
		return nil, err
	}
	if originID.Valid {
		i.OriginID = &originID.String
	}
	if creatorEmail.Valid {
		i.CreatorEmail = &creatorEmail.String
	}
	i.RelinkURL, i.RelinkAt = relinkURL.String, fromNullMillis(relinkAt)
	i.CreatedAt, i.UpdatedAt, i.DeletedAt = fromMillis(created), fromMillis(updated), fromNullMillis(deleted)
	i.PackagesHash, i.PackagesPushedAt, i.PushError = hash.String, fromNullMillis(pushed), pushErr.String
	if warnings.Valid {
		if err := json.Unmarshal([]byte(warnings.String), &i.PushWarnings); err != nil {
			return nil, fmt.Errorf("decode push warnings of %s: %w", i.ID, err)
		}
	}
	return &i, nil
}
