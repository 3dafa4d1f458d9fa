package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// Intake is one verified Kombo webhook to store.
type Intake struct {
	Webhook *kombo.Webhook
	// Body is the raw request body, kept for audit and replay.
	Body []byte
	// TokenHash, for inline orders, is the hash of the candidate link token
	// handed out in the answer to this webhook.
	TokenHash string
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
// Concurrent calls share transactions (see GroupCommit): each webhook is
// written in a savepoint of its own, so that one failing webhook leaves the
// others of its transaction unharmed, and each call returns after the
// transaction holding its webhook commits.
//
// The orders a transaction created are emitted together, as one
// OrdersCreated; a stored integration-created webhook emits
// IntegrationCreated.
//
// It returns an *orders.Error with EUNPROCESSABLE for an order of an
// integration that is deleted or inactive (nothing is stored then), and an
// error for which IsUnavailable is true when the database cannot commit.
func (s *Store) Intake(ctx context.Context, in *Intake) (*IntakeResult, error) {
	if s.group.cfg.MaxItems > 1 {
		return s.group.intake(ctx, in)
	}
	var res *IntakeResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if res, err = s.intake(ctx, tx, in); err != nil {
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

func (s *Store) intake(ctx context.Context, tx *sql.Tx, in *Intake) (*IntakeResult, error) {
	w := in.Webhook
	now := s.nowMillis()
	orderID, integrationID := webhookRefs(w)
	// Rows affected, not RETURNING, tells whether a row was inserted: on
	// SQLite a statement without rows to hand back costs less.
	r, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, order_id, integration_id, received_at, body)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		w.ID, w.Type, nullString(orderID), nullString(integrationID), now, s.sealWebhookBody(w.ID, in.Body))
	newEvent, err := inserted(r, err)
	if err != nil {
		return nil, unavailable(fmt.Errorf("insert webhook event: %w", err))
	}

	res := &IntakeResult{Duplicate: !newEvent}
	switch {
	case w.Order != nil:
		o, created, err := s.createOrder(ctx, tx, w.Order, w.Data, webhookSource(w), w.ID, newEvent)
		if err != nil {
			return nil, err
		}
		if in.TokenHash != "" && o.ErasedAt == nil {
			if err := s.addLink(ctx, tx, o.ID, in.TokenHash); err != nil {
				return nil, err
			}
		}
		res.Order, res.Duplicate = o, !created
	case !newEvent:
		// A redelivered integration event: already applied.
	case w.IntegrationCreated != nil:
		d := w.IntegrationCreated
		if err := s.upsertIntegration(ctx, tx, &orders.Integration{
			ID: d.ID, Tool: d.Tool, Category: d.Category, OrganizationName: d.EndUser.OrganizationName,
			OriginID: d.EndUser.OriginID, State: kombo.IntegrationStateActive,
		}); err != nil {
			return nil, err
		}
		if err := s.happened(ctx, tx, IntegrationCreated{IntegrationID: d.ID}); err != nil {
			return nil, err
		}
	case w.IntegrationDeleted != nil:
		d := w.IntegrationDeleted
		deletedAt := s.Now().UTC()
		if t, err := time.Parse(time.RFC3339, d.DeletedAt); err == nil {
			deletedAt = t.UTC()
		}
		if err := s.upsertIntegration(ctx, tx, &orders.Integration{
			ID: d.ID, Tool: d.Tool, Category: d.Category, OrganizationName: d.EndUser.OrganizationName,
			OriginID: d.EndUser.OriginID, State: orders.IntegrationDeleted, DeletedAt: &deletedAt,
		}); err != nil {
			return nil, err
		}
	case w.IntegrationStateChanged != nil:
		d := w.IntegrationStateChanged
		if err := s.upsertIntegration(ctx, tx, &orders.Integration{
			ID: d.IntegrationID, Tool: d.IntegrationTool, Category: d.IntegrationCategory,
			OrganizationName: d.EndUser.OrganizationName, OriginID: d.EndUser.OriginID,
			State: d.State, SetupStatus: d.SetupStatus, QAStatus: d.QAStatus,
		}); err != nil {
			return nil, err
		}
	}
	return res, nil
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

// CreateOrder stores an order found other than through a webhook (by
// reconciliation), through the same path as a webhook order: the same
// dedupe, the same jobs (OrdersCreated). It reports whether the order was
// new.
func (s *Store) CreateOrder(ctx context.Context, o *kombo.Order, source orders.Source) (*orders.Order, bool, error) {
	var (
		stored  *orders.Order
		created bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if stored, created, err = s.createOrder(ctx, tx, o, data, source, "", true); err != nil || !created {
			return err
		}
		return s.ordersCreated(ctx, tx, []*orders.Order{stored})
	})
	return stored, created, err
}

// createOrder inserts an order unless one with its id exists, and returns the
// stored order and whether it was created. data is Kombo's order JSON as
// received, kept as it is.
func (s *Store) createOrder(ctx context.Context, tx *sql.Tx, ko *kombo.Order, data []byte, source orders.Source, eventID string, newEvent bool) (*orders.Order, bool, error) {
	integ, err := s.findIntegration(ctx, tx, ko.IntegrationID)
	if err != nil && orders.ErrorCode(err) != orders.ENOTFOUND {
		return nil, false, err
	}
	if err := refuseOrders(integ, ko.IntegrationID); err != nil {
		return nil, false, err
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, false, fmt.Errorf("compact order data: %w", err)
	}
	now := s.nowMillis()
	r, err := tx.ExecContext(ctx, `INSERT INTO orders
		(id, integration_id, package_id, status, state, source, event_id, email, data, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
		ON CONFLICT (id) DO NOTHING`,
		ko.ID, ko.IntegrationID, ko.PackageID, string(ko.Status), string(orders.StateReceived), string(source),
		nullString(eventID), s.emailKey(ko.Candidate.Email), s.sealOrderData(ko.ID, compact.Bytes()), now)
	created, err := inserted(r, err)
	if err != nil {
		return nil, false, unavailable(fmt.Errorf("insert order: %w", err))
	}

	switch {
	case created:
		if err := s.addEvent(ctx, tx, ko.ID, orders.OrderReceived{EventID: eventID, Source: source}); err != nil {
			return nil, false, err
		}
	case newEvent && eventID != "":
		if err := s.addEvent(ctx, tx, ko.ID, orders.OrderDuplicate{EventID: eventID, Source: source}); err != nil {
			return nil, false, err
		}
		if err := s.forgetIfErased(ctx, tx, ko.ID, eventID); err != nil {
			return nil, false, err
		}
	}
	var o *orders.Order
	if created {
		// What was just inserted, without reading it back: the intake's
		// hottest path (docs/benchmarks.md).
		o = &orders.Order{Order: *ko, State: orders.StateReceived, Source: source, EventID: eventID,
			CreatedAt: fromMillis(now), UpdatedAt: fromMillis(now)}
	} else if o, err = s.findOrder(ctx, tx, ko.ID); err != nil {
		return nil, false, err
	}
	return o, created, nil
}

func (s *Store) addLink(ctx context.Context, tx *sql.Tx, orderID, tokenHash string) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO links (token_hash, order_id, created_at) VALUES ($1, $2, $3)",
		tokenHash, orderID, s.nowMillis()); err != nil {
		return unavailable(fmt.Errorf("insert link: %w", err))
	}
	return s.addEvent(ctx, tx, orderID, orders.LinkIssued{})
}

// inserted reports whether an INSERT … ON CONFLICT DO NOTHING inserted its
// row.
func inserted(r sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
