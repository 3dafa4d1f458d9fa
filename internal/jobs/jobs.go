// Package jobs holds assessgate's background work as River jobs: inviting
// candidates, reminding, expiring, writing results back to Kombo, pushing
// packages and reconciling orders. Jobs are inserted in the transaction that
// stores the data causing them (Events, the store's store.Events), so none
// is lost or run for data that was rolled back. New wires them all.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/store"
)

// Client is River's client on assessgate's database.
type Client = river.Client[*sql.Tx]

// Config is what the job client needs.
type Config struct {
	DB      *store.DB
	Store   *store.Store
	Logger  *slog.Logger
	Workers *river.Workers

	// PeriodicJobs run once per period across all replicas (River elects a
	// leader that schedules them).
	PeriodicJobs []*river.PeriodicJob

	// MaxWorkers bounds the jobs worked at once by this process. Zero means
	// DefaultMaxWorkers.
	MaxWorkers int
	// PollInterval is how often an idle client looks for new jobs. Neither
	// SQLite nor database/sql on Postgres has LISTEN, so River polls.
	PollInterval time.Duration

	// Clock, if set, is the time River schedules, fetches and retries jobs
	// by, instead of the wall clock; tests set it (see package clock).
	Clock clock.Clock
	// Retry is the backoff of failed jobs (default: 1 s doubling to 1 h).
	Retry RetryPolicy

	// Name names this process among the replicas in River's records (the
	// leader, who worked a job); River's client id is Name followed by the
	// start time, so two processes given one name still differ. Empty means
	// the host name.
	Name string
	// RescueAfter is how long a job may run before it is taken for the job
	// of a dead replica and given to another (River's rescuer, which runs
	// on the leader every 30 s). A job is cancelled after half of it, at
	// most a minute, so that a live replica's job is never rescued while it
	// runs. Zero means DefaultRescueAfter.
	RescueAfter time.Duration
}

// DefaultMaxWorkers is Config.MaxWorkers's default. A job spends most of
// its time waiting (for SMTP, Kombo, or a commit it shares with others), so
// at 500 orders a second ten workers let invitations fall behind by
// seconds where thirty keep up (docs/benchmarks.md). Webhooks cannot be
// starved of connections by jobs: they commit through group commit, which
// has connections of its own on Postgres (store.DB), while jobs read through
// the pool of 20 (seen with 20 workers and one pool in TestReplicas).
const DefaultMaxWorkers = 30

// DefaultRescueAfter is Config.RescueAfter's default.
const DefaultRescueAfter = 2 * time.Minute

// jobTimeout returns how long one job may run, given when it is rescued.
func jobTimeout(rescueAfter time.Duration) time.Duration {
	return min(time.Minute, rescueAfter/2)
}

// NewClient returns a River client that works jobs on the store's database.
func NewClient(cfg Config) (*Client, error) {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.Retry.Base <= 0 {
		cfg.Retry.Base = time.Second
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = time.Hour
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	client, err := river.NewClient(cfg.DB.RiverDriver(), &river.Config{
		ID:                clientID(cfg.Name, time.Now()),
		Logger:            quiet(cfg.Logger).With("component", "river"),
		Workers:           cfg.Workers,
		PeriodicJobs:      cfg.PeriodicJobs,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: cfg.PollInterval,
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.MaxWorkers},
		},
		// A job whose replica died is handed to another after this long.
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           jobTimeout(cfg.RescueAfter),
		RetryPolicy:          cfg.Retry,
		Test:                 river.TestConfig{Time: timeGenerator(cfg.Clock)},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// NewQueue returns a River client that only inserts jobs: the one that
// Events and the workers insert with, made before the store (which Events
// is given to) and the workers (which are given the store). Commands such
// as "assessgate erase" insert with one too, for the running replicas to
// work. clk is the time jobs are scheduled by; nil: the wall clock.
func NewQueue(db *store.DB, logger *slog.Logger, clk clock.Clock) (*Client, error) {
	client, err := river.NewClient(db.RiverDriver(), &river.Config{
		Logger: quiet(logger).With("component", "river"),
		Test:   river.TestConfig{Time: timeGenerator(clk)},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// timeGenerator returns clk for River, which takes a nil interface, not a
// nil *clock.Stub, for the wall clock.
func timeGenerator(clk clock.Clock) rivertype.TimeGenerator {
	if clk == nil {
		return nil
	}
	return clk
}

// clientID returns River's client id for a process named name that started
// at start, in the style of River's default (host name and start time, dots
// and colons made underscores).
func clientID(name string, start time.Time) string {
	if name == "" {
		name = "assessgate"
	}
	name = strings.NewReplacer(".", "_", ":", "_").Replace(name)
	return name + "_" + strings.Replace(start.UTC().Format("2006_01_02T15_04_05.000000"), ".", "_", 1)
}

// quiet returns a logger that passes on warnings and errors only: River logs
// routine job counts at info level every few seconds.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(minLevel{l.Handler(), slog.LevelWarn})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
