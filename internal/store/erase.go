package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// Erasing an order's personal data (eraseOrders) keeps the order's row, ids,
// states, times and timeline, and:
//
//   - replaces Kombo's order with orders.ErasedOrder (ids, package, status)
//     and empties the email column, so that no search finds it by address;
//   - empties the raw bodies of every webhook event of the order;
//   - deletes the order's candidate links;
//   - reduces its results to orders.ErasedResult (status, scores);
//   - adds "order.erased" to the timeline, and marks the order erased_at.
//
// Timeline details hold ids, states, codes and counts only, never personal
// data, so they are kept as they are.

// eraseChunk bounds the ids one statement names, well under both
// databases' limits on parameters.
const eraseChunk = 500

// erase erases the personal data of the orders ids that are not erased yet,
// fills in e (time, the orders it erased, the webhook bodies it emptied,
// plus any webhook bodies e counts already), records it in the audit log and
// emits OrdersErased, all in tx.
func (s *Store) erase(ctx context.Context, tx *sql.Tx, e *orders.Erasure, ids []string) error {
	now := s.nowMillis()
	e.At = fromMillis(now)
	e.OrderIDs = []string{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), eraseChunk)]
		ids = ids[len(chunk):]
		erased, events, err := s.eraseOrders(ctx, tx, chunk, e.Reason, now)
		if err != nil {
			return err
		}
		e.OrderIDs = append(e.OrderIDs, erased...)
		e.WebhookEvents += events
	}
	list, err := json.Marshal(e.OrderIDs)
	if err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO erasures (at, reason, actor, subject, orders, order_ids, webhook_events)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		now, e.Reason, e.Actor, e.Subject, len(e.OrderIDs), string(list), e.WebhookEvents).Scan(&e.ID); err != nil {
		return unavailable(fmt.Errorf("record erasure: %w", err))
	}
	if len(e.OrderIDs) == 0 {
		return nil
	}
	erased, err := s.findOrders(ctx, tx, e.OrderIDs)
	if err != nil {
		return err
	}
	slices.SortFunc(erased, func(a, b *orders.Order) int { return strings.Compare(a.ID, b.ID) })
	return s.happened(ctx, tx, OrdersErased{Orders: erased})
}

// eraseOrders erases the personal data of those of ids (at most eraseChunk)
// that are not erased yet, and returns those it erased and how many webhook
// bodies it emptied.
func (s *Store) eraseOrders(ctx context.Context, tx *sql.Tx, ids []string, reason string, now int64) ([]string, int, error) {
	marks, args := inList(ids, 2)
	// Marking them first takes their rows (on Postgres), so that a
	// concurrent erasure of the same order waits, then finds it erased.
	rows, err := tx.QueryContext(ctx, `UPDATE orders SET erased_at = $1, email = '', updated_at = $1
		WHERE erased_at IS NULL AND id IN (`+marks+`)
		RETURNING id, integration_id, package_id, status, data`, append([]any{now}, args...)...)
	if err != nil {
		return nil, 0, unavailable(fmt.Errorf("mark orders erased: %w", err))
	}
	type row struct{ id, integrationID, packageID, status, data string }
	var marked []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.integrationID, &r.packageID, &r.status, &r.data); err != nil {
			rows.Close()
			return nil, 0, err
		}
		marked = append(marked, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, unavailable(fmt.Errorf("mark orders erased: %w", err))
	}
	if len(marked) == 0 {
		return nil, 0, nil
	}

	slices.SortFunc(marked, func(a, b row) int { return strings.Compare(a.id, b.id) })
	erased := make([]string, len(marked))
	for i, r := range marked {
		erased[i] = r.id
		// What is kept comes from the stored order, or, should it not open
		// (its key is gone), from the columns: an erasure never fails for
		// want of a key.
		var ko kombo.Order
		if plain, err := s.openOrderData(r.id, r.data); err != nil || json.Unmarshal(plain, &ko) != nil {
			ko = kombo.Order{ID: r.id}
		}
		ko.IntegrationID, ko.PackageID, ko.Status = r.integrationID, r.packageID, kombo.OrderStatus(r.status)
		kept, err := json.Marshal(orders.ErasedOrder(ko))
		if err != nil {
			return nil, 0, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE orders SET data = $1 WHERE id = $2", s.sealOrderData(r.id, kept), r.id); err != nil {
			return nil, 0, unavailable(fmt.Errorf("erase order %s: %w", r.id, err))
		}
		if err := s.addEvent(ctx, tx, r.id, orders.OrderErased{Reason: reason}); err != nil {
			return nil, 0, err
		}
	}

	marks, args = inList(erased, 1)
	res, err := tx.ExecContext(ctx, "UPDATE webhook_events SET body = '' WHERE length(body) > 0 AND order_id IN ("+marks+
		") AND order_at IN (SELECT created_at FROM orders WHERE id IN ("+marks+") UNION ALL SELECT 0)", args...)
	if err != nil {
		return nil, 0, unavailable(fmt.Errorf("erase webhook bodies: %w", err))
	}
	events, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, "DELETE FROM links WHERE order_id IN ("+marks+")", args...); err != nil {
		return nil, 0, unavailable(fmt.Errorf("delete links: %w", err))
	}
	if err := s.eraseResults(ctx, tx, marks, args); err != nil {
		return nil, 0, err
	}
	return erased, int(events), nil
}

// eraseResults reduces the results of the orders in the list marks names.
func (s *Store) eraseResults(ctx context.Context, tx *sql.Tx, marks string, args []any) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, order_id, body FROM results WHERE order_id IN ("+marks+")", args...)
	if err != nil {
		return unavailable(fmt.Errorf("find results to erase: %w", err))
	}
	type row struct {
		id            int64
		orderID, body string
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.orderID, &r.body); err != nil {
			rows.Close()
			return err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range list {
		var req kombo.ResultRequest
		if plain, err := s.keys.OpenString(r.body, resultBodyContext(r.orderID)); err == nil {
			json.Unmarshal([]byte(plain), &req) // a result that does not decode keeps nothing
		}
		kept, err := json.Marshal(orders.ErasedResult(req))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE results SET body = $1 WHERE id = $2",
			s.keys.SealString(string(kept), resultBodyContext(r.orderID)), r.id); err != nil {
			return unavailable(fmt.Errorf("erase result %d: %w", r.id, err))
		}
	}
	return nil
}

// forgetIfErased empties the body of a webhook event just stored for an
// order whose personal data was erased (Kombo delivered it again under a
// new event id), so that an erased order does not get its data back.
func (s *Store) forgetIfErased(ctx context.Context, tx *sql.Tx, orderID, eventID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_events SET body = '' WHERE id = $1
		AND EXISTS (SELECT 1 FROM orders WHERE id = $2 AND erased_at IS NOT NULL)`, eventID, orderID); err != nil {
		return unavailable(fmt.Errorf("forget webhook body of erased order: %w", err))
	}
	return nil
}

// inList returns "$first, $first+1, …" for ids, and ids as arguments.
func inList(ids []string, first int) (string, []any) {
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i], args[i] = "$"+strconv.Itoa(first+i), id
	}
	return strings.Join(marks, ", "), args
}

// EraseCandidate erases the personal data of every order of the candidate
// with the address email (compared as keyring.NormalizeEmail does), in one
// transaction, and records the erasure in the audit log, also when no order
// matched, so that the request is on record. actor says who asked
// (orders.ActorAPI, orders.ActorCLI). Links stop working at once; mail jobs
// find the orders erased and send nothing (see jobs). It emits OrdersErased
// when it erased any.
//
// It returns an EINVALID error for an empty address.
func (s *Store) EraseCandidate(ctx context.Context, email, actor string) (*orders.Erasure, error) {
	lookups := s.keys.EmailLookups(email)
	if len(lookups) == 0 {
		return nil, orders.Errorf(orders.EINVALID, "email is required")
	}
	e := &orders.Erasure{Reason: orders.ErasedRequest, Actor: actor}
	if s.keys.Enabled() {
		e.Subject = s.keys.HashEmail(email)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cond, args := emailIn(lookups, 1)
		ids, err := queryStrings(ctx, tx, "SELECT id FROM orders WHERE erased_at IS NULL AND "+cond+" ORDER BY id", args...)
		if err != nil {
			return unavailable(fmt.Errorf("find the candidate's orders: %w", err))
		}
		return s.erase(ctx, tx, e, ids)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Retention says how long personal data is kept. A zero duration keeps it
// for ever.
type Retention struct {
	// AfterClose is how long after an order reached a final state its
	// personal data is kept. It also bounds how long the raw bodies of
	// webhooks that belong to no order (integration events) are kept.
	AfterClose time.Duration
	// AfterIntegrationDeleted is how long after Kombo deleted an
	// integration the personal data of its orders, and the raw bodies of
	// its webhooks, are kept.
	AfterIntegrationDeleted time.Duration
	// BatchSize bounds the orders erased per transaction; zero means 500.
	BatchSize int
}

// EraseDue erases, as of the store's clock, what the retention policy r no
// longer keeps: the personal data of orders closed longer than
// r.AfterClose ago, the raw bodies of webhooks that belong to no order and
// are older than that, and the personal data and webhook bodies of
// integrations deleted longer than r.AfterIntegrationDeleted ago. It works
// in batches, one transaction each, each recorded in the audit log as an
// erasure by orders.ActorAssessgate and emitting OrdersErased; it returns
// those erasures. A batch that
// found nothing is not recorded. When ctx ends it stops after the current
// batch and returns what it did with ctx's error.
func (s *Store) EraseDue(ctx context.Context, r Retention) ([]*orders.Erasure, error) {
	batch := r.BatchSize
	if batch <= 0 {
		batch = 500
	}
	now := s.Now()
	var done []*orders.Erasure
	// run erases, in one transaction, the orders that find returns, and
	// the webhook bodies that extra empties, and records the erasure if it
	// erased anything. It reports whether a further batch may find more.
	run := func(e *orders.Erasure, find func(tx *sql.Tx) ([]string, error), extra func(tx *sql.Tx) (int64, error)) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		var (
			ids      []string
			recorded bool
		)
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			if ids, err = find(tx); err != nil {
				return unavailable(fmt.Errorf("find orders to erase: %w", err))
			}
			if len(ids) < batch && extra != nil {
				n, err := extra(tx)
				if err != nil {
					return unavailable(fmt.Errorf("erase webhook bodies: %w", err))
				}
				e.WebhookEvents = int(n)
			}
			if len(ids) == 0 && e.WebhookEvents == 0 {
				return nil
			}
			recorded = true
			return s.erase(ctx, tx, e, ids)
		})
		if err != nil {
			return false, err
		}
		if recorded {
			done = append(done, e)
		}
		return len(ids) == batch, nil
	}

	if r.AfterClose > 0 {
		cutoff := now.Add(-r.AfterClose).UnixMilli()
		for more := true; more; {
			var err error
			more, err = run(&orders.Erasure{Reason: orders.ErasedRetention, Actor: orders.ActorAssessgate},
				func(tx *sql.Tx) ([]string, error) {
					return queryStrings(ctx, tx, `SELECT id FROM orders WHERE erased_at IS NULL AND closed_at <= $1
						ORDER BY closed_at, id LIMIT $2`, cutoff, batch)
				},
				func(tx *sql.Tx) (int64, error) {
					return execCount(ctx, tx, `UPDATE webhook_events SET body = ''
						WHERE order_id IS NULL AND received_at <= $1 AND length(body) > 0`, cutoff)
				})
			if err != nil {
				return done, err
			}
		}
	}

	if r.AfterIntegrationDeleted > 0 {
		cutoff := now.Add(-r.AfterIntegrationDeleted).UnixMilli()
		deleted, err := queryStrings(ctx, s.db.Reader, `SELECT id FROM integrations
			WHERE deleted_at IS NOT NULL AND deleted_at <= $1 ORDER BY id`, cutoff)
		if err != nil {
			return done, fmt.Errorf("find deleted integrations: %w", err)
		}
		for _, integrationID := range deleted {
			for more := true; more; {
				more, err = run(&orders.Erasure{Reason: orders.ErasedIntegrationDeleted, Actor: orders.ActorAssessgate, Subject: integrationID},
					func(tx *sql.Tx) ([]string, error) {
						return queryStrings(ctx, tx, `SELECT id FROM orders WHERE integration_id = $1 AND erased_at IS NULL
							ORDER BY id LIMIT $2`, integrationID, batch)
					},
					func(tx *sql.Tx) (int64, error) {
						return execCount(ctx, tx, `UPDATE webhook_events SET body = ''
							WHERE integration_id = $1 AND length(body) > 0`, integrationID)
					})
				if err != nil {
					return done, err
				}
			}
		}
	}
	return done, nil
}

// execCount runs a statement and returns how many rows it changed.
func execCount(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// FindErasures returns a page of the audit log of erasures, newest first,
// of at most limit entries (1 to 500; 100 when out of range) before the
// entry with id before (0: from the newest), and the id to pass as before
// for the next page (0 on the last page).
func (s *Store) FindErasures(ctx context.Context, before int64, limit int) ([]*orders.Erasure, int64, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := "SELECT id, at, reason, actor, subject, order_ids, webhook_events FROM erasures"
	args := []any{limit + 1}
	if before > 0 {
		q += " WHERE id < $2"
		args = append(args, before)
	}
	rows, err := s.db.Reader.QueryContext(ctx, q+" ORDER BY id DESC LIMIT $1", args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find erasures: %w", err)
	}
	defer rows.Close()
	var list []*orders.Erasure
	for rows.Next() {
		var (
			e   orders.Erasure
			at  int64
			ids string
		)
		if err := rows.Scan(&e.ID, &at, &e.Reason, &e.Actor, &e.Subject, &ids, &e.WebhookEvents); err != nil {
			return nil, 0, err
		}
		e.At = fromMillis(at)
		if err := json.Unmarshal([]byte(ids), &e.OrderIDs); err != nil {
			return nil, 0, fmt.Errorf("decode erasure %d: %w", e.ID, err)
		}
		list = append(list, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].ID
	}
	return list, next, nil
}

// WebhookEvent is a webhook as stored: its raw body, opened.
type WebhookEvent struct {
	ID         string
	Type       string
	ReceivedAt time.Time
	// Body is the raw body; empty once erased.
	Body []byte
}

// CandidateData is everything held about one candidate: see FindCandidate.
type CandidateData struct {
	// Orders are the candidate's orders with their timelines, newest first.
	Orders []*orders.Order
	// Results are the results of those orders, by order id, oldest first.
	Results map[string][]*orders.Result
	// WebhookEvents are the raw webhooks of those orders, by order id,
	// oldest first.
	WebhookEvents map[string][]*WebhookEvent
}

// FindCandidate returns everything held about the candidate with the
// address email: their orders (whose personal data is not erased) with
// Kombo's data and timelines, the orders' results and raw webhooks. It
// finds nothing for an erased candidate, and returns an EINVALID error for
// an empty address.
func (s *Store) FindCandidate(ctx context.Context, email string) (*CandidateData, error) {
	lookups := s.keys.EmailLookups(email)
	if len(lookups) == 0 {
		return nil, orders.Errorf(orders.EINVALID, "email is required")
	}
	cond, args := emailIn(lookups, 1)
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE erased_at IS NULL AND "+cond+
		" ORDER BY created_at DESC, id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("find the candidate's orders: %w", err)
	}
	found, err := s.scanOrders(rows)
	if err != nil {
		return nil, err
	}
	d := &CandidateData{Orders: append([]*orders.Order{}, found...), Results: map[string][]*orders.Result{},
		WebhookEvents: map[string][]*WebhookEvent{}}
	for _, o := range d.Orders {
		if o.Timeline, err = s.findEvents(ctx, s.db.Reader, o.ID); err != nil {
			return nil, err
		}
		if d.Results[o.ID], err = s.findResults(ctx, o.ID); err != nil {
			return nil, err
		}
		if d.WebhookEvents[o.ID], err = s.findWebhookEvents(ctx, o.ID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// findWebhookEvents returns the webhooks of an order, oldest first, their
// bodies opened.
func (s *Store) findWebhookEvents(ctx context.Context, orderID string) ([]*WebhookEvent, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id, type, received_at, body FROM webhook_events
		WHERE order_at IN (`+orderAt("$1")+`, 0) AND order_id = $1 ORDER BY received_at, id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("find webhook events: %w", err)
	}
	defer rows.Close()
	list := []*WebhookEvent{}
	for rows.Next() {
		var (
			e        WebhookEvent
			received int64
			body     []byte
		)
		if err := rows.Scan(&e.ID, &e.Type, &received, &body); err != nil {
			return nil, err
		}
		e.ReceivedAt = fromMillis(received)
		if e.Body, err = s.keys.Open(body, webhookBodyContext(e.ID)); err != nil {
			return nil, fmt.Errorf("webhook event %s: %w", e.ID, err)
		}
		list = append(list, &e)
	}
	return list, rows.Err()
}

// errErased is the conflict of an order whose personal data was erased.
func errErased(orderID, what string) error {
	return orders.Errorf(orders.ECONFLICT, "order %s: its personal data was erased; it %s", orderID, what)
}
