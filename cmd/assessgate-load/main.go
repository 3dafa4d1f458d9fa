// Command assessgate-load sends signed order webhooks to a local assessgate
// and measures it: throughput, latency from when each webhook was due and,
// with an API token, whether every acknowledged order was stored exactly
// once. It is a development tool, apart from the product binary; the
// benchmarks of docs/benchmarks.md run the same generator (internal/loadgen).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/assessgate/assessgate/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "assessgate-load:", err)
		os.Exit(1)
	}
}

// run is the whole program, so that tests run it as it runs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, asJSON, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	g, err := loadgen.New(*cfg)
	if err != nil {
		return err
	}
	rep, err := g.Run(ctx)
	if err != nil {
		return err
	}
	if cfg.APIToken != "" {
		if err := g.Check(ctx, rep); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.Print(stdout)
	}
	if rep.Check != nil && !rep.Check.OK {
		return fmt.Errorf("check failed: %s", rep.Check.Summary)
	}
	return unexpectedAnswers(rep, cfg.Packages)
}

// unexpectedAnswers fails the run when any webhook was answered other
// than as expected: a load whose orders were refused measured nothing.
func unexpectedAnswers(rep *loadgen.Report, packages []string) error {
	if rep.Unexpected == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d webhooks were not acknowledged (answers by status: %v; without an answer: %v)",
		rep.Unexpected, rep.Sent, rep.Statuses, rep.Errors)
	if rep.Statuses["422"] > 0 {
		msg += fmt.Sprintf("; 422 means assessgate refused the order: are the packages ordered (%s) in its catalogue? Set --packages to ids from it",
			strings.Join(packages, ","))
	}
	return errors.New(msg)
}

// parseConfig reads the flags; a flag not given falls back to the
// environment variable named in its help.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (cfg *loadgen.Config, asJSON bool, err error) {
	fs := flag.NewFlagSet("assessgate-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg = &loadgen.Config{}
	var packages string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/webhooks/kombo", "webhook URL to send to (loopback only)")
	fs.StringVar(&cfg.APIURL, "api-url", "", "base URL of the vendor API for the check (default: the webhook URL's origin)")
	fs.StringVar(&cfg.Secret, "secret", "", "webhook secret to sign with")
	fs.StringVar(&cfg.APIToken, "api-token", "", "vendor API token; with it, every acknowledged order is checked afterwards")
	fs.IntVar(&cfg.Rate, "rate", 0, "webhooks per second on a fixed schedule (open loop); 0 sends as fast as --concurrency senders can")
	fs.IntVar(&cfg.Concurrency, "concurrency", loadgen.DefaultConcurrency, "concurrent senders when --rate is 0")
	fs.DurationVar(&cfg.Duration, "duration", loadgen.DefaultDuration, "how long to send, at most "+loadgen.MaxDuration.String())
	fs.IntVar(&cfg.Count, "count", 0, "stop after this many webhooks (0: when --duration is over)")
	fs.Float64Var(&cfg.Duplicates, "duplicates", 0, "share of webhooks that redeliver an earlier one (0 to 1)")
	fs.Float64Var(&cfg.BadSignatures, "bad-signatures", 0, "share of webhooks signed with a wrong secret (0 to 1)")
	fs.StringVar(&cfg.Integration, "integration", "", "integration id of the orders (default: a new one per run, so the check lists only this run's orders)")
	fs.BoolVar(&cfg.AnnounceIntegration, "announce-integration", false, "send the integration's integration-created webhook before its orders, as Kombo does when a customer connects (without it, the orders are of an integration never heard of)")
	fs.StringVar(&packages, "packages", loadgen.DefaultPackages, "package ids to order, comma-separated")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the generated orders (0: random)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "timeout of one request")
	fs.IntVar(&cfg.Retries, "retries", 0, "send a webhook again, as Kombo does, up to this many times after no answer or a 5xx")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", loadgen.DefaultMaxInFlight, "with --rate: requests in flight beyond which sends are counted as missed")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress lines")
	env := map[string]string{
		"url": "ASSESSGATE_LOAD_URL", "api-url": "ASSESSGATE_LOAD_API_URL", "secret": "KOMBO_WEBHOOK_SECRET",
		"api-token": "ASSESSGATE_API_TOKEN", "rate": "ASSESSGATE_LOAD_RATE", "concurrency": "ASSESSGATE_LOAD_CONCURRENCY",
		"duration": "ASSESSGATE_LOAD_DURATION", "count": "ASSESSGATE_LOAD_COUNT", "duplicates": "ASSESSGATE_LOAD_DUPLICATES",
		"bad-signatures": "ASSESSGATE_LOAD_BAD_SIGNATURES", "integration": "ASSESSGATE_LOAD_INTEGRATION",
		"packages": "ASSESSGATE_LOAD_PACKAGES", "seed": "ASSESSGATE_LOAD_SEED", "timeout": "ASSESSGATE_LOAD_TIMEOUT",
		"retries": "ASSESSGATE_LOAD_RETRIES", "max-in-flight": "ASSESSGATE_LOAD_MAX_IN_FLIGHT",
		"announce-integration": "ASSESSGATE_LOAD_ANNOUNCE_INTEGRATION",
	}
	for name, v := range env {
		fs.Lookup(name).Usage += " (env " + v + ")"
	}
	if err := fs.Parse(args); err != nil {
		return nil, false, err
	}
	if fs.NArg() > 0 {
		return nil, false, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, v := range env {
		if raw := strings.TrimSpace(getenv(v)); raw != "" && !given[name] {
			if err := fs.Set(name, raw); err != nil {
				return nil, false, fmt.Errorf("%s=%q: %v", v, raw, err)
			}
		}
	}
	for _, p := range strings.Split(packages, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Packages = append(cfg.Packages, p)
		}
	}
	if cfg.Packages == nil {
		return nil, false, errors.New("--packages: want at least one package id")
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	return cfg, asJSON, nil
}
