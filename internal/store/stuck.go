package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
)

// The stuck list: orders Kombo holds OPEN that assessgate refused (the
// webhook intake's 422) or that the reconciler found and could not take,
// each with its reason, first and last seen. An order leaves it when a
// person closes it at Kombo (CloseStuck), when assessgate holds it after
// all (a retry, a redelivery), or when the reconciler finds Kombo no longer
// lists it OPEN (Kombo took the 422 as a rejection). The table holds ids and
// reasons only, never personal data.

// StuckOrder is an order on the stuck list.
type StuckOrder struct {
	OrderID       string    `json:"order_id"`
	IntegrationID string    `json:"integration_id"`
	Reason        string    `json:"reason"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
}

// How an order left the stuck list (stuck_orders.closed_how).
const (
	StuckCancelled  = "cancelled at Kombo"
	StuckNotOpen    = "no longer open at Kombo"
	stuckListLimit  = 1000
	stuckOpenFilter = `closed_at IS NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = stuck_orders.order_id)`
)

// RecordStuck puts an order on the stuck list with reason, or, if it is
// there, updates its reason and last seen (and reopens it if it was
// closed).
func (s *Store) RecordStuck(ctx context.Context, orderID, integrationID, reason string) error {
	now := s.nowMillis()
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO stuck_orders (order_id, integration_id, reason, first_seen, last_seen)
			VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (order_id) DO UPDATE SET integration_id = excluded.integration_id, reason = excluded.reason,
				last_seen = excluded.last_seen, closed_at = NULL, closed_how = ''`,
			orderID, integrationID, reason, now)
		if err != nil {
			return unavailable(fmt.Errorf("record stuck order: %w", err))
		}
		return nil
	})
}

// StuckOrders returns the stuck list, oldest first: orders on it, not
// closed, that assessgate does not hold.
func (s *Store) StuckOrders(ctx context.Context) ([]StuckOrder, error) {
	return s.stuckOrders(ctx, `SELECT order_id, integration_id, reason, first_seen, last_seen FROM stuck_orders
		WHERE `+stuckOpenFilter+` ORDER BY first_seen, order_id LIMIT `+fmt.Sprint(stuckListLimit))
}

// FindStuckOrder returns an order of the stuck list, or an ENOTFOUND error
// if it is not on it.
func (s *Store) FindStuckOrder(ctx context.Context, orderID string) (*StuckOrder, error) {
	list, err := s.stuckOrders(ctx, `SELECT order_id, integration_id, reason, first_seen, last_seen FROM stuck_orders
		WHERE order_id = $1 AND `+stuckOpenFilter, orderID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, orders.Errorf(orders.ENOTFOUND, "order %q is not on the stuck list", orderID)
	}
	return &list[0], nil
}

func (s *Store) stuckOrders(ctx context.Context, query string, args ...any) ([]StuckOrder, error) {
	rows, err := s.db.Reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	list := []StuckOrder{}
	for rows.Next() {
		var o StuckOrder
		var first, last int64
		if err := rows.Scan(&o.OrderID, &o.IntegrationID, &o.Reason, &first, &last); err != nil {
			return nil, err
		}
		o.FirstSeen, o.LastSeen = fromMillis(first), fromMillis(last)
		list = append(list, o)
	}
	return list, unavailable(rows.Err())
}

// CloseStuck takes an order off the stuck list, saying how.
func (s *Store) CloseStuck(ctx context.Context, orderID, how string) error {
	now := s.nowMillis()
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE stuck_orders SET closed_at = $1, closed_how = $2
			WHERE order_id = $3 AND closed_at IS NULL`, now, how, orderID)
		if err != nil {
			return unavailable(fmt.Errorf("close stuck order: %w", err))
		}
		return nil
	})
}

// StuckStillOpen closes, as no longer open at Kombo, the stuck orders of
// an integration that are not among open, the ids of all its orders Kombo
// lists OPEN.
func (s *Store) StuckStillOpen(ctx context.Context, integrationID string, open []string) error {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT order_id FROM stuck_orders
		WHERE integration_id = $1 AND closed_at IS NULL`, integrationID)
	if err != nil {
		return unavailable(err)
	}
	var stuck []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		stuck = append(stuck, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return unavailable(err)
	}
	isOpen := make(map[string]bool, len(open))
	for _, id := range open {
		isOpen[id] = true
	}
	for _, id := range stuck {
		if !isOpen[id] {
			if err := s.CloseStuck(ctx, id, StuckNotOpen); err != nil {
				return err
			}
		}
	}
	return nil
}

// Readiness: a database that answers may still be unable to commit (a full
// disk, a read-only file or database). CheckWrites tells.

// recentFailure is how long a failed commit of a webhook or a job's write
// keeps CheckWrites failing, on the wall clock: long enough for a load
// balancer to see it, short enough to recover by itself.
const recentFailure = 5 * time.Second

// writeHealth remembers the latest failed commit.
type writeHealth struct {
	mu     sync.Mutex
	at     time.Time
	err    error
	failed int // since the last success
}

func (h *writeHealth) record(err error) {
	if err == nil || !IsUnavailable(err) || errors.Is(err, context.Canceled) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at, h.err = time.Now(), err
	h.failed++
}

// CheckWrites returns an error if the database cannot commit: a webhook or
// a job's write failed to commit in the last few seconds, or a write of one
// row (the probe) fails now.
func (s *Store) CheckWrites(ctx context.Context) error {
	s.health.mu.Lock()
	at, last, failed := s.health.at, s.health.err, s.health.failed
	s.health.mu.Unlock()
	if !at.IsZero() && time.Since(at) < recentFailure {
		return fmt.Errorf("%d commits failed, the latest %s ago: %v", failed, time.Since(at).Round(time.Millisecond), last)
	}
	now := s.nowMillis()
	err := s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO readiness_probe (id, at) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at`, now)
		return unavailable(err)
	})
	if err != nil {
		return fmt.Errorf("a write probe failed: %v", err)
	}
	s.health.mu.Lock()
	s.health.failed = 0
	s.health.mu.Unlock()
	return nil
}
