package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// AcceptResult stores a result for an order and emits ResultAccepted (the
// job that writes it back to Kombo), in one transaction. A COMPLETED
// or CANCELLED result closes the order; OPEN carries interim data.
//
// It returns ENOTFOUND for an unknown order, and ECONFLICT, with the order as
// it is, when the order is closed already (completed, cancelled or expired),
// not OPEN at Kombo, or its personal data was erased.
func (s *Store) AcceptResult(ctx context.Context, orderID string, r *kombo.ResultRequest) (*orders.Order, *orders.Result, error) {
	var (
		o   *orders.Order
		res *orders.Result
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, res, err = s.AcceptResultTx(ctx, tx, orderID, r)
		return err
	})
	if err != nil {
		if orders.ErrorCode(err) == orders.ECONFLICT {
			return o, nil, err // the order as it is, for the caller to show
		}
		return nil, nil, err
	}
	return o, res, nil
}

// AcceptResultTx is AcceptResult inside tx.
func (s *Store) AcceptResultTx(ctx context.Context, tx *sql.Tx, orderID string, r *kombo.ResultRequest) (*orders.Order, *orders.Result, error) {
	now := s.nowMillis()
	// One conditional update both checks that the order is open and locks its
	// row (on Postgres), so two results racing to close it cannot both win.
	var err error
	var id string
	if state, closes := orders.ClosingState(r.Status); closes {
		err = tx.QueryRowContext(ctx, `UPDATE orders SET state = $1, closed_at = $2, updated_at = $2
			WHERE id = $3 AND closed_at IS NULL AND status = 'OPEN' AND erased_at IS NULL RETURNING id`, string(state), now, orderID).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, `UPDATE orders SET updated_at = $1
			WHERE id = $2 AND closed_at IS NULL AND status = 'OPEN' AND erased_at IS NULL RETURNING id`, now, orderID).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		o, ferr := s.findOrder(ctx, tx, orderID)
		if ferr != nil {
			return nil, nil, ferr
		}
		if o.ErasedAt != nil && o.ClosedAt == nil {
			// A result would bring personal data (its URL, attachments) back
			// to an order whose candidate was erased.
			return o, nil, errErased(orderID, "takes no more results")
		}
		return o, nil, orders.Errorf(orders.ECONFLICT, "order %s is %s (Kombo status %s): a result can only be posted for an open order",
			orderID, o.State, o.Status)
	}
	if err != nil {
		return nil, nil, unavailable(fmt.Errorf("update order: %w", err))
	}
	res, err := s.RecordResultTx(ctx, tx, orderID, r)
	if err != nil {
		return nil, nil, err
	}
	o, err := s.findOrder(ctx, tx, orderID)
	if err != nil {
		return nil, nil, err
	}
	return o, res, nil
}

// RecordResultTx stores a result for an order as it is, without checking or
// changing its state, and emits ResultAccepted, inside tx. The
// expiry job uses it for the CANCELLED result of an order it has just
// closed as expired; AcceptResultTx uses it once it has closed the order.
func (s *Store) RecordResultTx(ctx context.Context, tx *sql.Tx, orderID string, r *kombo.ResultRequest) (*orders.Result, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	now := s.nowMillis()
	var resultID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO results (order_id, status, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		orderID, string(r.Status), s.keys.SealString(string(body), resultBodyContext(orderID)), now).Scan(&resultID); err != nil {
		return nil, unavailable(fmt.Errorf("insert result: %w", err))
	}
	if err := s.addEvent(ctx, tx, orderID, orders.ResultAccepted{ResultID: resultID, Status: r.Status}); err != nil {
		return nil, err
	}
	res := &orders.Result{ID: resultID, OrderID: orderID, Request: *r, CreatedAt: fromMillis(now)}
	o, err := s.findOrder(ctx, tx, orderID)
	if err != nil {
		return nil, err
	}
	if err := s.happened(ctx, tx, ResultAccepted{Order: o, Result: res}); err != nil {
		return nil, err
	}
	return res, nil
}

// LatestResult returns the newest result of an order, or ENOTFOUND.
func (s *Store) LatestResult(ctx context.Context, orderID string) (*orders.Result, error) {
	r, err := s.scanResult(s.db.Reader.QueryRowContext(ctx, "SELECT "+resultColumns+`
		FROM results WHERE order_id = $1 ORDER BY id DESC LIMIT 1`, orderID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.Errorf(orders.ENOTFOUND, "order %q has no result", orderID)
	}
	if err != nil {
		return nil, fmt.Errorf("find result: %w", err)
	}
	return r, nil
}

// findResults returns the results of an order, oldest first.
func (s *Store) findResults(ctx context.Context, orderID string) ([]*orders.Result, error) {
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT "+resultColumns+" FROM results WHERE order_id = $1 ORDER BY id", orderID)
	if err != nil {
		return nil, fmt.Errorf("find results: %w", err)
	}
	defer rows.Close()
	list := []*orders.Result{}
	for rows.Next() {
		r, err := s.scanResult(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

const resultColumns = "id, order_id, body, created_at, delivered_at, warnings"

// scanResult reads a row of resultColumns, opening its sealed body.
func (s *Store) scanResult(row scanner) (*orders.Result, error) {
	var (
		r         orders.Result
		stored    string
		created   int64
		delivered sql.NullInt64
		warnings  sql.NullString
	)
	if err := row.Scan(&r.ID, &r.OrderID, &stored, &created, &delivered, &warnings); err != nil {
		return nil, err
	}
	body, err := s.keys.OpenString(stored, resultBodyContext(r.OrderID))
	if err != nil {
		return nil, fmt.Errorf("result %d: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(body), &r.Request); err != nil {
		return nil, fmt.Errorf("decode result %d: %w", r.ID, err)
	}
	if warnings.Valid {
		if err := json.Unmarshal([]byte(warnings.String), &r.Warnings); err != nil {
			return nil, fmt.Errorf("decode warnings of result %d: %w", r.ID, err)
		}
	}
	r.CreatedAt, r.DeliveredAt = fromMillis(created), fromNullMillis(delivered)
	return &r, nil
}

// MarkResultDelivered records that Kombo took result r (and so every earlier
// result of its order), with Kombo's warnings, moves the order's Kombo
// status to r's status when r closes the order.
func (s *Store) MarkResultDelivered(ctx context.Context, r *orders.Result, warnings []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.nowMillis()
		if warnings == nil {
			warnings = []string{}
		}
		w, _ := json.Marshal(warnings)
		if _, err := tx.ExecContext(ctx, `UPDATE results SET delivered_at = $1, warnings = CASE WHEN id = $2 THEN $3 ELSE warnings END
			WHERE order_id = $4 AND id <= $2 AND delivered_at IS NULL`, now, r.ID, string(w), r.OrderID); err != nil {
			return unavailable(fmt.Errorf("mark result delivered: %w", err))
		}
		if _, closes := orders.ClosingState(r.Request.Status); closes {
			if _, err := tx.ExecContext(ctx, "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3",
				string(r.Request.Status), now, r.OrderID); err != nil {
				return unavailable(fmt.Errorf("update order status: %w", err))
			}
		}
		if err := s.addEvent(ctx, tx, r.OrderID, orders.ResultDelivered{ResultID: r.ID, Status: r.Request.Status, Warnings: warnings}); err != nil {
			return err
		}
		return nil
	})
}
