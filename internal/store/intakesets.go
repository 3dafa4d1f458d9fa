package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// A batch of order webhooks is written a table at a time: one multi-row
// INSERT for the webhook events, one for the orders, one for their
// "received" timeline events, whatever the number of webhooks. Written one
// by one, each webhook costs a savepoint and four statements, and the
// statements' fixed cost (database/sql, the driver, SQLite's VDBE set-up,
// a round trip to Postgres and its executor) was most of what a webhook
// cost the database (docs/benchmarks.md).
//
// The outcome is the same as writing them one by one in their sorted order
// (Store.intake): the same rows, the same timeline, the same answers.
// Anything unusual for one webhook (a redelivery, an inline order's link)
// is done for it alone, after the sets. If any statement fails, the
// committer rolls the transaction back and writes the batch again one
// webhook at a time, each in its savepoint, which then decides webhook by
// webhook.

// setsEligible reports whether every webhook of batch is an order webhook,
// which intakeSets handles. Integration events are rare and change what
// later webhooks of the batch see; a batch with one goes one by one.
func setsEligible(batch []*pendingWrite) bool {
	n := 0
	for _, p := range batch {
		if p.in == nil {
			continue
		}
		if p.in.Webhook.Order == nil {
			return false
		}
		n++
	}
	return n > 1
}

// intakeSets writes the order webhooks of batch (sorted by order and event
// id) in tx, setting each one's res or err, and returns the orders it
// created. An error means tx must be rolled back and nothing of the batch
// was answered.
func (s *Store) intakeSets(ctx context.Context, tx *sql.Tx, batch []*pendingWrite) ([]*orders.Order, error) {
	type item struct {
		p          *pendingWrite
		w          *kombo.Webhook
		firstEvent bool // the first of the batch with its event id
		firstOrder bool // the first of the batch with its order id
	}
	items := make([]item, 0, len(batch))
	accepts := map[string]error{} // by integration id: nil, or why not
	for _, p := range batch {
		if p.in == nil {
			continue
		}
		w := p.in.Webhook
		id := w.Order.IntegrationID
		reason, seen := accepts[id]
		if !seen {
			integ, err := s.findIntegration(ctx, tx, id)
			if err != nil && orders.ErrorCode(err) != orders.ENOTFOUND {
				return nil, err
			}
			reason = refuseOrders(integ, id)
			accepts[id] = reason
		}
		if reason != nil {
			p.res, p.err = nil, reason // nothing stored, as one by one
			continue
		}
		items = append(items, item{p: p, w: w})
	}
	if len(items) == 0 {
		return nil, nil
	}

	now := s.nowMillis()
	events := make([]any, 0, len(items)*6)
	ords := make([]any, 0, len(items)*11)
	seenEvent := make(map[string]bool, len(items))
	seenOrder := make(map[string]bool, len(items))
	for i := range items {
		it := &items[i]
		w, o := it.w, it.w.Order
		if it.firstEvent = !seenEvent[w.ID]; it.firstEvent {
			seenEvent[w.ID] = true
			events = append(events, w.ID, w.Type, nullString(o.ID), nullString(o.IntegrationID), now,
				s.sealWebhookBody(w.ID, it.p.in.Body))
		}
		if it.firstOrder = !seenOrder[o.ID]; it.firstOrder {
			seenOrder[o.ID] = true
			var compact bytes.Buffer
			if err := json.Compact(&compact, w.Data); err != nil {
				return nil, fmt.Errorf("compact order data: %w", err)
			}
			ords = append(ords, o.ID, o.IntegrationID, o.PackageID, string(o.Status), string(orders.StateReceived),
				string(webhookSource(w)), nullString(w.ID), s.emailKey(o.Candidate.Email),
				s.sealOrderData(o.ID, compact.Bytes()), now, now)
		}
	}
	newEvents, err := s.insertReturningIDs(ctx, tx, insertEvents, events, 6)
	if err != nil {
		return nil, unavailable(fmt.Errorf("insert webhook events: %w", err))
	}
	created, err := s.insertReturningIDs(ctx, tx, insertOrders, ords, 11)
	if err != nil {
		return nil, unavailable(fmt.Errorf("insert orders: %w", err))
	}

	// The timeline: every created order's "received" first, in one
	// statement, then what only some webhooks need, one by one.
	received := make([]any, 0, len(created)*4)
	var made []*orders.Order
	for _, it := range items {
		o := it.w.Order
		if !it.firstOrder || !created[o.ID] {
			continue
		}
		source := webhookSource(it.w)
		ev := orders.OrderReceived{EventID: it.w.ID, Source: source}
		detail, err := encodeEvent(ev)
		if err != nil {
			return nil, err
		}
		received = append(received, o.ID, now, ev.Kind(), detail)
		stored := &orders.Order{Order: *o, State: orders.StateReceived, Source: source, EventID: it.w.ID,
			CreatedAt: fromMillis(now), UpdatedAt: fromMillis(now)}
		it.p.res = &IntakeResult{Order: stored}
		made = append(made, stored)
	}
	if len(received) > 0 {
		if _, err := tx.ExecContext(ctx, multiValues(s.db.Dialect, insertTimeline, len(received)/4, 4), received...); err != nil {
			return nil, unavailable(fmt.Errorf("insert order events: %w", err))
		}
	}
	for _, it := range items {
		o := it.w.Order
		if it.p.res == nil { // not the webhook that created the order
			if it.firstEvent && newEvents[it.w.ID] {
				if err := s.addEvent(ctx, tx, o.ID, orders.OrderDuplicate{EventID: it.w.ID, Source: webhookSource(it.w)}); err != nil {
					return nil, err
				}
				if err := s.forgetIfErased(ctx, tx, o.ID, it.w.ID); err != nil {
					return nil, err
				}
			}
			stored, err := s.findOrder(ctx, tx, o.ID)
			if err != nil {
				return nil, err
			}
			it.p.res = &IntakeResult{Order: stored, Duplicate: true}
		}
		if it.p.in.TokenHash != "" && it.p.res.Order.ErasedAt == nil {
			if err := s.addLink(ctx, tx, o.ID, it.p.in.TokenHash); err != nil {
				return nil, err
			}
		}
	}
	return made, nil
}

// webhookSource says where an order webhook's order came from.
func webhookSource(w *kombo.Webhook) orders.Source {
	if w.Type == kombo.EventInlineOrderReceived {
		return orders.SourceInline
	}
	return orders.SourceWebhook
}

// refuseOrders returns why integ (nil when unknown) takes no orders, or nil.
func refuseOrders(integ *orders.Integration, id string) error {
	if integ.AcceptsOrders() {
		return nil
	}
	state := "inactive"
	if integ.State == orders.IntegrationDeleted {
		state = "deleted"
	}
	return orders.Errorf(orders.EUNPROCESSABLE, "The integration %s is %s; assessgate takes no orders for it.", id, state)
}

// The statements of intakeSets, without their VALUES rows.
const (
	insertEvents = `INSERT INTO webhook_events (id, type, order_id, integration_id, received_at, body) VALUES %s
		ON CONFLICT (id) DO NOTHING RETURNING id`
	insertOrders = `INSERT INTO orders
		(id, integration_id, package_id, status, state, source, event_id, email, data, created_at, updated_at) VALUES %s
		ON CONFLICT (id) DO NOTHING RETURNING id`
	insertTimeline = `INSERT INTO order_events (order_id, at, kind, detail) VALUES %s`
)

// insertReturningIDs runs stmt with a row of cols of args each and returns
// the ids it hands back.
func (s *Store) insertReturningIDs(ctx context.Context, tx *sql.Tx, stmt string, args []any, cols int) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, multiValues(s.db.Dialect, stmt, len(args)/cols, cols), args...)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// scanIDs reads rows of one id each, and closes them.
func scanIDs(rows *sql.Rows) (map[string]bool, error) {
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// multiValues returns stmt with its %s replaced by n rows of cols
// parameters. The texts are made once: the statement caches (SQLite's here,
// pgx's for Postgres) key on them. SQLite's parameters are anonymous (?):
// modernc's driver looks each numbered one ($1) up by name, which for the
// hundreds of a batch took longer than binding them.
func multiValues(d Dialect, stmt string, n, cols int) string {
	key := valuesKey{d, stmt, n}
	if s, ok := valuesCache.Load(key); ok {
		return s.(string)
	}
	var b strings.Builder
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if d == SQLite {
				b.WriteByte('?')
			} else {
				b.WriteString("$" + strconv.Itoa(r*cols+c+1))
			}
		}
		b.WriteByte(')')
	}
	s := fmt.Sprintf(stmt, b.String())
	valuesCache.Store(key, s)
	return s
}

type valuesKey struct {
	d    Dialect
	stmt string
	n    int
}

var valuesCache sync.Map // valuesKey → string
