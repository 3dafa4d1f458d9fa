package orders

import (
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// Why an order's personal data was erased.
const (
	// ErasedRetention: the retention period after the order closed passed.
	ErasedRetention = "retention"
	// ErasedRequest: someone asked for a candidate's data to be erased.
	ErasedRequest = "request"
	// ErasedIntegrationDeleted: the order's integration was deleted and
	// the grace period after it passed.
	ErasedIntegrationDeleted = "integration_deleted"
)

// Who erased: the vendor API, the erase command, or assessgate itself (the
// retention job).
const (
	ActorAPI        = "api"
	ActorCLI        = "cli"
	ActorAssessgate = "assessgate"
)

// Erasure is one entry of the audit log of erasures. It holds no personal
// data: order ids, counts, when, why and who.
type Erasure struct {
	ID     int64
	At     time.Time
	Reason string // one of the Erased constants
	Actor  string // one of the Actor constants
	// Subject is, for a request, the keyed hash of the address that was
	// asked for (empty without an encryption key), and for
	// ErasedIntegrationDeleted the integration's id.
	Subject string
	// OrderIDs are the orders whose personal data was erased.
	OrderIDs []string
	// WebhookEvents is how many raw webhook bodies were erased.
	WebhookEvents int
}

// ErasedOrder returns what is kept of Kombo's order once its personal data
// is erased: the ids (the order's, the integration's, and the ATS's remote
// ids of the candidate, the application and the job), the package and the
// status. The candidate's address, names and phone, the job's name, code,
// description and location, and the hiring team are dropped, as is any
// field Kombo may add.
func ErasedOrder(o kombo.Order) kombo.Order {
	return kombo.Order{
		ID:            o.ID,
		IntegrationID: o.IntegrationID,
		PackageID:     o.PackageID,
		Status:        o.Status,
		Candidate:     kombo.Candidate{RemoteID: o.Candidate.RemoteID},
		Application:   kombo.Application{RemoteID: o.Application.RemoteID},
		Job:           kombo.Job{RemoteID: o.Job.RemoteID, HiringTeam: []kombo.HiringTeamMember{}},
	}
}

// ErasedResult returns what is kept of a result once its order's personal
// data is erased: the status, when it completed, the score and the scores
// of its sections (SUB_RESULT attributes). The result URL, free-text
// attributes, attachments and remote fields, which may name or describe the
// candidate, are dropped.
func ErasedResult(r kombo.ResultRequest) kombo.ResultRequest {
	kept := kombo.ResultRequest{Status: r.Status, CompletedAt: r.CompletedAt, Score: r.Score, MaxScore: r.MaxScore}
	for _, a := range r.Attributes {
		if a.Type == kombo.AttributeSubResult {
			kept.Attributes = append(kept.Attributes, a)
		}
	}
	return kept
}
