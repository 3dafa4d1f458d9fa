package jobs

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// Events is what a stored change causes: it is the store's store.Events,
// and inserts, in the transaction of the change, the jobs each event
// causes. This file is the whole list.
type Events struct {
	queue       *Client
	vendor      *Vendor
	invitations bool
	clock       clock.Clock
}

// EventsConfig is what Events is made with.
type EventsConfig struct {
	// Queue inserts the jobs (NewQueue).
	Queue *Client
	// Vendor, if enabled, is told of orders created, started, completed,
	// cancelled and erased.
	Vendor *Vendor
	// Invitations is true when assessgate e-mails invitations (SMTP is
	// set): a re-invitation then becomes an invitation job, and is refused
	// otherwise.
	Invitations bool
	Clock       clock.Clock
}

// NewEvents returns the Events of cfg.
func NewEvents(cfg EventsConfig) *Events {
	return &Events{queue: cfg.Queue, vendor: cfg.Vendor, invitations: cfg.Invitations, clock: clock.Or(cfg.Clock)}
}

var _ store.Events = (*Events)(nil)

// Happened inserts in tx the jobs that e causes.
func (ev *Events) Happened(ctx context.Context, tx *sql.Tx, e store.Event) error {
	switch e := e.(type) {
	case store.OrdersCreated:
		// The orders of a transaction are invited by one job, and the
		// vendor told in one insert: group commit puts many orders in one
		// transaction (InviteManyArgs; docs/benchmarks.md).
		var ids []string
		for _, o := range e.Orders {
			if o.Source != orders.SourceInline { // the candidate has the link already
				ids = append(ids, o.ID)
			}
		}
		if len(ids) > 0 {
			if _, err := ev.queue.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: InviteManyArgs{OrderIDs: ids}}}); err != nil {
				return fmt.Errorf("enqueue invitations: %w", err)
			}
		}
		return ev.vendor.Enqueue(ctx, tx, ev.queue, EventOrderCreated, e.Orders...)

	case store.IntegrationCreated:
		return ev.pushPackages(ctx, tx, e.IntegrationID)

	case store.IntegrationUnknown:
		if _, err := ev.queue.InsertTx(ctx, tx, DiscoverIntegrationArgs{IntegrationID: e.IntegrationID}, nil); err != nil {
			return fmt.Errorf("enqueue integration discovery: %w", err)
		}
		return nil

	case store.ParkedWake:
		return wake(ctx, ev.queue, tx, e.IntegrationID, e.JobIDs)

	case store.IntegrationInvalid:
		if _, err := ev.queue.InsertTx(ctx, tx, RelinkArgs{IntegrationID: e.IntegrationID}, nil); err != nil {
			return fmt.Errorf("enqueue relink: %w", err)
		}
		return nil

	case store.PackagesChanged:
		return ev.pushPackages(ctx, tx, e.IntegrationIDs...)

	case store.ResultAccepted:
		if _, err := ev.queue.InsertTx(ctx, tx, WritebackArgs{OrderID: e.Order.ID, IntegrationID: e.Order.IntegrationID}, nil); err != nil {
			return fmt.Errorf("enqueue write-back: %w", err)
		}
		// An expired order's CANCELLED result was announced as order.expired.
		switch e.Order.State {
		case orders.StateCompleted:
			return ev.vendor.Enqueue(ctx, tx, ev.queue, EventOrderCompleted, e.Order)
		case orders.StateCancelled:
			return ev.vendor.Enqueue(ctx, tx, ev.queue, EventOrderCancelled, e.Order)
		}
		return nil

	case store.OrderStarted:
		return ev.vendor.Enqueue(ctx, tx, ev.queue, EventOrderStarted, e.Order)

	case store.InvitationRequested:
		if !ev.invitations {
			return orders.Errorf(orders.ECONFLICT, "assessgate does not e-mail invitations: ASSESSGATE_SMTP_URL is not set")
		}
		_, err := ev.queue.InsertTx(ctx, tx, InviteArgs{OrderID: e.Order.ID, RequestedAt: ev.clock.Now().UnixMilli()}, nil)
		return err

	case store.OrdersErased:
		return ev.vendor.Enqueue(ctx, tx, ev.queue, EventOrderErased, e.Orders...)
	}
	return fmt.Errorf("unknown store event %T", e)
}

// pushPackages enqueues a push of the package catalogue to each integration.
func (ev *Events) pushPackages(ctx context.Context, tx *sql.Tx, integrationIDs ...string) error {
	for _, id := range integrationIDs {
		if _, err := ev.queue.InsertTx(ctx, tx, PushPackagesArgs{IntegrationID: id}, nil); err != nil {
			return fmt.Errorf("enqueue package push: %w", err)
		}
	}
	return nil
}
