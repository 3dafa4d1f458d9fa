// Package jobs holds assessgate's background work as River jobs: inviting
// candidates, reminding, expiring, writing results back to Kombo, pushing
// packages and reconciling orders. Jobs are inserted in the transaction that
// stores the data causing them (see store.Hooks), so none is lost or run for
// data that was rolled back.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/orders"
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

	// MaxWorkers bounds the jobs worked at once by this process.
	MaxWorkers int
	// PollInterval is how often an idle client looks for new jobs. Neither
	// SQLite nor database/sql on Postgres has LISTEN, so River polls.
	PollInterval time.Duration

	// Clock, if set, is the time River schedules, fetches and retries jobs
	// by, instead of the wall clock; tests set it (see package clock).
	Clock rivertype.TimeGenerator
}

// NewClient returns a River client that works jobs on the store's database.
func NewClient(cfg Config) (*Client, error) {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 20
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	client, err := river.NewClient(cfg.DB.RiverDriver(), &river.Config{
		Logger:            quiet(cfg.Logger).With("component", "river"),
		Workers:           cfg.Workers,
		PeriodicJobs:      cfg.PeriodicJobs,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: cfg.PollInterval,
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.MaxWorkers},
		},
		// A job whose replica died is handed to another after this long.
		RescueStuckJobsAfter: 2 * time.Minute,
		JobTimeout:           time.Minute,
		Test:                 river.TestConfig{Time: cfg.Clock},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// Hooks returns the store hooks that enqueue the jobs an order or an
// integration causes, in the transaction that stores it.
func Hooks(client *Client) store.Hooks {
	return store.Hooks{
		OrderCreated: func(ctx context.Context, tx *sql.Tx, o *orders.Order) error {
			if o.Source == orders.SourceInline {
				// The candidate was redirected to the link already.
				return nil
			}
			_, err := client.InsertTx(ctx, tx, InviteArgs{OrderID: o.ID}, nil)
			return err
		},
	}
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
