package assessgate

import (
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/server"
	"github.com/assessgate/assessgate/internal/store"
)

// Config is the whole configuration of a running assessgate: what
// "assessgate serve" reads from its flags and the environment (see the
// README's configuration table), plus what the process hands it.
type Config struct {
	Addr           string
	DatabaseURL    string
	WebhookSecrets []string
	APITokens      []string
	// Packages is the catalogue of PackagesFile; nil without a file (the
	// stored catalogue stands).
	Packages      []orders.Package
	PackagesFile  string
	AssessmentURL string // empty: a placeholder, with a warning
	// Migrate applies pending migrations on Postgres (always on SQLite).
	Migrate bool

	KomboAPIKey       string
	KomboAPIURL       string
	KomboConcurrency  int
	KomboTimeout      time.Duration
	ReconcileInterval time.Duration
	RetryBase         time.Duration
	// ParkedMaxAge bounds how long work waits parked (an integration's
	// setup, KOMBO_API_KEY) before it becomes a dead letter; zero: 7 days.
	ParkedMaxAge time.Duration
	// ParkedCheckInterval is how often the integrations that work is parked
	// for are read back from Kombo; zero: 10 minutes.
	ParkedCheckInterval time.Duration

	// Several replicas on one Postgres: see the README's "Postgres and
	// replicas".
	ReplicaName       string
	RescueAfter       time.Duration
	HeartbeatInterval time.Duration
	JobWorkers        int

	Candidates    CandidatesConfig
	Privacy       PrivacyConfig
	AdminPassword string // empty: admin pages off
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (ASSESSGATE_TRUSTED_PROXIES).
	TrustedProxies proxy.Trusted

	// DebugAddr, if set, serves net/http/pprof there, apart from the API.
	DebugAddr string
	// GroupCommit is how concurrent webhooks share transactions.
	GroupCommit store.GroupCommit
	// NoWriteRoute mounts the benchmarks' no-write webhook route.
	NoWriteRoute bool

	// Logger is the program's one logger; nil logs nothing.
	Logger *slog.Logger
	// Stdout is told "listening on http://ADDR" once the listener is bound;
	// nil: nobody is.
	Stdout io.Writer
	// Clock is the time the store, River and the admin pages go by; nil:
	// the wall clock. Tests pass a *clock.Stub.
	Clock clock.Clock
}

// CandidatesConfig is the candidate side: e-mail, links, reminders, expiry
// and vendor webhooks.
type CandidatesConfig struct {
	SMTPURL             string // empty: invitations are not e-mailed
	MailFrom            string
	TemplatesDir        string
	PublicURL           string
	ReminderAfter       time.Duration
	InviteTTL           time.Duration
	ExpiryWriteback     bool
	VendorWebhookURL    string // empty: no vendor webhooks
	VendorWebhookSecret string
	// RelinkEmail e-mails an INVALID integration's reconnection link to
	// its creator (ASSESSGATE_RELINK_EMAIL); needs SMTPURL.
	RelinkEmail bool
	// Notice, if set, is the page a candidate sees before the assessment
	// (ASSESSGATE_CANDIDATE_NOTICE): who processes their data, and the
	// vendor's privacy policy (ASSESSGATE_VENDOR_NAME,
	// ASSESSGATE_PRIVACY_URL).
	Notice *server.Notice
}

// PrivacyConfig is how personal data is kept: the keys that seal it, and
// how long it is kept.
type PrivacyConfig struct {
	Keys *keyring.Keyring // nil: stored in clear
	// Retention is how long after an order closed its personal data is
	// kept; 0 keeps it.
	Retention time.Duration
	// DeletedIntegrationGrace is how long after Kombo deleted an
	// integration its orders' personal data is kept; 0 keeps it.
	DeletedIntegrationGrace time.Duration
	// RetentionInterval is how often the retention job runs.
	RetentionInterval time.Duration
}

// policy is the store's retention policy of c.
func (c PrivacyConfig) policy() store.Retention {
	return store.Retention{AfterClose: c.Retention, AfterIntegrationDeleted: c.DeletedIntegrationGrace}
}

// DefaultAssessmentURL is the placeholder candidate link of a Config
// without AssessmentURL.
const DefaultAssessmentURL = "http://localhost:8080/assessment/{order_id}?token={token}"

// FormatDuration formats d as the configuration takes it: whole days as
// "14d", others in Go's syntax.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
