package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/assessgate/assessgate/internal/orders"
)

// AddEvent appends an event to an order's timeline, through Write.
func (s *Store) AddEvent(ctx context.Context, orderID string, data orders.EventData) error {
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.addEvent(ctx, tx, orderID, data) })
}

// AddEventTx appends an event to an order's timeline inside tx.
func (s *Store) AddEventTx(ctx context.Context, tx *sql.Tx, orderID string, data orders.EventData) error {
	return s.addEvent(ctx, tx, orderID, data)
}

// AddEventsTx appends the event data[i] to the timeline of the order
// orderIDs[i], for each order, inside tx, in one statement.
func (s *Store) AddEventsTx(ctx context.Context, tx *sql.Tx, orderIDs []string, data []orders.EventData) error {
	if len(orderIDs) == 0 {
		return nil
	}
	now := s.nowMillis()
	args := make([]any, 0, 5*len(orderIDs))
	for i, id := range orderIDs {
		detail, err := encodeEvent(data[i])
		if err != nil {
			return err
		}
		args = append(args, id, id, now, data[i].Kind(), detail)
	}
	if _, err := tx.ExecContext(ctx, multiRows(s.db.Dialect, insertTimeline, len(orderIDs), timelineRow), args...); err != nil {
		return unavailable(fmt.Errorf("insert order events: %w", err))
	}
	return nil
}

func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, orderID string, data orders.EventData) error {
	detail, err := encodeEvent(data)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, multiRows(s.db.Dialect, insertTimeline, 1, timelineRow),
		orderID, orderID, s.nowMillis(), data.Kind(), detail)
	if err != nil {
		return unavailable(fmt.Errorf("insert order event: %w", err))
	}
	return nil
}

// The timeline is keyed by its order's creation time (order_at), so that
// the events of recent orders share the index's last pages (migration
// 0013): an event is written with its order's created_at, looked up by
// the order's id, and found by both. Lookups also take order_at 0, what a
// replica of a version before 0013 writes during a rolling upgrade.

// timelineRow is a row of insertTimeline for an order already stored: its
// id (twice) and the event's time, kind and detail.
var timelineRow = "(?, " + orderAt("?") + ", ?, ?, ?)"

// orderAt returns the SQL of the created_at of the order whose id is the
// parameter param, or 0 when there is no such order.
func orderAt(param string) string {
	return "coalesce((SELECT created_at FROM orders WHERE id = " + param + "), 0)"
}

// encodeEvent returns the detail column of an event: the JSON of its data.
func encodeEvent(data orders.EventData) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode %s event: %w", data.Kind(), err)
	}
	return string(b), nil
}

func (s *Store) findEvents(ctx context.Context, q querier, orderID string) ([]orders.Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, order_id, at, kind, detail FROM order_events
		WHERE order_at IN (`+orderAt("$1")+`, 0) AND order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	var events []orders.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// scanEvent reads an event of the columns id, order_id, at, kind, detail.
func scanEvent(rows *sql.Rows) (orders.Event, error) {
	var (
		e            orders.Event
		at           int64
		kind, detail string
	)
	if err := rows.Scan(&e.ID, &e.OrderID, &at, &kind, &detail); err != nil {
		return e, err
	}
	e.At = fromMillis(at)
	var err error
	if e.Data, err = orders.DecodeEvent(kind, []byte(detail)); err != nil {
		return e, fmt.Errorf("event %d: %w", e.ID, err)
	}
	return e, nil
}
