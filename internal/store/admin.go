package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
)

// CountOrdersByState returns how many orders are in each state. States with
// no orders are missing from the map.
func (s *Store) CountOrdersByState(ctx context.Context) (map[orders.State]int, error) {
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT state, count(*) FROM orders GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count orders by state: %w", err)
	}
	defer rows.Close()
	counts := map[orders.State]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[orders.State(state)] = n
	}
	return counts, rows.Err()
}

// FindWritebackErrors returns the write-back errors on orders' timelines at
// or after since: Kombo calls that got no answer or an HTTP status of 400 or
// more, and dead letters. It returns the newest limit of them, newest first,
// and how many there are in all.
//
// The status is inside each event's JSON detail, which SQLite and Postgres
// read with different syntax, so it is filtered here: the query reads only
// the two kinds of the period.
func (s *Store) FindWritebackErrors(ctx context.Context, since time.Time, limit int) ([]orders.Event, int, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id, order_id, at, kind, detail FROM order_events
		WHERE at >= $1 AND kind IN ($2, $3) ORDER BY id DESC`,
		since.UnixMilli(), orders.EventKomboCall, orders.EventDeadLetter)
	if err != nil {
		return nil, 0, fmt.Errorf("find write-back errors: %w", err)
	}
	defer rows.Close()
	var (
		list  []orders.Event
		total int
	)
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, 0, err
		}
		if call, ok := e.Data.(orders.KomboCall); ok && !call.Failed() {
			continue
		}
		total++
		if len(list) < limit {
			list = append(list, e)
		}
	}
	return list, total, rows.Err()
}

// ActiveIntegrationIDsTx returns the ids of the active integrations, inside
// tx, so that jobs for them can be inserted in the same transaction.
func (s *Store) ActiveIntegrationIDsTx(ctx context.Context, tx *sql.Tx) ([]string, error) {
	return s.activeIntegrationIDs(ctx, tx)
}
