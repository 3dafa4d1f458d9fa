package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// Parked work: jobs that wait, snoozed in River, for an integration's setup
// or for KOMBO_API_KEY (see orders.Parked). A job parks itself with Park and
// deletes its row with Unpark when it runs to an end; what wakes it is
// ParkedWake (an integration-state-changed webhook, or RefreshIntegration
// after a periodic check) or, for ParkedNoAPIKey, the start of a replica
// with the key.

const parkedColumns = `job_id, kind, integration_id, order_id, code, reason, log_url, parked_at, updated_at`

// Park records that the job p.JobID waits, and returns the row as stored:
// ParkedAt is when the job first parked. The first time a job parks (or
// parks for a new reason), its order, if any, gets WorkParked on its
// timeline.
func (s *Store) Park(ctx context.Context, p *orders.Parked) (*orders.Parked, error) {
	var out *orders.Parked
	err := s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		old, err := scanParked(tx.QueryRowContext(ctx, "SELECT "+parkedColumns+" FROM parked_work WHERE job_id = $1", p.JobID))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read parked work: %w", err)
		}
		now := s.nowMillis()
		parkedAt := now
		if old != nil {
			parkedAt = old.ParkedAt.UnixMilli()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO parked_work (`+parkedColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (job_id) DO UPDATE SET code = excluded.code, reason = excluded.reason,
				log_url = excluded.log_url, updated_at = excluded.updated_at`,
			p.JobID, p.Kind, p.IntegrationID, nullString(p.OrderID), p.Code, p.Reason, p.LogURL, parkedAt, now); err != nil {
			return unavailable(fmt.Errorf("park job: %w", err))
		}
		stored := *p
		stored.ParkedAt, stored.UpdatedAt = fromMillis(parkedAt), fromMillis(now)
		out = &stored
		if p.OrderID != "" && (old == nil || old.Code != p.Code) {
			return s.addEvent(ctx, tx, p.OrderID, orders.WorkParked{Code: p.Code, Job: p.Kind, LogURL: p.LogURL, Reason: p.Reason})
		}
		return nil
	})
	if err != nil {
		// out is not read: fn may still be running if ctx ended first.
		return nil, err
	}
	return out, nil
}

// Unpark deletes the parked row of a job, if it has one.
func (s *Store) Unpark(ctx context.Context, jobID int64) error {
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM parked_work WHERE job_id = $1", jobID); err != nil {
			return unavailable(fmt.Errorf("unpark job: %w", err))
		}
		return nil
	})
}

// ParkedFilter selects parked work; zero fields do not filter.
type ParkedFilter struct {
	OrderIDs      []string
	IntegrationID string
	Kind          string
	// Code is Kombo's code or orders.ParkedNoAPIKey.
	Code string
	// Setup selects the work that waits for an integration's setup (every
	// code but orders.ParkedNoAPIKey).
	Setup bool
	// Limit caps the list; zero: no cap.
	Limit int
}

// ParkedWork returns the parked work f selects, oldest first.
func (s *Store) ParkedWork(ctx context.Context, f ParkedFilter) ([]*orders.Parked, error) {
	return s.parkedWork(ctx, s.db.Reader, f)
}

func (s *Store) parkedWork(ctx context.Context, q querier, f ParkedFilter) ([]*orders.Parked, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if len(f.OrderIDs) > 0 {
		marks := make([]string, len(f.OrderIDs))
		for i, id := range f.OrderIDs {
			marks[i] = arg(id)
		}
		where = append(where, "order_id IN ("+strings.Join(marks, ", ")+")")
	}
	if f.IntegrationID != "" {
		where = append(where, "integration_id = "+arg(f.IntegrationID))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.Code != "" {
		where = append(where, "code = "+arg(f.Code))
	}
	if f.Setup {
		where = append(where, "code <> "+arg(orders.ParkedNoAPIKey))
	}
	query := "SELECT " + parkedColumns + " FROM parked_work"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY parked_at, job_id"
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("find parked work: %w", err))
	}
	defer rows.Close()
	var list []*orders.Parked
	for rows.Next() {
		p, err := scanParked(rows)
		if err != nil {
			return nil, fmt.Errorf("find parked work: %w", err)
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

// ParkedWriteback returns the parked write-back of each of the orders that
// have one, by order id.
func (s *Store) ParkedWriteback(ctx context.Context, orderIDs ...string) (map[string]*orders.Parked, error) {
	out := map[string]*orders.Parked{}
	if len(orderIDs) == 0 {
		return out, nil
	}
	list, err := s.ParkedWork(ctx, ParkedFilter{OrderIDs: orderIDs, Kind: "writeback"})
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		out[p.OrderID] = p
	}
	return out, nil
}

// ParkedCounts returns how much work is parked, by kind.
func (s *Store) ParkedCounts(ctx context.Context) (map[string]int, error) {
	return s.parkedCounts(ctx, "kind")
}

// ParkedCountsByIntegration returns how much work is parked, by
// integration id: the integrations page's "parked work".
func (s *Store) ParkedCountsByIntegration(ctx context.Context) (map[string]int, error) {
	return s.parkedCounts(ctx, "integration_id")
}

// parkedCounts counts parked work by column (a constant of this file).
func (s *Store) parkedCounts(ctx context.Context, column string) (map[string]int, error) {
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT "+column+", count(*) FROM parked_work GROUP BY "+column)
	if err != nil {
		return nil, unavailable(fmt.Errorf("count parked work: %w", err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			key string
			n   int
		)
		if err := rows.Scan(&key, &n); err != nil {
			return nil, err
		}
		out[key] = n
	}
	return out, rows.Err()
}

func scanParked(row scanner) (*orders.Parked, error) {
	var (
		p                 orders.Parked
		orderID           sql.NullString
		parked, updatedAt int64
	)
	if err := row.Scan(&p.JobID, &p.Kind, &p.IntegrationID, &orderID, &p.Code, &p.Reason, &p.LogURL, &parked, &updatedAt); err != nil {
		return nil, err
	}
	p.OrderID, p.ParkedAt, p.UpdatedAt = orderID.String, fromMillis(parked), fromMillis(updatedAt)
	return &p, nil
}

// Usable reports whether Kombo takes writes for an integration in state
// and setup status: it is active and its setup is complete (an empty setup
// status is taken for complete: webhooks before setup statuses had none).
func Usable(state, setupStatus string) bool {
	return state == kombo.IntegrationStateActive && (setupStatus == "" || setupStatus == "COMPLETED")
}

// integrationUsable emits ParkedWake, in tx, with the jobs parked
// for the integration's setup, if i is usable (or deleted) and any are.
func (s *Store) integrationUsable(ctx context.Context, tx *sql.Tx, i *orders.Integration) error {
	if !Usable(i.State, i.SetupStatus) && i.State != orders.IntegrationDeleted {
		return nil
	}
	parked, err := s.parkedWork(ctx, tx, ParkedFilter{IntegrationID: i.ID, Setup: i.State != orders.IntegrationDeleted})
	if err != nil || len(parked) == 0 {
		return err
	}
	ids := make([]int64, len(parked))
	for n, p := range parked {
		ids[n] = p.JobID
	}
	return s.happened(ctx, tx, ParkedWake{IntegrationID: i.ID, JobIDs: ids})
}

// integrationFromKombo is what GET /integrations/{id} says of one.
func integrationFromKombo(k *kombo.Integration) *orders.Integration {
	return &orders.Integration{
		ID: k.ID, Tool: k.Tool.ID, Category: k.Category, OrganizationName: k.EndUser.OrganizationName,
		OriginID: k.EndUser.OriginID, State: k.Status, SetupStatus: k.SetupStatus,
	}
}

// RefreshIntegration stores what Kombo's GET /integrations/{id} says of an
// integration, and, if it is usable now, emits ParkedWake with the
// jobs parked for its setup, which wakes them.
func (s *Store) RefreshIntegration(ctx context.Context, k *kombo.Integration) error {
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		i := integrationFromKombo(k)
		if err := s.upsertIntegration(ctx, tx, i); err != nil {
			return err
		}
		return s.integrationUsable(ctx, tx, i)
	})
}

// DiscoverIntegration stores an integration assessgate first heard of from
// an order (its integration-created webhook was missed), as Kombo's GET
// /integrations/{id} describes it, with its tenant (end_user.origin_id),
// and emits IntegrationCreated, which pushes it its packages.
func (s *Store) DiscoverIntegration(ctx context.Context, k *kombo.Integration) error {
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.upsertIntegration(ctx, tx, integrationFromKombo(k)); err != nil {
			return err
		}
		return s.happened(ctx, tx, IntegrationCreated{IntegrationID: k.ID})
	})
}
