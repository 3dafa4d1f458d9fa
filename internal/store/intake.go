package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// Intake is one verified Kombo webhook to store.
type Intake struct {
	Webhook *kombo.Webhook
	// Body is the raw request body, kept for audit and replay for an order
	// webhook (see appendEvent).
	Body []byte
	// TokenHash, for inline orders, is the hash of the candidate link token
	// handed out in the answer to this webhook.
	TokenHash string

	// prep is what the store makes of the webhook before writing it, made
	// by the caller's goroutine (see prepare).
	prep *intakePrep
}

// intakePrep is what storing a webhook needs that does not need the
// database: the sealed body, and for an order its sealed data, e-mail key
// and first timeline event. Intake makes it on the request's goroutine
// before the webhook joins a batch, so that the one writer of group commit
// only runs statements (docs/benchmarks.md).
type intakePrep struct {
	body  []byte // the sealed webhook body; empty but for orders'
	order *orderPrep
}

// orderPrep is the prepared part of an order's row and timeline.
type orderPrep struct {
	data     string // sealed, compacted order JSON
	email    string // the candidate e-mail's lookup key
	received string // the detail of its order.received event
}

// prepare makes in's intakePrep.
func (s *Store) prepare(in *Intake) error {
	w := in.Webhook
	p := &intakePrep{body: []byte{}}
	if w.Order != nil {
		p.body = s.sealWebhookBody(w.ID, in.Body)
		op, err := s.prepareOrder(w.Order, w.Data, webhookSource(w), w.ID)
		if err != nil {
			return err
		}
		p.order = op
	}
	in.prep = p
	return nil
}

// prepareOrder prepares an order's row and first event.
func (s *Store) prepareOrder(o *kombo.Order, data []byte, source orders.Source, eventID string) (*orderPrep, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, fmt.Errorf("compact order data: %w", err)
	}
	received, err := encodeEvent(orders.OrderReceived{EventID: eventID, Source: source})
	if err != nil {
		return nil, err
	}
	return &orderPrep{data: s.sealOrderData(o.ID, compact.Bytes()), email: s.emailKey(o.Candidate.Email), received: received}, nil
}

// IntakeResult says what storing a webhook did.
type IntakeResult struct {
	// Duplicate is true when the event, or for order webhooks the order, was
	// stored before.
	Duplicate bool
	// Order is the stored order, for order webhooks.
	Order *orders.Order
}

// created reports whether the webhook created its order.
func (r *IntakeResult) created() bool { return r.Order != nil && !r.Duplicate }

// Intake stores a webhook and what it says in one transaction, with the jobs
// it causes, and returns once that transaction is committed. Redeliveries of
// an event and new events for a known order change nothing but the timeline.
//
// Concurrent calls share transactions (see GroupCommit), which store their
// webhooks together, a table at a time; if that fails, each webhook is
// written again alone, in a savepoint of its own, so that one failing
// webhook leaves the others of its transaction unharmed. Each call returns
// after the transaction holding its webhook commits.
//
// The orders a transaction created are emitted together, as one
// OrdersCreated; a stored integration-created webhook emits
// IntegrationCreated; orders of an integration never heard of emit
// IntegrationUnknown; an integration-state-changed webhook that makes an
// integration usable, or an integration-deleted one, emits ParkedWake when
// work is parked for it.
//
// It returns an *orders.Error with EUNPROCESSABLE for an order of an
// integration that is deleted or inactive (nothing is stored then), and an
// error for which IsUnavailable is true when the database cannot commit.
func (s *Store) Intake(ctx context.Context, in *Intake) (res *IntakeResult, err error) {
	if err := s.prepare(in); err != nil {
		return nil, err
	}
	defer func() { s.health.record(err) }()
	if s.group.cfg.MaxItems > 1 {
		w := &intakeWrite{s: s, in: in}
		if err := s.group.do(ctx, w); err != nil {
			return nil, err
		}
		return w.res, nil
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if res, err = s.intakeOne(ctx, tx, in); err != nil {
			return err
		}
		if res.created() {
			return s.ordersCreated(ctx, tx, []*orders.Order{res.Order})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// CreateOrder stores an order found other than through a webhook (by
// reconciliation), through the same path as a webhook order: the same
// dedupe, the same jobs (OrdersCreated). It reports whether the order was
// new.
func (s *Store) CreateOrder(ctx context.Context, o *kombo.Order, source orders.Source) (*orders.Order, bool, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, false, err
	}
	var out intakeOutcome
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		created, err := s.storeOrders(ctx, tx, []orderIntake{{order: o, data: data, source: source, out: &out}})
		if err != nil {
			return err
		}
		if out.err != nil {
			return out.err
		}
		return s.ordersCreated(ctx, tx, created)
	})
	if err != nil {
		return nil, false, err
	}
	return out.res.Order, !out.res.Duplicate, nil
}

// Webhooks are stored a table at a time, however many there are: one
// multi-row INSERT for the webhook events, one for the orders, one for their
// "received" timeline events. Written one by one, each webhook cost a
// savepoint and four statements, and the statements' fixed cost was most of
// what a webhook cost the database (docs/benchmarks.md). A single webhook is
// a batch of one: there is no other path.
//
// Anything unusual for one webhook (an integration's event, a redelivery,
// an inline order's link) is done for it alone, around those statements.

// intakeOutcome is what storing one webhook of a batch came to: its result,
// or the reason it was refused, in which case nothing of it is stored.
type intakeOutcome struct {
	res *IntakeResult
	err error
}

// intakeOne stores one webhook in tx: a batch of one. Its error is the
// webhook's, refusal or failure.
func (s *Store) intakeOne(ctx context.Context, tx *sql.Tx, in *Intake) (*IntakeResult, error) {
	out, err := s.intakeBatch(ctx, tx, []*Intake{in})
	if err != nil {
		return nil, err
	}
	return out[0].res, out[0].err
}

// intakeBatch stores the webhooks of ins in tx and returns what came of each
// one, in the order of ins. What it stores and answers is what storing them
// one by one would: the webhooks other than orders first (an integration's
// event decides whether the integration takes the orders after it), then
// the orders, each kind in the order of ins. An error means tx must be
// rolled back and nothing of the batch answered with it, but for a batch of
// one, whose error it is.
func (s *Store) intakeBatch(ctx context.Context, tx *sql.Tx, ins []*Intake) ([]intakeOutcome, error) {
	out := make([]intakeOutcome, len(ins))
	var (
		others    []*Intake
		othersOut []*intakeOutcome
		ords      []orderIntake
	)
	for i, in := range ins {
		w := in.Webhook
		if w.Order == nil {
			others, othersOut = append(others, in), append(othersOut, &out[i])
			continue
		}
		ords = append(ords, orderIntake{order: w.Order, data: w.Data, source: webhookSource(w), in: in, out: &out[i]})
	}
	if err := s.intakeOthers(ctx, tx, others, othersOut); err != nil {
		return nil, err
	}
	if _, err := s.storeOrders(ctx, tx, ords); err != nil {
		return nil, err
	}
	return out, nil
}

// intakeOthers stores the webhooks of ins, none about an order, setting
// outs[i] for ins[i]: their events in one statement, then, for each event
// stored for the first time, what an integration's event says.
func (s *Store) intakeOthers(ctx context.Context, tx *sql.Tx, ins []*Intake, outs []*intakeOutcome) error {
	if len(ins) == 0 {
		return nil
	}
	now := s.nowMillis()
	first := make([]bool, len(ins)) // the first of ins with its event id
	seen := make(map[string]bool, len(ins))
	rows := make([]any, 0, len(ins)*eventCols)
	for i, in := range ins {
		if first[i] = !seen[in.Webhook.ID]; first[i] {
			seen[in.Webhook.ID] = true
			rows = s.appendEvent(rows, in, now)
		}
	}
	newEvents, err := s.insertIDs(ctx, tx, insertEvents, rows, eventCols)
	if err != nil {
		return unavailable(fmt.Errorf("insert webhook events: %w", err))
	}
	for i, in := range ins {
		// A redelivered event was applied when it was first stored.
		applied := first[i] && newEvents[in.Webhook.ID]
		*outs[i] = intakeOutcome{res: &IntakeResult{Duplicate: !applied}}
		if applied {
			if err := s.applyIntegrationEvent(ctx, tx, in.Webhook); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyIntegrationEvent stores what an integration's event says about it;
// events of other types it ignores.
func (s *Store) applyIntegrationEvent(ctx context.Context, tx *sql.Tx, w *kombo.Webhook) error {
	switch {
	case w.IntegrationCreated != nil:
		d := w.IntegrationCreated
		if err := s.upsertIntegration(ctx, tx, &orders.Integration{
			ID: d.ID, Tool: d.Tool, Category: d.Category, OrganizationName: d.EndUser.OrganizationName,
			OriginID: d.EndUser.OriginID, CreatorEmail: d.EndUser.CreatorEmail, State: kombo.IntegrationStateActive,
		}); err != nil {
			return err
		}
		if err := s.happened(ctx, tx, IntegrationCreated{IntegrationID: d.ID}); err != nil {
			return err
		}
	case w.IntegrationDeleted != nil:
		d := w.IntegrationDeleted
		deletedAt := s.Now().UTC()
		if t, err := time.Parse(time.RFC3339, d.DeletedAt); err == nil {
			deletedAt = t.UTC()
		}
		i := &orders.Integration{
			ID: d.ID, Tool: d.Tool, Category: d.Category, OrganizationName: d.EndUser.OrganizationName,
			OriginID: d.EndUser.OriginID, State: orders.IntegrationDeleted, DeletedAt: &deletedAt,
		}
		if err := s.upsertIntegration(ctx, tx, i); err != nil {
			return err
		}
		return s.integrationUsable(ctx, tx, i) // its parked work runs, to skip
	case w.IntegrationStateChanged != nil:
		d := w.IntegrationStateChanged
		var was string
		if err := tx.QueryRowContext(ctx, "SELECT state FROM integrations WHERE id = $1", d.IntegrationID).Scan(&was); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return unavailable(fmt.Errorf("read integration state: %w", err))
		}
		i := &orders.Integration{
			ID: d.IntegrationID, Tool: d.IntegrationTool, Category: d.IntegrationCategory,
			OrganizationName: d.EndUser.OrganizationName, OriginID: d.EndUser.OriginID, CreatorEmail: d.EndUser.CreatorEmail,
			State: d.State, SetupStatus: d.SetupStatus, QAStatus: d.QAStatus,
		}
		if err := s.upsertIntegration(ctx, tx, i); err != nil {
			return err
		}
		if d.State == kombo.IntegrationStateInvalid && was != kombo.IntegrationStateInvalid && was != orders.IntegrationDeleted {
			if err := s.happened(ctx, tx, IntegrationInvalid{IntegrationID: d.IntegrationID}); err != nil {
				return err
			}
		}
		return s.integrationUsable(ctx, tx, i) // wakes the work parked for its setup
	}
	return nil
}

// orderIntake is one order to store: a webhook's, or one found by
// reconciliation.
type orderIntake struct {
	order  *kombo.Order
	data   []byte // Kombo's order JSON as received, kept as it is
	source orders.Source
	in     *Intake        // the webhook that brought it; nil for reconciliation
	out    *intakeOutcome // where what came of it goes

	firstEvent bool // the first of the batch with its event id
	firstOrder bool // the first of the batch with its order id
	prep       *orderPrep
}

// prepared returns the order's prepared row: its webhook's, made by
// Intake, or, for an order found by reconciliation, made once here.
func (it *orderIntake) prepared(s *Store) (*orderPrep, error) {
	if it.prep != nil {
		return it.prep, nil
	}
	if it.in != nil && it.in.prep != nil && it.in.prep.order != nil {
		it.prep = it.in.prep.order
		return it.prep, nil
	}
	p, err := s.prepareOrder(it.order, it.data, it.source, it.eventID())
	if err != nil {
		return nil, err
	}
	it.prep = p
	return p, nil
}

// eventID returns the id of the webhook event that brought the order, or "".
func (it *orderIntake) eventID() string {
	if it.in == nil {
		return ""
	}
	return it.in.Webhook.ID
}

// storeOrders stores the orders of items in tx, with their webhooks'
// events, a table at a time, setting each one's outcome, and returns the
// orders it created. Of several items with one order id, the first creates
// it and the others are its duplicates, on its timeline if their event is
// new.
func (s *Store) storeOrders(ctx context.Context, tx *sql.Tx, items []orderIntake) ([]*orders.Order, error) {
	taken := make([]*orderIntake, 0, len(items))
	accepts := map[string]error{} // by integration id: nil, or why not
	var unknown []string          // integrations never heard of, in order
	for i := range items {
		it := &items[i]
		id := it.order.IntegrationID
		reason, seen := accepts[id]
		if !seen {
			integ, err := s.findIntegration(ctx, tx, id)
			if err != nil && orders.ErrorCode(err) != orders.ENOTFOUND {
				return nil, err
			}
			if integ == nil {
				unknown = append(unknown, id)
			}
			reason = refuseOrders(integ, id)
			accepts[id] = reason
		}
		if reason != nil {
			*it.out = intakeOutcome{err: reason} // nothing stored
			continue
		}
		taken = append(taken, it)
	}
	if len(taken) == 0 {
		return nil, nil
	}
	for _, id := range unknown {
		// Its integration-created webhook was missed: fetch it from Kombo.
		if err := s.happened(ctx, tx, IntegrationUnknown{IntegrationID: id}); err != nil {
			return nil, err
		}
	}

	now := s.nowMillis()
	events := make([]any, 0, len(taken)*eventCols)
	ords := make([]any, 0, len(taken)*orderCols)
	var eventItems []*orderIntake // whose rows events holds, in order
	seenEvent := make(map[string]bool, len(taken))
	seenOrder := make(map[string]bool, len(taken))
	for _, it := range taken {
		o := it.order
		if it.in != nil {
			if it.firstEvent = !seenEvent[it.in.Webhook.ID]; it.firstEvent {
				seenEvent[it.in.Webhook.ID] = true
				events = s.appendEvent(events, it.in, now)
				eventItems = append(eventItems, it)
			}
		}
		if it.firstOrder = !seenOrder[o.ID]; it.firstOrder {
			seenOrder[o.ID] = true
			p, err := it.prepared(s)
			if err != nil {
				return nil, err
			}
			ords = append(ords, o.ID, o.IntegrationID, o.PackageID, string(o.Status), string(orders.StateReceived),
				string(it.source), nullString(it.eventID()), p.email, p.data, now, now)
		}
	}
	created, err := s.insertIDs(ctx, tx, insertOrders, ords, orderCols)
	if err != nil {
		return nil, unavailable(fmt.Errorf("insert orders: %w", err))
	}
	// The events are keyed by their order's created_at (order_at, see
	// migration 0013): now for the orders just created, read for the
	// others, the redeliveries' (a few in a hundred).
	var newEvents map[string]bool
	if len(events) > 0 {
		var known []string
		for _, it := range taken {
			if it.firstEvent && !created[it.order.ID] {
				known = append(known, it.order.ID)
			}
		}
		createdAt, err := s.ordersCreatedAt(ctx, tx, known)
		if err != nil {
			return nil, err
		}
		for i, it := range eventItems {
			if !created[it.order.ID] {
				events[i*eventCols+eventOrderAt] = createdAt[it.order.ID]
			}
		}
		if newEvents, err = s.insertIDs(ctx, tx, insertEvents, events, eventCols); err != nil {
			return nil, unavailable(fmt.Errorf("insert webhook events: %w", err))
		}
	}

	// The timeline: every created order's "received" first, in one
	// statement, then what only some need, one by one.
	received := make([]any, 0, len(created)*5)
	var made []*orders.Order
	for _, it := range taken {
		o := it.order
		if !it.firstOrder || !created[o.ID] {
			continue
		}
		p, err := it.prepared(s)
		if err != nil {
			return nil, err
		}
		received = append(received, o.ID, now, now, orders.OrderReceived{}.Kind(), p.received) // order_at: the order's created_at
		// What was just inserted, without reading it back: the intake's
		// hottest path (docs/benchmarks.md).
		stored := &orders.Order{Order: *o, State: orders.StateReceived, Source: it.source, EventID: it.eventID(),
			CreatedAt: fromMillis(now), UpdatedAt: fromMillis(now)}
		*it.out = intakeOutcome{res: &IntakeResult{Order: stored}}
		made = append(made, stored)
	}
	if len(received) > 0 {
		if _, err := tx.ExecContext(ctx, multiValues(s.db.Dialect, insertTimeline, len(received)/5, 5), received...); err != nil {
			return nil, unavailable(fmt.Errorf("insert order events: %w", err))
		}
	}
	for _, it := range taken {
		o := it.order
		if it.out.res == nil { // not the item that created the order
			if it.in != nil && it.firstEvent && newEvents[it.in.Webhook.ID] {
				if err := s.addEvent(ctx, tx, o.ID, orders.OrderDuplicate{EventID: it.in.Webhook.ID, Source: it.source}); err != nil {
					return nil, err
				}
				if err := s.forgetIfErased(ctx, tx, o.ID, it.in.Webhook.ID); err != nil {
					return nil, err
				}
			}
			stored, err := s.findOrder(ctx, tx, o.ID)
			if err != nil {
				return nil, err
			}
			*it.out = intakeOutcome{res: &IntakeResult{Order: stored, Duplicate: true}}
		}
		if it.in != nil && it.in.TokenHash != "" && it.out.res.Order.ErasedAt == nil {
			if err := s.addLink(ctx, tx, o.ID, it.in.TokenHash); err != nil {
				return nil, err
			}
		}
	}
	return made, nil
}

// appendEvent appends the row of in's webhook event to rows. Only an order
// webhook's body is kept, where erasure and export reach it by its order;
// of other webhooks, what assessgate uses of them is applied, and the
// event is recorded by id and type (and integration) only.
func (s *Store) appendEvent(rows []any, in *Intake, now int64) []any {
	w := in.Webhook
	orderID, integrationID := webhookRefs(w)
	body := []byte{}
	switch {
	case in.prep != nil:
		body = in.prep.body
	case w.Order != nil:
		body = s.sealWebhookBody(w.ID, in.Body)
	}
	var orderAt int64 // the order's created_at: now for a new one (see storeOrders)
	if orderID != "" {
		orderAt = now
	}
	return append(rows, w.ID, w.Type, nullString(orderID), orderAt, nullString(integrationID), now, body)
}

// ordersCreatedAt returns the created_at of the stored orders of ids.
func (s *Store) ordersCreatedAt(ctx context.Context, tx *sql.Tx, ids []string) (map[string]int64, error) {
	at := make(map[string]int64, len(ids))
	if len(ids) == 0 {
		return at, nil
	}
	marks, args := inList(ids, 1)
	rows, err := tx.QueryContext(ctx, "SELECT id, created_at FROM orders WHERE id IN ("+marks+")", args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read orders' creation: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t int64
		if err := rows.Scan(&id, &t); err != nil {
			return nil, unavailable(fmt.Errorf("read orders' creation: %w", err))
		}
		at[id] = t
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("read orders' creation: %w", err))
	}
	return at, nil
}

// webhookRefs returns the order and integration a webhook is about.
func webhookRefs(w *kombo.Webhook) (orderID, integrationID string) {
	switch {
	case w.Order != nil:
		return w.Order.ID, w.Order.IntegrationID
	case w.IntegrationCreated != nil:
		return "", w.IntegrationCreated.ID
	case w.IntegrationDeleted != nil:
		return "", w.IntegrationDeleted.ID
	case w.IntegrationStateChanged != nil:
		return "", w.IntegrationStateChanged.IntegrationID
	}
	return "", ""
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

func (s *Store) addLink(ctx context.Context, tx *sql.Tx, orderID, tokenHash string) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO links (token_hash, order_id, created_at) VALUES ($1, $2, $3)",
		tokenHash, orderID, s.nowMillis()); err != nil {
		return unavailable(fmt.Errorf("insert link: %w", err))
	}
	return s.addEvent(ctx, tx, orderID, orders.LinkIssued{})
}

// The statements of the intake, without their VALUES rows (and, for
// insertIDs, without RETURNING), and their columns.
const (
	insertEvents = `INSERT INTO webhook_events (id, type, order_id, order_at, integration_id, received_at, body) VALUES %s
		ON CONFLICT (id) DO NOTHING`
	eventCols    = 7
	eventOrderAt = 3 // the column of order_at
	insertOrders = `INSERT INTO orders
		(id, integration_id, package_id, status, state, source, event_id, email, data, created_at, updated_at) VALUES %s
		ON CONFLICT (id) DO NOTHING`
	orderCols      = 11
	insertTimeline = `INSERT INTO order_events (order_id, order_at, at, kind, detail) VALUES %s`
)

// Group commit (see committer) writes the store's writes: intakeWrite, a
// webhook, and writeFunc, a job's write (Store.Write). storeBatch tells it
// how they go together.

// intakeWrite is a webhook for group commit, and what came of it.
type intakeWrite struct {
	s   *Store
	in  *Intake
	res *IntakeResult
}

// alone stores the webhook as a batch of one.
func (w *intakeWrite) alone(ctx context.Context, tx *sql.Tx) (err error) {
	w.res, err = w.s.intakeOne(ctx, tx, w.in)
	return err
}

// storeBatch is the store's groupBatch: a transaction's webhooks go after
// its other writes, by order and event id, and are written together by
// intakeBatch; the orders they created are emitted as one OrdersCreated.
type storeBatch struct{ s *Store }

// newCommitter returns a committer of the store's writes.
func newCommitter(s *Store, g GroupCommit, pool *sql.DB) *committer {
	return newGroupCommitter(g, pool, s.db.Dialect, s.logger, storeBatch{s})
}

func (b storeBatch) key(w groupWrite) (groupKey, bool) {
	iw, ok := w.(*intakeWrite)
	if !ok {
		return groupKey{}, false
	}
	orderID, _ := webhookRefs(iw.in.Webhook)
	return groupKey{orderID, iw.in.Webhook.ID}, true
}

func (b storeBatch) together(ctx context.Context, tx *sql.Tx, ws []groupWrite) ([]error, error) {
	ins := make([]*Intake, len(ws))
	for i, w := range ws {
		ins[i] = w.(*intakeWrite).in
	}
	out, err := b.s.intakeBatch(ctx, tx, ins)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(ws))
	for i, w := range ws {
		w.(*intakeWrite).res, errs[i] = out[i].res, out[i].err
	}
	return errs, nil
}

func (b storeBatch) committing(ctx context.Context, tx *sql.Tx, ws []groupWrite) error {
	var created []*orders.Order
	for _, w := range ws {
		if iw, ok := w.(*intakeWrite); ok && iw.res.created() {
			created = append(created, iw.res.Order)
		}
	}
	return b.s.ordersCreated(ctx, tx, created)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
