package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// parseServeConfig reads the configuration of "assessgate serve" from
// its flags and the environment, with the logger it asks for; it refuses a
// configuration that could not run, naming the setting.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (*assessgate.Config, error) {
	f := newEnvFlags("serve", getenv, stderr)
	cfg, err := serveConfig(f, args, stderr)
	return cfg, f.named(err)
}

func serveConfig(f *envFlags, args []string, stderr io.Writer) (*assessgate.Config, error) {
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
	parkedMaxAge := f.Duration("parked-max-age", "ASSESSGATE_PARKED_MAX_AGE", jobs.DefaultParkedMaxAge, "how long a write-back or package push waits parked (integration setup pending, no KOMBO_API_KEY) before it becomes a dead letter")
	parkedCheck := f.Duration("parked-check-interval", "ASSESSGATE_PARKED_CHECK_INTERVAL", jobs.DefaultParkedCheckInterval, "how often the integrations that parked work waits for are read back from Kombo (GET /integrations/{id})")
	retryBase := f.Duration("retry-base", "ASSESSGATE_RETRY_BASE", time.Second, "first retry delay of failed jobs; it doubles up to an hour")
	replica := f.String("replica-name", "ASSESSGATE_REPLICA_NAME", "", "this replica's name in River's job records (default: the host name)")
	rescueAfter := f.Duration("rescue-after", "ASSESSGATE_RESCUE_AFTER", jobs.DefaultRescueAfter, "a job running this long is taken for a dead replica's and run again")
	jobWorkers := f.Int("job-workers", "ASSESSGATE_JOB_WORKERS", jobs.DefaultMaxWorkers, "jobs worked at once by this process (invitations, write-backs, …)")
	heartbeat := f.Duration("heartbeat-interval", "ASSESSGATE_HEARTBEAT_INTERVAL", time.Minute, "period of the heartbeat job, at least 1s")
	candidates := defineCandidatesFlags(f)
	privacy := definePrivacyFlags(f)
	adminPassword := defineAdminFlags(f)
	trusted := f.String("trusted-proxies", "ASSESSGATE_TRUSTED_PROXIES", "", "reverse proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: none")
	batch := f.Int("intake-batch", "ASSESSGATE_INTAKE_BATCH", 64, "most webhooks committed in one transaction (group commit); 1 commits each on its own")
	batchWait := f.Duration("intake-wait", "ASSESSGATE_INTAKE_WAIT", 0, "how long a transaction waits for more webhooks when the queue is empty; 0 takes only those already waiting")
	noWrite := defineNoWriteFlag(f) // benchroute.go: only with -tags bench
	debugAddr := f.String("debug-addr", "ASSESSGATE_DEBUG_ADDR", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; off when empty")
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	cfg := &assessgate.Config{
		Addr: *addr, DatabaseURL: *dbURL, WebhookSecrets: splitList(*secrets), APITokens: splitList(*tokens),
		PackagesFile: *packages, AssessmentURL: *assessURL, Migrate: *migrate,
		KomboAPIKey: *apiKey, KomboAPIURL: strings.TrimRight(*apiURL, "/"), KomboConcurrency: *concurrency, KomboTimeout: *komboTimeout,
		ReconcileInterval: *reconcile, RetryBase: *retryBase, ParkedMaxAge: *parkedMaxAge, ParkedCheckInterval: *parkedCheck,
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
	if cfg.ParkedMaxAge < time.Minute {
		return nil, fmt.Errorf("ASSESSGATE_PARKED_MAX_AGE %s: want at least 1m", assessgate.FormatDuration(cfg.ParkedMaxAge))
	}
	if cfg.ParkedCheckInterval < 100*time.Millisecond {
		return nil, fmt.Errorf("ASSESSGATE_PARKED_CHECK_INTERVAL %s: want at least 100ms", assessgate.FormatDuration(cfg.ParkedCheckInterval))
	}
	if cfg.HeartbeatInterval < time.Second {
		return nil, fmt.Errorf("ASSESSGATE_HEARTBEAT_INTERVAL %s: want at least 1s", cfg.HeartbeatInterval)
	}
	c, err := candidates()
	if err != nil {
		return nil, err
	}
	p, err := privacy()
	if err != nil {
		return nil, err
	}
	cfg.Candidates, cfg.Privacy = *c, *p
	if cfg.TrustedProxies, err = proxy.ParseTrusted(*trusted); err != nil {
		return nil, fmt.Errorf("ASSESSGATE_TRUSTED_PROXIES: %w", err)
	}
	if len(cfg.WebhookSecrets) == 0 {
		return nil, errors.New("no webhook secret: set KOMBO_WEBHOOK_SECRET to the secret shown in Kombo's dashboard (Configuration → Webhooks)")
	}
	if cfg.AssessmentURL != "" {
		if err := checkLinkTemplate(cfg.AssessmentURL); err != nil {
			return nil, fmt.Errorf("ASSESSGATE_ASSESSMENT_URL: %w", err)
		}
	}
	if cfg.Logger, err = newLogger(stderr, *logLevel, *logFormat); err != nil {
		return nil, err
	}
	if cfg.PackagesFile != "" {
		if cfg.Packages, err = loadPackages(cfg.PackagesFile); err != nil {
			return nil, err
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

// runServe is "assessgate serve": the configuration, then a wired
// assessgate run until ctx is done.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return serve(ctx, args, getenv, stdout, stderr, nil)
}

// serve is runServe on clk (nil: the wall clock); tests pass a stub.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clk clock.Clock) error {
	cfg, err := parseServeConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.Stdout, cfg.Clock = stdout, clk
	a, err := assessgate.New(ctx, *cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
