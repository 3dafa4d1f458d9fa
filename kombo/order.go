package kombo

// OrderStatus is the status of an assessment order on Kombo's side. Known
// values are the constants below; Kombo may add others, so keep unknown values
// as they are.
type OrderStatus string

// The order statuses Kombo documents. An order starts OPEN; only an OPEN order
// can move to another status.
const (
	OrderStatusOpen      OrderStatus = "OPEN"
	OrderStatusCompleted OrderStatus = "COMPLETED"
	OrderStatusCancelled OrderStatus = "CANCELLED"
	OrderStatusRejected  OrderStatus = "REJECTED"
)

// Valid reports whether s is one of the statuses Kombo documents.
func (s OrderStatus) Valid() bool {
	switch s {
	case OrderStatusOpen, OrderStatusCompleted, OrderStatusCancelled, OrderStatusRejected:
		return true
	}
	return false
}

// Order is an assessment order as Kombo sends it in the order webhooks and
// lists it in GET /assessment/orders. IntegrationID is empty in list results,
// which are scoped to one integration by the X-Integration-Id header.
type Order struct {
	ID            string      `json:"id"`
	IntegrationID string      `json:"integration_id,omitempty"`
	PackageID     string      `json:"package_id"`
	Status        OrderStatus `json:"status"`
	Candidate     Candidate   `json:"candidate"`
	Application   Application `json:"application"`
	Job           Job         `json:"job"`
}

// Candidate is the person an order is for. Email is the only contact field
// Kombo always sends.
type Candidate struct {
	RemoteID  *string `json:"remote_id"`
	Email     string  `json:"email"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Phone     *string `json:"phone"`
}

// Application is the candidate's application in the ATS.
type Application struct {
	RemoteID *string `json:"remote_id"`
}

// Job is the job the candidate applied for. Description is usually HTML from
// the ATS: escape it before showing it.
type Job struct {
	RemoteID    *string            `json:"remote_id"`
	Name        *string            `json:"name"`
	JobCode     *string            `json:"job_code"`
	Description *string            `json:"description"`
	Location    *Location          `json:"location"`
	HiringTeam  []HiringTeamMember `json:"hiring_team"`
}

// Location is a job's address. Every field may be null or absent.
type Location struct {
	Street1 *string `json:"street_1"`
	Street2 *string `json:"street_2"`
	City    *string `json:"city"`
	State   *string `json:"state"`
	ZipCode *string `json:"zip_code"`
	Country *string `json:"country"`
	Raw     *string `json:"raw"`
}

// HiringTeamMember is a recruiter or hiring manager on the job.
type HiringTeamMember struct {
	RemoteID        *string  `json:"remote_id"`
	Email           *string  `json:"email"`
	FirstName       *string  `json:"first_name"`
	LastName        *string  `json:"last_name"`
	HiringTeamRoles []string `json:"hiring_team_roles"`
}
