package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/metrics"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/server"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// serveConfig is the configuration of "assessgate serve".
type serveConfig struct {
	Addr           string
	DatabaseURL    string
	WebhookSecrets []string
	APITokens      []string
	PackagesFile   string
	AssessmentURL  string
	LogLevel       string
	LogFormat      string
	Migrate        bool

	KomboAPIKey       string
	KomboAPIURL       string
	KomboConcurrency  int
	KomboTimeout      time.Duration
	ReconcileInterval time.Duration
	RetryBase         time.Duration

	// Several replicas on one Postgres: see the README's "Postgres and
	// replicas".
	ReplicaName       string
	RescueAfter       time.Duration
	HeartbeatInterval time.Duration
	JobWorkers        int
	Candidates        *candidatesConfig
	Privacy           *privacyConfig
	AdminPassword     string

	// DebugAddr, if set, serves net/http/pprof there, apart from the API.
	DebugAddr string
	// GroupCommit is how concurrent webhooks share transactions.
	GroupCommit store.GroupCommit
	// NoWriteRoute mounts the benchmarks' no-write webhook route.
	NoWriteRoute bool
}

const defaultAssessmentURL = "http://localhost:8080/assessment/{order_id}?token={token}"

func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (*serveConfig, error) {
	f := newEnvFlags("serve", getenv, stderr)
	addr := f.String("addr", "ASSESSGATE_ADDR", ":8080", "address to listen on")
	dbURL := f.String("database-url", "ASSESSGATE_DATABASE_URL", "sqlite:assessgate.db", "database: sqlite:PATH or postgres://…")
	secrets := f.String("webhook-secret", "KOMBO_WEBHOOK_SECRET", "", "Kombo webhook secret; several, comma-separated, while rotating")
	tokens := f.String("api-token", "ASSESSGATE_API_TOKEN", "", "bearer token(s) of the vendor API, comma-separated")
	packages := f.String("packages-file", "ASSESSGATE_PACKAGES_FILE", "", `package catalogue, JSON {"packages":[{"id","type","name","description"}]}`)
	assessURL := f.String("assessment-url", "ASSESSGATE_ASSESSMENT_URL", "", "candidate link template with {token}, {order_id} and {package_id}")
	logLevel := f.String("log-level", "ASSESSGATE_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	logFormat := f.String("log-format", "ASSESSGATE_LOG_FORMAT", "text", "log format: text or json")
	migrate := f.fs.Bool("migrate", false, "apply pending database migrations before serving (always done on SQLite)")
	apiKey := f.String("kombo-api-key", "KOMBO_API_KEY", "", "Kombo API key, for writing results back, pushing packages and reconciling")
	apiURL := f.String("kombo-api-url", "KOMBO_API_URL", kombo.BaseURLEU, "Kombo API base URL ("+kombo.BaseURLUS+" for the US region)")
	concurrency := f.Int("kombo-concurrency", "ASSESSGATE_KOMBO_CONCURRENCY", 10, "Kombo calls in flight per integration, per replica")
	komboTimeout := f.Duration("kombo-timeout", "KOMBO_TIMEOUT", 60*time.Second, "how long one Kombo call may take before it is abandoned and retried")
	reconcile := f.Duration("reconcile-interval", "ASSESSGATE_RECONCILE_INTERVAL", 5*time.Minute, "how often Kombo's open orders are reconciled; 0 turns it off")
	retryBase := f.Duration("retry-base", "ASSESSGATE_RETRY_BASE", time.Second, "first retry delay of failed jobs; it doubles up to an hour")
	replica := f.String("replica-name", "ASSESSGATE_REPLICA_NAME", "", "this replica's name in River's job records (default: the host name)")
	rescueAfter := f.Duration("rescue-after", "ASSESSGATE_RESCUE_AFTER", jobs.DefaultRescueAfter, "a job running this long is taken for a dead replica's and run again")
	jobWorkers := f.Int("job-workers", "ASSESSGATE_JOB_WORKERS", jobs.DefaultMaxWorkers, "jobs worked at once by this process (invitations, write-backs, …)")
	heartbeat := f.Duration("heartbeat-interval", "ASSESSGATE_HEARTBEAT_INTERVAL", time.Minute, "period of the heartbeat job, at least 1s")
	candidates := defineCandidatesFlags(f)
	privacy := definePrivacyFlags(f)
	adminPassword := defineAdminFlags(f)
	batch := f.Int("intake-batch", "ASSESSGATE_INTAKE_BATCH", 64, "most webhooks committed in one transaction (group commit); 1 commits each on its own")
	batchWait := f.Duration("intake-wait", "ASSESSGATE_INTAKE_WAIT", 0, "how long a transaction waits for more webhooks when the queue is empty; 0 takes only those already waiting")
	noWrite := defineNoWriteFlag(f) // benchroute.go: only with -tags bench
	debugAddr := f.String("debug-addr", "ASSESSGATE_DEBUG_ADDR", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; off when empty")
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	cfg := &serveConfig{
		Addr: *addr, DatabaseURL: *dbURL, WebhookSecrets: splitList(*secrets), APITokens: splitList(*tokens),
		PackagesFile: *packages, AssessmentURL: *assessURL, LogLevel: *logLevel, LogFormat: *logFormat, Migrate: *migrate,
		KomboAPIKey: *apiKey, KomboAPIURL: strings.TrimRight(*apiURL, "/"), KomboConcurrency: *concurrency, KomboTimeout: *komboTimeout,
		ReconcileInterval: *reconcile, RetryBase: *retryBase,
		ReplicaName: *replica, RescueAfter: *rescueAfter, HeartbeatInterval: *heartbeat, JobWorkers: *jobWorkers,
		AdminPassword: adminPassword(),
		GroupCommit:   store.GroupCommit{MaxItems: *batch, MaxWait: *batchWait}, NoWriteRoute: *noWrite, DebugAddr: *debugAddr,
	}
	if cfg.GroupCommit.MaxItems < 1 || cfg.GroupCommit.MaxItems > 1000 {
		return nil, fmt.Errorf("ASSESSGATE_INTAKE_BATCH %d: want 1 to 1000", cfg.GroupCommit.MaxItems)
	}
	if cfg.GroupCommit.MaxWait > 100*time.Millisecond {
		return nil, fmt.Errorf("ASSESSGATE_INTAKE_WAIT %s: want at most 100ms (every webhook in a batch waits for it)", cfg.GroupCommit.MaxWait)
	}
	if cfg.JobWorkers < 1 || cfg.JobWorkers > 1000 {
		return nil, fmt.Errorf("ASSESSGATE_JOB_WORKERS %d: want 1 to 1000", cfg.JobWorkers)
	}
	if cfg.KomboTimeout < 100*time.Millisecond {
		return nil, fmt.Errorf("KOMBO_TIMEOUT %s: want at least 100ms", cfg.KomboTimeout)
	}
	if cfg.KomboConcurrency < 1 {
		return nil, fmt.Errorf("ASSESSGATE_KOMBO_CONCURRENCY %d: want at least 1", cfg.KomboConcurrency)
	}
	if u, err := url.Parse(cfg.KomboAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("KOMBO_API_URL %q: want an absolute http(s) URL", cfg.KomboAPIURL)
	}
	if cfg.RescueAfter < 2*time.Second {
		return nil, fmt.Errorf("ASSESSGATE_RESCUE_AFTER %s: want at least 2s", cfg.RescueAfter)
	}
	if cfg.HeartbeatInterval < time.Second {
		return nil, fmt.Errorf("ASSESSGATE_HEARTBEAT_INTERVAL %s: want at least 1s", cfg.HeartbeatInterval)
	}
	var err error
	if cfg.Candidates, err = candidates(); err != nil {
		return nil, err
	}
	if cfg.Privacy, err = privacy(); err != nil {
		return nil, err
	}
	if len(cfg.WebhookSecrets) == 0 {
		return nil, errors.New("no webhook secret: set KOMBO_WEBHOOK_SECRET to the secret shown in Kombo's dashboard (Configuration → Webhooks)")
	}
	if cfg.AssessmentURL != "" {
		if err := checkLinkTemplate(cfg.AssessmentURL); err != nil {
			return nil, fmt.Errorf("ASSESSGATE_ASSESSMENT_URL: %w", err)
		}
	}
	return cfg, nil
}

// checkLinkTemplate checks that a link template gives an absolute http(s) URL.
func checkLinkTemplate(t string) error {
	filled := strings.NewReplacer("{token}", "t", "{order_id}", "o", "{package_id}", "p").Replace(t)
	u, err := url.Parse(filled)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", t)
	}
	if !strings.Contains(t, "{token}") && !strings.Contains(t, "{order_id}") {
		return fmt.Errorf("%q has neither {token} nor {order_id}: every candidate would get the same link", t)
	}
	return nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}

	var filePackages []kombo.Package
	if cfg.PackagesFile != "" {
		if filePackages, err = loadPackages(cfg.PackagesFile); err != nil {
			return err
		}
	}
	if cfg.AssessmentURL == "" {
		cfg.AssessmentURL = defaultAssessmentURL
		logger.Warn("ASSESSGATE_ASSESSMENT_URL is not set: candidate links point at a placeholder", "template", cfg.AssessmentURL)
	}
	if len(cfg.APITokens) == 0 {
		logger.Warn("ASSESSGATE_API_TOKEN is not set: the vendor API refuses every request")
	}

	db, err := openDatabase(ctx, cfg.DatabaseURL, cfg.Migrate, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	m := metrics.New(db.Reader, logger)
	var komboClient *kombo.Client
	if cfg.KomboAPIKey != "" {
		komboClient = kombo.NewClient(cfg.KomboAPIKey)
		komboClient.BaseURL = cfg.KomboAPIURL
		komboClient.HTTPClient.Timeout = cfg.KomboTimeout
		komboClient.HTTPClient.Transport = m.Transport(komboClient.HTTPClient.Transport)
	} else {
		logger.Warn("KOMBO_API_KEY is not set: results are not written back, packages not pushed, orders not reconciled")
	}

	st := store.New(db, logger)
	clk := clockFrom(ctx)
	if clk != nil {
		st.Now = clk.Now
	}
	st.SetGroupCommit(cfg.GroupCommit)
	m.GroupCommit(func() (int64, int64) {
		s := st.GroupCommitStats()
		return s.Transactions, s.Items
	})
	if err := setUpPersonalData(ctx, cfg.Privacy, st, logger); err != nil {
		return err
	}
	catalogue := orders.NewCatalogue(nil)
	candidates, err := newCandidates(cfg.Candidates, st, catalogue, logger)
	if err != nil {
		return err
	}
	limiter := jobs.NewLimiter(cfg.KomboConcurrency)
	reconciler := &jobs.Reconciler{Store: st, Kombo: komboClient, Catalogue: catalogue, Limiter: limiter, Logger: logger}
	writeback := &jobs.WritebackWorker{Store: st, Kombo: komboClient, Limiter: limiter, Logger: logger, Vendor: candidates.Vendor}
	retry := jobs.RetryPolicy{Base: cfg.RetryBase, Max: time.Hour}
	candidates.Retry = retry
	workers := river.NewWorkers()
	candidates.AddWorkers(workers)
	river.AddWorker(workers, writeback)
	river.AddWorker(workers, &jobs.PushPackagesWorker{Store: st, Kombo: komboClient, Limiter: limiter, Logger: logger})
	river.AddWorker(workers, &jobs.ReconcileWorker{Reconciler: reconciler})
	river.AddWorker(workers, &jobs.ReconcileIntegrationWorker{Reconciler: reconciler})
	river.AddWorker(workers, &jobs.HeartbeatWorker{Logger: logger})
	retention := &jobs.Retention{Store: st, Policy: cfg.Privacy.policy(), Logger: logger}
	river.AddWorker(workers, &jobs.RetentionWorker{Retention: retention})
	periodic := []*river.PeriodicJob{jobs.Heartbeat(cfg.HeartbeatInterval), jobs.RetentionPeriodic(cfg.Privacy.RetentionInterval)}
	if cfg.ReconcileInterval > 0 && komboClient != nil {
		periodic = append(periodic, jobs.ReconcilePeriodic(cfg.ReconcileInterval))
	}
	jobClient, err := jobs.NewClient(jobs.Config{
		DB: db, Store: st, Logger: logger, Workers: workers, PeriodicJobs: periodic, Clock: clk,
		Retry:       retry,
		Name:        cfg.ReplicaName,
		RescueAfter: cfg.RescueAfter,
		MaxWorkers:  cfg.JobWorkers,
	})
	if err != nil {
		return err
	}
	candidates.Client, writeback.Client = jobClient, jobClient
	// An expired order is written back to Kombo as CANCELLED through the
	// same results and write-back job as the vendor's results.
	candidates.EnqueueResult = func(ctx context.Context, tx *sql.Tx, orderID string, r *kombo.ResultRequest) error {
		_, err := st.RecordResultTx(ctx, tx, orderID, r)
		return err
	}
	st.SetHooks(candidates.Hooks(jobs.Hooks(jobClient)))

	if err := loadCatalogue(ctx, st, catalogue, filePackages, cfg.PackagesFile, logger); err != nil {
		return err
	}

	adminPages, err := newAdmin(cfg.AdminPassword, cfg.Candidates.PublicURL, st, jobClient, clk, logger)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{
		Store: st, Logger: logger, WebhookSecrets: cfg.WebhookSecrets, APITokens: cfg.APITokens,
		Catalogue: catalogue, AssessmentURL: cfg.AssessmentURL, Jobs: jobClient, Reconciler: reconciler, Metrics: m,
		NoWriteRoute: cfg.NoWriteRoute,
		Retention:    retention,
		Admin:        adminPages,
	})
	if cfg.NoWriteRoute {
		logger.Warn("benchmark route POST /bench/no-write/webhooks/kombo is on: it answers webhooks without storing them")
	}
	if err := srv.Open(cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if err := jobClient.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return fmt.Errorf("start jobs: %w", err)
	}
	logger.Info("assessgate serving", "addr", srv.Addr().String(), "database", string(db.Dialect), "replica", jobClient.ID())
	fmt.Fprintf(stdout, "listening on http://%s\n", srv.Addr())

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, logger)
		if err != nil {
			srv.Shutdown(context.Background())
			jobClient.Stop(context.Background())
			return fmt.Errorf("debug listener on %s: %w", cfg.DebugAddr, err)
		}
		defer stopDebug()
	}

	go refreshCatalogue(ctx, st, catalogue, 10*time.Second, logger)
	<-ctx.Done()
	logger.Info("shutting down")
	err = shutdown(srv, jobClient, logger)
	gc := st.GroupCommitStats()
	logger.Info("group commit", "transactions", gc.Transactions, "writes", gc.Items, "largest", gc.Largest, "retried", gc.Retried)
	return err
}

// loadCatalogue brings the stored catalogue in line with the packages file,
// which pushes it to every active integration when it changed, and loads
// the result. Without a file the stored catalogue (set through the API)
// stands.
func loadCatalogue(ctx context.Context, st *store.Store, c *orders.Catalogue, filePackages []kombo.Package, file string, logger *slog.Logger) error {
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

// shutdown stops in order: HTTP first (no new work, in-flight requests
// finish), then jobs (running ones get a grace period, then are cancelled
// and retried later), then the caller closes the database.
func shutdown(srv *server.Server, jobClient *jobs.Client, logger *slog.Logger) error {
	httpCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(httpCtx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	softCtx, cancelSoft := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelSoft()
	if err := jobClient.Stop(softCtx); err != nil {
		logger.Warn("jobs did not stop in time; cancelling them", "err", err)
		hardCtx, cancelHard := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancelHard()
		if err := jobClient.StopAndCancel(hardCtx); err != nil {
			errs = append(errs, fmt.Errorf("stop jobs: %w", err))
		}
	}
	logger.Info("jobs stopped")
	return errors.Join(errs...)
}

// openDatabase opens the database and brings its schema up to date: always
// on SQLite (one process owns the file), and on Postgres only when asked,
// since several replicas share it and an operator decides when it changes.
func openDatabase(ctx context.Context, dsn string, migrate bool, logger *slog.Logger) (*store.DB, error) {
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
