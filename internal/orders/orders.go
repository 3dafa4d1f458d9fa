// Package orders is assessgate's domain: assessment orders as Kombo sends
// them, the state assessgate keeps for each, the integrations they belong to,
// and the timeline of everything that happened to an order. It depends on
// nothing else in the project but Kombo's wire types; storage and transport
// adapters depend on it.
package orders

import (
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// Source says how assessgate learnt of an order.
type Source string

// The sources of an order.
const (
	SourceWebhook   Source = "webhook"   // assessment:order-received
	SourceInline    Source = "inline"    // inline-assessment:order-received
	SourceReconcile Source = "reconcile" // found by polling Kombo's open orders
)

// Order is an assessment order: Kombo's data as received, plus assessgate's
// state and timestamps.
type Order struct {
	kombo.Order

	// TenantID is the vendor's id of the customer the order comes from: its
	// integration's end_user.origin_id; nil while the integration is not
	// known or has none.
	TenantID *string
	// Language is the language a re-invitation asked for (one of
	// Languages); "" until then: the tenant's choice (see
	// TenantSettings.LanguageOf).
	Language string

	State     State
	Source    Source
	EventID   string // the webhook event that first delivered the order, if any
	CreatedAt time.Time
	UpdatedAt time.Time
	InvitedAt *time.Time
	StartedAt *time.Time
	ExpiresAt *time.Time
	ClosedAt  *time.Time // when the order reached a final state
	// ErasedAt is when the order's personal data was erased (see Erase);
	// nil while it is held.
	ErasedAt *time.Time

	// Timeline is filled in by FindOrderByID only.
	Timeline []Event
}

// OrderFilter selects orders. Nil fields do not filter.
type OrderFilter struct {
	Status        *kombo.OrderStatus
	State         *State
	IntegrationID *string
	PackageID     *string
	Email         *string
	TenantID      *string // orders of the integrations of this tenant

	// Cursor continues a listing where a previous page ended; Limit caps the
	// page size.
	Cursor string
	Limit  int
}

// Integration is a customer's connected ATS, as Kombo's integration webhooks
// describe it.
type Integration struct {
	ID               string
	Tool             string
	Category         string
	OrganizationName string
	OriginID         *string // the tenant: the vendor's id of the customer
	CreatorEmail     *string // who connected it; where a reconnection link goes
	State            string  // ACTIVE, INVALID, INACTIVE, or DELETED once deleted
	SetupStatus      string
	QAStatus         string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	DeletedAt        *time.Time

	// The last push of the package catalogue: the pushed list's hash, when,
	// Kombo's warnings, and the error of the last failed attempt.
	PackagesHash     string
	PackagesPushedAt *time.Time
	PushWarnings     []string
	PushError        string

	// RelinkURL is the last reconnection link made for it (Kombo's relink,
	// when it turned INVALID or on request), and RelinkAt when.
	RelinkURL string
	RelinkAt  *time.Time

	// Filled in by the store's ListIntegrations only: its orders that are
	// OPEN on Kombo's side, and when its last order came.
	OpenOrders  int
	LastOrderAt *time.Time
}

// IntegrationDeleted is the State of an integration Kombo told us it deleted.
const IntegrationDeleted = "DELETED"

// AcceptsOrders reports whether new orders for the integration are taken.
// An unknown integration (nil) accepts orders: Kombo may send the first order
// before the integration-created webhook.
func (i *Integration) AcceptsOrders() bool {
	return i == nil || (i.State != IntegrationDeleted && i.State != kombo.IntegrationStateInactive)
}
