package orders

import (
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// Result is a result the vendor's platform posted for an order, to be
// written back to Kombo. Results of one order are delivered in order; a
// later result supersedes an undelivered earlier one.
type Result struct {
	ID          int64
	OrderID     string
	Request     kombo.ResultRequest
	CreatedAt   time.Time
	DeliveredAt *time.Time
	Warnings    []string // Kombo's warnings on delivery
}

// ClosingState returns the state an order reaches when a result with Kombo
// status st is accepted, and whether st closes the order at all (OPEN
// carries interim data and does not).
func ClosingState(st kombo.OrderStatus) (State, bool) {
	switch st {
	case kombo.OrderStatusCompleted:
		return StateCompleted, true
	case kombo.OrderStatusCancelled:
		return StateCancelled, true
	}
	return "", false
}
