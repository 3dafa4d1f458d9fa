package jobs

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// ServiceConfig is everything assessgate's jobs need.
type ServiceConfig struct {
	Store  *store.Store
	Queue  *Client // NewQueue: the client Events inserts with
	Logger *slog.Logger
	Clock  clock.Clock // nil: the wall clock

	// Kombo is Kombo's API; nil (no KOMBO_API_KEY) parks write-backs,
	// package pushes and integration discovery until a replica starts with
	// the key (see Parking), and leaves orders unreconciled.
	Kombo *kombo.Client
	// RelinkMailer, if set, e-mails an INVALID integration's reconnection
	// link to its creator (ASSESSGATE_RELINK_EMAIL).
	RelinkMailer Mailer
	// KomboConcurrency bounds Kombo calls in flight per integration.
	KomboConcurrency int
	// ReconcileInterval is how often open orders are read back from Kombo;
	// zero: never.
	ReconcileInterval time.Duration
	// ParkedMaxAge bounds how long work stays parked (see Parking) before
	// it becomes a dead letter; zero: DefaultParkedMaxAge.
	ParkedMaxAge time.Duration
	// ParkedCheckInterval is how often the integrations of parked work are
	// read back from Kombo; zero: DefaultParkedCheckInterval.
	ParkedCheckInterval time.Duration

	// Candidates is how the candidate side works; its Catalogue names
	// packages for the reconciliation too.
	Candidates CandidateSettings

	// Retention is when personal data is erased, checked every
	// RetentionInterval.
	Retention         store.Retention
	RetentionInterval time.Duration
	// HeartbeatInterval is the period of the heartbeat job.
	HeartbeatInterval time.Duration

	// How River works the jobs: see Config.
	Retry       RetryPolicy
	Name        string
	RescueAfter time.Duration
	MaxWorkers  int
}

// Service is assessgate's jobs: every worker and periodic job registered on
// one River client. Make it with New, then Start it.
type Service struct {
	client *Client
	logger *slog.Logger
	store  *store.Store
	kombo  *kombo.Client
	// Reconciler reads open orders back from Kombo, on request too.
	Reconciler *Reconciler
	// Retention erases personal data that is due, on request too.
	Retention *Retention
}

// New registers every worker and periodic job of assessgate and returns
// the service, not started.
func New(cfg ServiceConfig) (*Service, error) {
	if cfg.Retry.Base <= 0 {
		cfg.Retry.Base = time.Second
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = time.Hour
	}
	st, logger := cfg.Store, cfg.Logger
	limiter := NewLimiter(max(cfg.KomboConcurrency, 1))
	reconciler := &Reconciler{Store: st, Kombo: cfg.Kombo, Catalogue: cfg.Candidates.Catalogue, Limiter: limiter, Logger: logger,
		ResultURL: cfg.Candidates.PublicURL}
	retention := &Retention{Store: st, Policy: cfg.Retention, Logger: logger}
	candidates := &Candidates{CandidateSettings: cfg.Candidates, Store: st, Logger: logger, Queue: cfg.Queue, Retry: cfg.Retry}

	parking := &Parking{Store: st, MaxAge: cfg.ParkedMaxAge, Clock: cfg.Clock, Logger: logger}

	workers := river.NewWorkers()
	candidates.AddWorkers(workers)
	river.AddWorker(workers, &WritebackWorker{Store: st, Kombo: cfg.Kombo, Limiter: limiter, Logger: logger,
		Vendor: candidates.Vendor, Queue: cfg.Queue, Parking: parking})
	river.AddWorker(workers, &PushPackagesWorker{Store: st, Kombo: cfg.Kombo, Limiter: limiter, Logger: logger, Parking: parking})
	river.AddWorker(workers, &DiscoverIntegrationWorker{Store: st, Kombo: cfg.Kombo, Limiter: limiter, Logger: logger, Parking: parking})
	river.AddWorker(workers, &WakeParkedWorker{Store: st})
	river.AddWorker(workers, &ParkedCheckWorker{Store: st, Kombo: cfg.Kombo, Limiter: limiter, Logger: logger})
	river.AddWorker(workers, &RelinkWorker{Store: st, Kombo: cfg.Kombo, Mailer: cfg.RelinkMailer, Logger: logger})
	river.AddWorker(workers, &ReconcileWorker{Reconciler: reconciler})
	river.AddWorker(workers, &ReconcileIntegrationWorker{Reconciler: reconciler})
	river.AddWorker(workers, &HeartbeatWorker{Logger: logger})
	river.AddWorker(workers, &RetentionWorker{Retention: retention})

	periodic := []*river.PeriodicJob{Heartbeat(cfg.HeartbeatInterval), RetentionPeriodic(cfg.RetentionInterval)}
	if cfg.ReconcileInterval > 0 && cfg.Kombo != nil {
		periodic = append(periodic, ReconcilePeriodic(cfg.ReconcileInterval))
	}
	if cfg.Kombo != nil {
		periodic = append(periodic, ParkedCheckPeriodic(cmp.Or(cfg.ParkedCheckInterval, DefaultParkedCheckInterval)))
	}
	client, err := NewClient(Config{
		DB: st.DB(), Store: st, Logger: logger, Workers: workers, PeriodicJobs: periodic, Clock: cfg.Clock,
		Retry: cfg.Retry, Name: cfg.Name, RescueAfter: cfg.RescueAfter, MaxWorkers: cfg.MaxWorkers,
	})
	if err != nil {
		return nil, err
	}
	return &Service{client: client, logger: logger, store: st, kombo: cfg.Kombo, Reconciler: reconciler, Retention: retention}, nil
}

// Client returns River's client, for the job views and dead letters.
func (s *Service) Client() *Client { return s.client }

// Start starts working jobs. With KOMBO_API_KEY, the work parked for want
// of it wakes first.
func (s *Service) Start(ctx context.Context) error {
	if s.kombo != nil {
		if err := resumeWithKey(ctx, s.store, s.client, s.logger); err != nil {
			return err
		}
	}
	return s.client.Start(ctx)
}

// Stop stops working jobs: running ones get until ctx is done, then are
// cancelled (and retried later, by this replica or another) for up to 5 s.
func (s *Service) Stop(ctx context.Context) error {
	err := s.client.Stop(ctx)
	if err == nil {
		return nil
	}
	s.logger.Warn("jobs did not stop in time; cancelling them", "err", err)
	hardCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.client.StopAndCancel(hardCtx)
}
