package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// orderColumns ends with the order's tenant, read through its integration
// (NULL until the integration is known).
const orderColumns = `id, integration_id, package_id, status, state, source, event_id, data,
	created_at, updated_at, invited_at, started_at, expires_at, closed_at, erased_at, language,
	(SELECT origin_id FROM integrations WHERE integrations.id = orders.integration_id)`

// FindOrderByID returns an order with its timeline, or an ENOTFOUND error.
func (s *Store) FindOrderByID(ctx context.Context, id string) (*orders.Order, error) {
	o, err := s.findOrder(ctx, s.db.Reader, id)
	if err != nil {
		return nil, err
	}
	if o.Timeline, err = s.findEvents(ctx, s.db.Reader, id); err != nil {
		return nil, err
	}
	return o, nil
}

// FindOrdersByIDs returns the orders of ids that exist, without their
// timelines, in one query, in no particular order.
func (s *Store) FindOrdersByIDs(ctx context.Context, ids []string) ([]*orders.Order, error) {
	return s.findOrders(ctx, s.db.Reader, ids)
}

// findOrders returns the orders of ids that exist, without their timelines,
// in one query per eraseChunk ids, in no particular order.
func (s *Store) findOrders(ctx context.Context, q querier, ids []string) ([]*orders.Order, error) {
	var out []*orders.Order
	for chunk := range slices.Chunk(ids, eraseChunk) {
		marks, args := inList(chunk, 1)
		rows, err := q.QueryContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE id IN ("+marks+")", args...)
		if err != nil {
			return nil, fmt.Errorf("find orders: %w", err)
		}
		found, err := s.scanOrders(rows)
		if err != nil {
			return nil, fmt.Errorf("find orders: %w", err)
		}
		out = append(out, found...)
	}
	return out, nil
}

// ExistingOrderIDs returns those of ids that are orders, in one query.
func (s *Store) ExistingOrderIDs(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	marks, args := inList(ids, 1)
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT id FROM orders WHERE id IN ("+marks+") ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("find orders: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find orders: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FindOrderByIDTx returns an order, without its timeline, inside tx.
func (s *Store) FindOrderByIDTx(ctx context.Context, tx *sql.Tx, id string) (*orders.Order, error) {
	return s.findOrder(ctx, tx, id)
}

func (s *Store) findOrder(ctx context.Context, q querier, id string) (*orders.Order, error) {
	o, err := s.scanOrder(q.QueryRowContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.Errorf(orders.ENOTFOUND, "order %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find order: %w", err)
	}
	return o, nil
}

// FindOrders returns a page of orders matching filter, newest first, and the
// cursor of the next page ("" on the last page). It returns an EINVALID error
// for a malformed cursor.
func (s *Store) FindOrders(ctx context.Context, f orders.OrderFilter) ([]*orders.Order, string, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Status != nil {
		add("status = ?", strings.ToUpper(string(*f.Status)))
	}
	if f.State != nil {
		add("state = ?", string(*f.State))
	}
	if f.IntegrationID != nil {
		add("integration_id = ?", *f.IntegrationID)
	}
	if f.PackageID != nil {
		add("package_id = ?", *f.PackageID)
	}
	if f.TenantID != nil {
		add("integration_id IN (SELECT id FROM integrations WHERE origin_id = ?)", *f.TenantID)
	}
	if f.Email != nil {
		// Every stored form of the address: hashed under each key, or in
		// clear in rows written without one. An empty address matches no
		// order, not the erased ones, whose email is empty.
		if lookups := s.keys.EmailLookups(*f.Email); len(lookups) > 0 {
			cond, emailArgs := emailIn(lookups, len(args)+1)
			args = append(args, emailArgs...)
			where = append(where, cond)
		} else {
			where = append(where, "1 = 0")
		}
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, at, id)
		n := len(args)
		where = append(where, fmt.Sprintf("(created_at < $%d OR (created_at = $%d AND id < $%d))", n-1, n-1, n))
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	query := "SELECT " + orderColumns + " FROM orders"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	// One more than asked tells whether there is a next page.
	query += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", limit+1)

	rows, err := s.db.Reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("find orders: %w", err)
	}
	list, err := s.scanOrders(rows)
	if err != nil {
		return nil, "", fmt.Errorf("find orders: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = encodeCursor(last.CreatedAt.UnixMilli(), last.ID)
	}
	return list, next, nil
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if at, id, ok := strings.Cut(string(b), ":"); ok {
			if n, err := strconv.ParseInt(at, 10, 64); err == nil && id != "" {
				return n, id, nil
			}
		}
	}
	return 0, "", orders.Errorf(orders.EINVALID, "cursor %q is not one this API returned", c)
}

// scanOrders reads rows of orderColumns, and closes them.
func (s *Store) scanOrders(rows *sql.Rows) ([]*orders.Order, error) {
	defer rows.Close()
	var list []*orders.Order
	for rows.Next() {
		o, err := s.scanOrder(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, o)
	}
	return list, rows.Err()
}

// scanOrder reads a row of orderColumns, opening its sealed data.
func (s *Store) scanOrder(row scanner) (*orders.Order, error) {
	var (
		o                                         orders.Order
		status, state, source, stored             string
		eventID                                   sql.NullString
		created, updated                          int64
		invited, started, expires, closed, erased sql.NullInt64
		integrationID, packageID                  string
		tenantID, language                        sql.NullString
	)
	if err := row.Scan(&o.ID, &integrationID, &packageID, &status, &state, &source, &eventID, &stored,
		&created, &updated, &invited, &started, &expires, &closed, &erased, &language, &tenantID); err != nil {
		return nil, err
	}
	data, err := s.openOrderData(o.ID, stored)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &o.Order); err != nil {
		return nil, fmt.Errorf("decode order %s: %w", o.ID, err)
	}
	// The columns are the truth: Kombo's status changes after intake.
	o.IntegrationID, o.PackageID, o.Status = integrationID, packageID, kombo.OrderStatus(status)
	o.State, o.Source, o.EventID = orders.State(state), orders.Source(source), eventID.String
	o.CreatedAt, o.UpdatedAt = fromMillis(created), fromMillis(updated)
	o.InvitedAt, o.StartedAt = fromNullMillis(invited), fromNullMillis(started)
	o.ExpiresAt, o.ClosedAt = fromNullMillis(expires), fromNullMillis(closed)
	o.ErasedAt = fromNullMillis(erased)
	if tenantID.Valid {
		o.TenantID = &tenantID.String
	}
	o.Language = language.String
	return &o, nil
}
