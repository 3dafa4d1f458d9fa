package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
)

// AddLink stores the hash of a new candidate link token of an order. It
// returns an ECONFLICT error when the order's personal data was erased, and
// ENOTFOUND for an unknown order. It writes through Write.
func (s *Store) AddLink(ctx context.Context, orderID, tokenHash string) error {
	return s.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		added, err := s.AddLinksTx(ctx, tx, []string{orderID}, []string{tokenHash})
		if err != nil || added[orderID] {
			return err
		}
		if _, err := s.findOrder(ctx, tx, orderID); err != nil {
			return err
		}
		return errErased(orderID, "gets no more links")
	})
}

// AddLinksTx stores, inside tx, the link of hashes[i] for orderIDs[i], with
// a link.issued event, for every order whose personal data is not erased,
// and returns the ids of the orders given a link; an order that is erased,
// or does not exist, gets none.
func (s *Store) AddLinksTx(ctx context.Context, tx *sql.Tx, orderIDs, hashes []string) (map[string]bool, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	// The update takes the orders' rows (on Postgres), so that an erasure,
	// which marks an order before it deletes its links, either comes first
	// and is seen here, or comes after and deletes these links too.
	marks, args := inList(orderIDs, 1)
	rows, err := tx.QueryContext(ctx, "UPDATE orders SET updated_at = updated_at WHERE id IN ("+marks+
		") AND erased_at IS NULL RETURNING id", args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("find orders: %w", err))
	}
	open, err := scanIDs(rows)
	if err != nil {
		return nil, unavailable(fmt.Errorf("find orders: %w", err))
	}
	now := s.nowMillis()
	var (
		links  []any
		issued []string
	)
	for i, id := range orderIDs {
		if open[id] {
			links = append(links, hashes[i], id, now)
			issued = append(issued, id)
		}
	}
	if len(issued) == 0 {
		return open, nil
	}
	if _, err := tx.ExecContext(ctx, multiValues(s.db.Dialect, insertLinks, len(issued), 3), links...); err != nil {
		return nil, unavailable(fmt.Errorf("insert links: %w", err))
	}
	if err := s.AddEventsTx(ctx, tx, issued, slices.Repeat([]orders.EventData{orders.LinkIssued{}}, len(issued))); err != nil {
		return nil, err
	}
	return open, nil
}

const insertLinks = `INSERT INTO links (token_hash, order_id, created_at) VALUES %s`

// RemoveLinksTx deletes links, such as those of e-mails that could not be
// sent, inside tx.
func (s *Store) RemoveLinksTx(ctx context.Context, tx *sql.Tx, hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	marks, args := inList(hashes, 1)
	if _, err := tx.ExecContext(ctx, "DELETE FROM links WHERE token_hash IN ("+marks+")", args...); err != nil {
		return fmt.Errorf("delete links: %w", err)
	}
	return nil
}

// MarkInvitedTx records inside tx that an invitation was sent at at, its
// link valid until expiresAt (nil: it does not expire). A received order
// becomes invited; a started one stays started. It returns the updated
// order, an ENOTFOUND error for an unknown order and an ECONFLICT error for
// a final one, which it leaves as it is.
func (s *Store) MarkInvitedTx(ctx context.Context, tx *sql.Tx, orderID string, at time.Time, expiresAt *time.Time) (*orders.Order, error) {
	marked, err := s.MarkInvitedManyTx(ctx, tx, []string{orderID}, at, expiresAt)
	if err != nil {
		return nil, err
	}
	if len(marked) == 0 {
		return nil, s.notOpen(ctx, tx, orderID)
	}
	return marked[0], nil
}

// MarkInvitedManyTx does what MarkInvitedTx does for every order of
// orderIDs, in one statement, and returns the orders it updated: those
// that exist and are not final.
func (s *Store) MarkInvitedManyTx(ctx context.Context, tx *sql.Tx, orderIDs []string, at time.Time, expiresAt *time.Time) ([]*orders.Order, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	marks, args := inList(orderIDs, 4)
	rows, err := tx.QueryContext(ctx, `UPDATE orders SET
			state = `+transitions[orders.Invite].to+`,
			invited_at = $1, expires_at = $2, updated_at = $3
		WHERE id IN (`+marks+`) AND state IN `+transitions[orders.Invite].from+` RETURNING `+orderColumns,
		append([]any{at.UnixMilli(), toNullMillis(expiresAt), s.nowMillis()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("mark orders invited: %w", err)
	}
	marked, err := s.scanOrders(rows)
	if err != nil {
		return nil, fmt.Errorf("mark orders invited: %w", err)
	}
	return marked, nil
}

// ExpireTx marks an order expired at at inside tx, unless it is final, and
// reports whether it did.
func (s *Store) ExpireTx(ctx context.Context, tx *sql.Tx, orderID string, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE orders SET state = `+transitions[orders.Expire].to+`, closed_at = $2, updated_at = $3
		WHERE id = $1 AND state IN `+transitions[orders.Expire].from, orderID, at.UnixMilli(), s.nowMillis())
	if err != nil {
		return false, fmt.Errorf("expire order: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// notOpen returns the error for an order that an update of open orders
// did not find: ENOTFOUND when it does not exist, ECONFLICT when it is final.
func (s *Store) notOpen(ctx context.Context, q querier, orderID string) error {
	o, err := s.findOrder(ctx, q, orderID)
	if err != nil {
		return err
	}
	return orders.Errorf(orders.ECONFLICT, "order %s is %s", o.ID, o.State)
}

// LinkOpen is what opening a candidate link found.
type LinkOpen struct {
	Order *orders.Order
	// Started is true when this open started the order: the first open of
	// any of its links.
	Started bool
	// Expired is true when the order is past its expiry, also before the
	// job that expires it has run.
	Expired bool
}

// OpenLink finds the order of a link by the hash of its token. When record
// is true and the order was received or invited and is not past its expiry,
// it marks the order started, adds it to the timeline and emits
// OrderStarted, in one transaction. It returns an ENOTFOUND error for
// an unknown token.
func (s *Store) OpenLink(ctx context.Context, tokenHash string, record bool) (*LinkOpen, error) {
	find := func(q querier) (*LinkOpen, error) {
		var orderID string
		err := q.QueryRowContext(ctx, "SELECT order_id FROM links WHERE token_hash = $1", tokenHash).Scan(&orderID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, orders.Errorf(orders.ENOTFOUND, "no such link")
		}
		if err != nil {
			return nil, unavailable(fmt.Errorf("find link: %w", err))
		}
		o, err := s.findOrder(ctx, q, orderID)
		if err != nil {
			return nil, err
		}
		now := s.Now()
		return &LinkOpen{Order: o, Expired: o.LinkExpired(now)}, nil
	}
	open, err := find(s.db.Reader)
	if err != nil || !record || open.Expired || !orders.Start.Allows(open.Order.State) {
		return open, err
	}

	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if open, err = find(tx); err != nil || open.Expired {
			return err
		}
		now := s.nowMillis()
		res, err := tx.ExecContext(ctx, `UPDATE orders SET state = `+transitions[orders.Start].to+`, started_at = $2, updated_at = $2
			WHERE id = $1 AND state IN `+transitions[orders.Start].from, open.Order.ID, now)
		if err != nil {
			return fmt.Errorf("mark order started: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Opened meanwhile, or made final: show the order as it is now.
			open.Order, err = s.findOrder(ctx, tx, open.Order.ID)
			return err
		}
		if err := s.addEvent(ctx, tx, open.Order.ID, orders.OrderStarted{}); err != nil {
			return err
		}
		if open.Order, err = s.findOrder(ctx, tx, open.Order.ID); err != nil {
			return err
		}
		open.Started = true
		return s.happened(ctx, tx, OrderStarted{Order: open.Order})
	})
	if err != nil {
		return nil, err
	}
	return open, nil
}

// RequestInvite asks for an order's invitation to be sent again, with a new
// expiry: it adds the request to the timeline and emits
// InvitationRequested, which enqueues the invitation, in one transaction. It
// returns an ENOTFOUND error for an unknown order, and an ECONFLICT error for
// a final or erased order, an order of a deleted integration, or when the
// Events refuses it (assessgate does not e-mail invitations).
func (s *Store) RequestInvite(ctx context.Context, id string) (*orders.Order, error) {
	return s.RequestInviteIn(ctx, id, "")
}

// RequestInviteIn is RequestInvite in a language (one of orders.Languages;
// "" keeps the order's): the order's e-mails and candidate pages use it
// from then on.
func (s *Store) RequestInviteIn(ctx context.Context, id, language string) (*orders.Order, error) {
	if language != "" {
		if err := orders.CheckLanguage("language", language); err != nil {
			return nil, err
		}
	}
	var o *orders.Order
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = s.findOrder(ctx, tx, id); err != nil {
			return err
		}
		if o.State.Final() {
			return orders.Errorf(orders.ECONFLICT, "order %s is %s: it gets no more invitations", o.ID, o.State)
		}
		if o.ErasedAt != nil {
			return errErased(o.ID, "gets no more invitations")
		}
		if integ, err := s.findIntegration(ctx, tx, o.IntegrationID); err == nil && integ.State == orders.IntegrationDeleted {
			return orders.Errorf(orders.ECONFLICT, "order %s: its integration was deleted; it gets no more invitations", o.ID)
		}
		if language != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE orders SET language = $1 WHERE id = $2`, language, o.ID); err != nil {
				return err
			}
			o.Language = language
		}
		if err := s.addEvent(ctx, tx, o.ID, orders.InviteRequested{Language: language}); err != nil {
			return err
		}
		return s.happened(ctx, tx, InvitationRequested{Order: o})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}
