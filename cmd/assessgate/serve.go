package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/server"
	"github.com/assessgate/assessgate/internal/store"
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
	Candidates     *candidatesConfig
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
	candidates := defineCandidatesFlags(f)
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	cfg := &serveConfig{
		Addr: *addr, DatabaseURL: *dbURL, WebhookSecrets: splitList(*secrets), APITokens: splitList(*tokens),
		PackagesFile: *packages, AssessmentURL: *assessURL, LogLevel: *logLevel, LogFormat: *logFormat, Migrate: *migrate,
	}
	var err error
	if cfg.Candidates, err = candidates(); err != nil {
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

	catalogue := orders.NewCatalogue(nil)
	if cfg.PackagesFile != "" {
		pkgs, err := loadPackages(cfg.PackagesFile)
		if err != nil {
			return err
		}
		catalogue.Set(pkgs)
		logger.Info("package catalogue loaded", "file", cfg.PackagesFile, "packages", len(pkgs))
	} else {
		logger.Warn("no package catalogue (ASSESSGATE_PACKAGES_FILE): orders for every package are accepted")
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

	st := store.New(db, logger)
	clk := clockFrom(ctx)
	if clk != nil {
		st.Now = clk.Now
	}
	candidates, err := newCandidates(cfg.Candidates, st, catalogue, logger)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	candidates.AddWorkers(workers)
	jobClient, err := jobs.NewClient(jobs.Config{DB: db, Store: st, Logger: logger, Workers: workers, Clock: clk})
	if err != nil {
		return err
	}
	candidates.Client = jobClient
	st.SetHooks(candidates.Hooks(jobs.Hooks(jobClient)))

	srv := server.New(server.Config{
		Store: st, Logger: logger, WebhookSecrets: cfg.WebhookSecrets, APITokens: cfg.APITokens,
		Catalogue: catalogue, AssessmentURL: cfg.AssessmentURL,
	})
	if err := srv.Open(cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if err := jobClient.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return fmt.Errorf("start jobs: %w", err)
	}
	logger.Info("assessgate serving", "addr", srv.Addr().String(), "database", string(db.Dialect))
	fmt.Fprintf(stdout, "listening on http://%s\n", srv.Addr())

	<-ctx.Done()
	logger.Info("shutting down")
	return shutdown(srv, jobClient, logger)
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
