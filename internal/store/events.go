package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/assessgate/assessgate/internal/orders"
)

// Events is told what a store write did, inside the transaction that does
// it and before the commit, so that what it inserts (jobs) commits or rolls
// back with the data that causes it. An error rolls the transaction back
// and is returned by the store method; its code (orders.ErrorCode) is kept,
// so an implementation may refuse a write with, say, ECONFLICT.
//
// jobs.Events is the one implementation in assessgate. Each store method
// that emits an event says which in its doc comment.
type Events interface {
	Happened(ctx context.Context, tx *sql.Tx, e Event) error
}

// EventsFunc is a function that is an Events.
type EventsFunc func(ctx context.Context, tx *sql.Tx, e Event) error

// Happened calls f.
func (f EventsFunc) Happened(ctx context.Context, tx *sql.Tx, e Event) error { return f(ctx, tx, e) }

// Event is one of the types below.
type Event interface{ storeEvent() }

// OrdersCreated is emitted once per transaction that created orders, with
// all of them: webhooks' (inline or not) and reconciliation's. Group commit
// stores many webhooks in one transaction, so their jobs can be inserted in
// one statement rather than one each (docs/benchmarks.md).
type OrdersCreated struct{ Orders []*orders.Order }

// IntegrationCreated is emitted when an integration-created webhook is
// stored.
type IntegrationCreated struct{ IntegrationID string }

// IntegrationUnknown is emitted when orders were taken for an integration
// assessgate has not heard of (its integration-created webhook was missed):
// it is to be fetched from Kombo (DiscoverIntegration).
type IntegrationUnknown struct{ IntegrationID string }

// ParkedWake is emitted, with the jobs parked for an integration, when
// they are to run now: the integration became usable (active, setup
// complete), or was deleted (they then skip). See Park.
type ParkedWake struct {
	IntegrationID string
	JobIDs        []int64
}

// IntegrationInvalid is emitted when an integration-state-changed webhook
// turns an integration INVALID: its customer must reconnect it.
type IntegrationInvalid struct{ IntegrationID string }

// PackagesChanged is emitted when the package catalogue changed, with the
// active integrations it must be pushed to.
type PackagesChanged struct{ IntegrationIDs []string }

// ResultAccepted is emitted when a result for an order is accepted; Order
// is the order as the result left it.
type ResultAccepted struct {
	Order  *orders.Order
	Result *orders.Result
}

// OrderStarted is emitted when a candidate first opens a link of an order.
type OrderStarted struct{ Order *orders.Order }

// InvitationRequested is emitted when the vendor asks for an order's
// invitation to be sent again. An Events that does not e-mail invitations
// refuses it with an ECONFLICT error.
type InvitationRequested struct{ Order *orders.Order }

// OrdersErased is emitted when the personal data of orders was erased, with
// the orders as the erasure left them.
type OrdersErased struct{ Orders []*orders.Order }

func (OrdersCreated) storeEvent()       {}
func (IntegrationCreated) storeEvent()  {}
func (IntegrationUnknown) storeEvent()  {}
func (ParkedWake) storeEvent()          {}
func (IntegrationInvalid) storeEvent()  {}
func (PackagesChanged) storeEvent()     {}
func (ResultAccepted) storeEvent()      {}
func (OrderStarted) storeEvent()        {}
func (InvitationRequested) storeEvent() {}
func (OrdersErased) storeEvent()        {}

// happened tells s's Events of e, inside tx.
func (s *Store) happened(ctx context.Context, tx *sql.Tx, e Event) error {
	if err := s.events.Happened(ctx, tx, e); err != nil {
		return fmt.Errorf("%T: %w", e, err)
	}
	return nil
}

// NoEvents is the Events of a store made without one: nothing reacts, and
// an invitation cannot be requested.
var NoEvents Events = noEvents{}

type noEvents struct{}

func (noEvents) Happened(_ context.Context, _ *sql.Tx, e Event) error {
	if _, ok := e.(InvitationRequested); ok {
		return orders.Errorf(orders.ECONFLICT, "assessgate does not e-mail invitations: ASSESSGATE_SMTP_URL is not set")
	}
	return nil
}
