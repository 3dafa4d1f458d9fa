// Package assessgate builds a running assessgate from its Config: the database,
// the store, the jobs, the HTTP server and the admin pages, each made whole
// with what it needs, in one place. "assessgate serve" is flag parsing, New
// and Run; tests call New directly (with a stub clock) to get a wired
// assessgate without going through the command line.
package assessgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/admin"
	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/mail"
	"github.com/assessgate/assessgate/internal/metrics"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/server"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// App is a wired assessgate, ready to Run.
type App struct {
	cfg       Config
	logger    *slog.Logger
	db        *store.DB
	store     *store.Store
	catalogue *orders.Catalogue
	jobs      *jobs.Service
	server    *server.Server
	key       *keyCheck
	release   func() // gives up the ownership of a SQLite file
}

// New opens the database (migrating it on SQLite, or on Postgres when
// cfg.Migrate is set), brings stored personal data in line with the keys,
// loads the catalogue and builds every part. The App owns the database
// from then on: Run closes it. New closes it itself if it fails.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AssessmentURL == "" {
		cfg.AssessmentURL = DefaultAssessmentURL
		logger.Warn("ASSESSGATE_ASSESSMENT_URL is not set: candidate links point at a placeholder", "template", cfg.AssessmentURL)
	}
	if len(cfg.APITokens) == 0 {
		logger.Warn("ASSESSGATE_API_TOKEN is not set: the vendor API refuses every request")
	}
	if len(cfg.TrustedProxies) > 0 {
		logger.Info("X-Forwarded-For and X-Forwarded-Proto are believed from trusted proxies", "trusted_proxies", cfg.TrustedProxies.String())
	}
	weak := WeakSecrets(cfg)
	for _, w := range weak {
		logger.Warn("weak secret: anyone who guesses it gets in; use a long random value (openssl rand -base64 32)", "setting", w)
	}

	release := func() {}
	if path, ok := store.SQLitePath(cfg.DatabaseURL); ok && path != ":memory:" {
		if release, err = ownSQLite(path); err != nil {
			return nil, err
		}
	}
	db, err := OpenDatabase(ctx, cfg.DatabaseURL, cfg.Migrate, logger)
	if err != nil {
		release()
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
			release()
		}
	}()

	mailer, err := newMailer(cfg.Candidates, logger)
	if err != nil {
		return nil, err
	}
	vendor, err := newVendor(cfg, logger)
	if err != nil {
		return nil, err
	}
	if !cfg.Candidates.ExpiryWriteback {
		logger.Info("expired orders are not written back to Kombo (ASSESSGATE_EXPIRY_WRITEBACK=false)")
	}
	logPrivacy(cfg.Privacy, logger)

	// Events inserts the jobs that stored changes cause, in their
	// transactions; it needs a River client that only inserts, since the
	// one that works jobs needs the workers, which need the store.
	queue, err := jobs.NewQueue(db, logger, cfg.Clock)
	if err != nil {
		return nil, err
	}
	st := store.New(db, store.Config{
		Logger: logger, Clock: cfg.Clock, Keyring: cfg.Privacy.Keys, GroupCommit: cfg.GroupCommit,
		Events: jobs.NewEvents(jobs.EventsConfig{Queue: queue, Vendor: vendor, Invitations: mailer != nil, Clock: cfg.Clock}),
	})
	m := metrics.New(db.Reader, logger, func() (int64, int64) {
		s := st.GroupCommitStats()
		return s.Transactions, s.Items
	})
	build := ReadBuildInfo()
	m.SetBuildInfo(build.Version, build.Commit, build.GoVersion)
	m.SetWeakSecrets(len(weak))
	komboClient := newKomboClient(cfg, m, logger)
	if err := resealPersonalData(ctx, st, logger); err != nil {
		return nil, err
	}

	catalogue := orders.NewCatalogue(nil)
	var jobMailer jobs.Mailer
	if mailer != nil {
		jobMailer = mailer
	}
	svc, err := jobs.New(jobs.ServiceConfig{
		Store: st, Queue: queue, Logger: logger, Clock: cfg.Clock,
		Kombo: komboClient, KomboConcurrency: cfg.KomboConcurrency, ReconcileInterval: cfg.ReconcileInterval,
		ParkedMaxAge: cfg.ParkedMaxAge, ParkedCheckInterval: cfg.ParkedCheckInterval,
		RelinkMailer: relinkMailer(cfg, jobMailer),
		Candidates: jobs.CandidateSettings{
			Mailer: jobMailer, Catalogue: catalogue, PublicURL: cfg.Candidates.PublicURL,
			InviteTTL: cfg.Candidates.InviteTTL, ReminderAfter: cfg.Candidates.ReminderAfter,
			ExpiryWriteback: cfg.Candidates.ExpiryWriteback, Vendor: vendor,
		},
		Retention: cfg.Privacy.policy(), RetentionInterval: cfg.Privacy.RetentionInterval,
		HeartbeatInterval: cfg.HeartbeatInterval,
		Retry:             jobs.RetryPolicy{Base: cfg.RetryBase, Max: time.Hour},
		Name:              cfg.ReplicaName, RescueAfter: cfg.RescueAfter, MaxWorkers: cfg.JobWorkers,
	})
	if err != nil {
		return nil, err
	}
	if err := loadCatalogue(ctx, st, catalogue, cfg.Packages, cfg.PackagesFile, logger); err != nil {
		return nil, err
	}
	adminPages, err := newAdmin(ctx, cfg, st, svc, komboClient, logger)
	if err != nil {
		return nil, err
	}
	key := &keyCheck{kombo: komboClient, logger: logger}
	srv := server.New(server.Config{
		KomboKeyStatus: key.Status,
		Store:          st, Logger: logger, WebhookSecrets: cfg.WebhookSecrets, APITokens: cfg.APITokens,
		Catalogue: catalogue, AssessmentURL: cfg.AssessmentURL, CandidateNotice: cfg.Candidates.Notice, Jobs: svc.Client(), Reconciler: svc.Reconciler, Metrics: m,
		Kombo:          komboClient,
		Now:            clock.Or(cfg.Clock).Now,
		NoWriteRoute:   cfg.NoWriteRoute,
		Retention:      svc.Retention,
		Admin:          adminPages,
		TrustedProxies: cfg.TrustedProxies,
	})
	if cfg.NoWriteRoute {
		logger.Warn("benchmark route POST /bench/no-write/webhooks/kombo is on: it answers webhooks without storing them")
	}
	return &App{cfg: cfg, logger: logger, db: db, store: st, catalogue: catalogue, jobs: svc, server: srv, key: key, release: release}, nil
}

// Run binds the listener, starts the jobs, serves until ctx is done, then
// shuts down in order (HTTP, jobs, database).
func (a *App) Run(ctx context.Context) error {
	defer a.release()
	defer a.db.Close()
	logger := a.logger
	a.key.check(ctx)
	if err := a.server.Open(a.cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	if err := a.jobs.Start(ctx); err != nil {
		a.server.Shutdown(context.Background())
		return fmt.Errorf("start jobs: %w", err)
	}
	build := ReadBuildInfo()
	logger.Info("assessgate serving", "addr", a.server.Addr().String(), "database", string(a.db.Dialect), "replica", a.jobs.Client().ID(),
		"version", build.Version, "commit", build.Commit, "go", build.GoVersion)
	if a.cfg.Stdout != nil {
		fmt.Fprintf(a.cfg.Stdout, "listening on http://%s\n", a.server.Addr())
	}
	if a.cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(a.cfg.DebugAddr, logger)
		if err != nil {
			a.server.Shutdown(context.Background())
			a.jobs.Stop(context.Background())
			return fmt.Errorf("debug listener on %s: %w", a.cfg.DebugAddr, err)
		}
		defer stopDebug()
	}

	go refreshCatalogue(ctx, a.store, a.catalogue, 10*time.Second, logger)
	<-ctx.Done()
	logger.Info("shutting down")
	err := a.shutdown()
	gc := a.store.GroupCommitStats()
	logger.Info("group commit", "transactions", gc.Transactions, "writes", gc.Items, "largest", gc.Largest, "retried", gc.Retried)
	return err
}

// shutdown stops in order: HTTP first (no new work, in-flight requests
// finish), then jobs (running ones get a grace period, then are cancelled
// and retried later); Run then closes the database.
func (a *App) shutdown() error {
	httpCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var errs []error
	if err := a.server.Shutdown(httpCtx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	softCtx, cancelSoft := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelSoft()
	if err := a.jobs.Stop(softCtx); err != nil {
		errs = append(errs, fmt.Errorf("stop jobs: %w", err))
	}
	a.logger.Info("jobs stopped")
	return errors.Join(errs...)
}

// newKomboClient returns Kombo's API client, or nil without an API key.
func newKomboClient(cfg Config, m *metrics.Metrics, logger *slog.Logger) *kombo.Client {
	if cfg.KomboAPIKey == "" {
		logger.Warn("KOMBO_API_KEY is not set: results and package pushes are parked until assessgate runs with the key; orders are not reconciled")
		return nil
	}
	c := kombo.NewClient(cfg.KomboAPIKey)
	c.BaseURL = cfg.KomboAPIURL
	c.HTTPClient.Timeout = cfg.KomboTimeout
	c.HTTPClient.Transport = m.Transport(c.HTTPClient.Transport)
	return c
}

// newMailer returns the candidate e-mails' mailer, or nil (with a warning)
// without SMTP: the vendor's platform then invites.
func newMailer(cfg CandidatesConfig, logger *slog.Logger) (*mail.Mailer, error) {
	if cfg.SMTPURL == "" {
		logger.Warn("ASSESSGATE_SMTP_URL is not set: invitations are not e-mailed; the vendor's platform is expected to invite candidates")
		return nil, nil
	}
	m, err := mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.MailFrom, TemplatesDir: cfg.TemplatesDir})
	if err != nil {
		return nil, err
	}
	logger.Info("invitations are e-mailed", "smtp", m.Server, "reminder_after", FormatDuration(cfg.ReminderAfter),
		"invite_ttl", FormatDuration(cfg.InviteTTL), "templates_dir", cfg.TemplatesDir)
	return m, nil
}

// newVendor returns the vendor webhooks' sender; without a URL it sends
// nothing.
func newVendor(cfg Config, logger *slog.Logger) (*jobs.Vendor, error) {
	c := cfg.Candidates
	vendor, err := jobs.NewVendor(logger, cfg.Clock, c.VendorWebhookURL, c.VendorWebhookSecret)
	if err != nil {
		return nil, err
	}
	if vendor.Enabled() {
		u, _ := url.Parse(c.VendorWebhookURL)
		logger.Info("vendor webhooks are sent", "host", u.Host)
	} else {
		logger.Info("ASSESSGATE_VENDOR_WEBHOOK_URL is not set: no vendor webhooks")
	}
	return vendor, nil
}

// newAdmin returns the admin pages, or nil (with a warning) when no
// password is set. Session cookies are Secure when the public address is
// https, or the request came over https (directly, or through a trusted
// proxy).
func newAdmin(ctx context.Context, cfg Config, st *store.Store, svc *jobs.Service, komboClient *kombo.Client, logger *slog.Logger) (http.Handler, error) {
	if cfg.AdminPassword == "" {
		logger.Warn("ASSESSGATE_ADMIN_PASSWORD is not set: the admin pages (/admin/) are off")
		return nil, nil
	}
	acfg := admin.Config{
		Store: st, Jobs: svc.Client(), Reconciler: svc.Reconciler, Logger: logger, Password: cfg.AdminPassword, Kombo: komboClient,
		WeakSecrets:   WeakSecrets(cfg),
		SecureCookies: strings.HasPrefix(cfg.Candidates.PublicURL, "https://"),
	}
	if cfg.Clock != nil {
		acfg.Now = cfg.Clock.Now
	}
	h, err := admin.New(acfg)
	if err != nil {
		return nil, err
	}
	if n, err := h.EndStaleSessions(ctx); err != nil {
		return nil, fmt.Errorf("end stale admin sessions: %w", err)
	} else if n > 0 {
		logger.Info("admin sessions of an earlier password or expired ended", "sessions", n)
	}
	logger.Info("admin pages are on", "path", "/admin/", "secure_cookies", acfg.SecureCookies)
	return h, nil
}

// logPrivacy says at start-up how personal data is kept.
func logPrivacy(cfg PrivacyConfig, logger *slog.Logger) {
	if cfg.Keys.Enabled() {
		logger.Info("personal data is encrypted at rest", "key_ids", cfg.Keys.KeyIDs())
	} else {
		logger.Warn("ASSESSGATE_ENCRYPTION_KEY is not set: personal data is stored in clear; make a key with: openssl rand -base64 32")
	}
	if cfg.Retention == 0 && cfg.DeletedIntegrationGrace == 0 {
		logger.Warn("ASSESSGATE_RETENTION and ASSESSGATE_DELETED_INTEGRATION_GRACE are 0: personal data is kept until erased on request")
		return
	}
	logger.Info("personal data is erased after", "retention", FormatDuration(cfg.Retention),
		"deleted_integration_grace", FormatDuration(cfg.DeletedIntegrationGrace), "every", FormatDuration(cfg.RetentionInterval))
}

// resealPersonalData brings the database in line with the store's keys
// (see store.Reseal).
func resealPersonalData(ctx context.Context, st *store.Store, logger *slog.Logger) error {
	stats, err := st.Reseal(ctx)
	if err != nil {
		return fmt.Errorf("personal data: %w", err)
	}
	if !stats.Skipped && stats.Orders+stats.WebhookEvents+stats.Results > 0 {
		logger.Info("personal data encrypted under the first key", "orders", stats.Orders,
			"webhook_events", stats.WebhookEvents, "results", stats.Results)
	}
	return nil
}

// loadCatalogue brings the stored catalogue in line with the packages file,
// which pushes it to every active integration when it changed, and loads
// the result. Without a file the stored catalogue (set through the API)
// stands.
func loadCatalogue(ctx context.Context, st *store.Store, c *orders.Catalogue, filePackages []orders.Package, file string, logger *slog.Logger) error {
	if file != "" {
		changed, pushes, err := st.SetCatalogue(ctx, filePackages)
		if err != nil {
			return fmt.Errorf("store package catalogue: %w", err)
		}
		logger.Info("package catalogue loaded", "file", file, "packages", len(filePackages), "changed", changed, "pushes", pushes)
	}
	pkgs, _, err := st.FindCatalogue(ctx)
	if err != nil {
		return err
	}
	c.Set(pkgs)
	if len(pkgs) == 0 {
		logger.Warn("no package catalogue (ASSESSGATE_PACKAGES_FILE or PUT /api/v1/packages): orders for every package are accepted")
	}
	return nil
}

// refreshCatalogue reloads the stored catalogue every interval, so that a
// change made through one replica's API reaches every replica.
func refreshCatalogue(ctx context.Context, st *store.Store, c *orders.Catalogue, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pkgs, hash, err := st.FindCatalogue(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("reload package catalogue", "err", err)
			}
			continue
		}
		if hash != last {
			c.Set(pkgs)
			last = hash
		}
	}
}

// OpenDatabase opens the database and brings its schema up to date: always
// on SQLite (one process owns the file), and on Postgres only when asked,
// since several replicas share it and an operator decides when it changes.
func OpenDatabase(ctx context.Context, dsn string, migrate bool, logger *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if db.Dialect == store.SQLite || migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate %s: %w", store.Redact(dsn), err)
		}
		return db, nil
	}
	pending, err := db.Pending(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("check migrations: %w", err)
	}
	if len(pending) > 0 {
		db.Close()
		return nil, fmt.Errorf("the database schema is behind (%d pending: %s): run \"assessgate migrate\" or start with --migrate",
			len(pending), strings.Join(pending, ", "))
	}
	logger.Debug("database schema up to date")
	return db, nil
}

// relinkMailer is the mailer of reconnection links: nil unless
// ASSESSGATE_RELINK_EMAIL is on (it needs SMTP, which serve checks).
func relinkMailer(cfg Config, m jobs.Mailer) jobs.Mailer {
	if !cfg.Candidates.RelinkEmail {
		return nil
	}
	return m
}
