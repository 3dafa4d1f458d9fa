package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// benchStore opens a fresh store on d with the jobs' Events, as serve wires it
// (jobs are inserted, not worked).
func benchStore(b *testing.B, d storetest.Database, g store.GroupCommit) *store.Store {
	b.Helper()
	db := storetest.Open(b, d)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	queue, err := jobs.NewQueue(db, logger, nil)
	if err != nil {
		b.Fatal(err)
	}
	return store.New(db, store.Config{Logger: logger, GroupCommit: g, Events: jobs.NewEvents(jobs.EventsConfig{Queue: queue})})
}

// benchIntake returns an order webhook with made-up data and ids from n.
func benchIntake(b *testing.B, prefix string, n int64) *store.Intake {
	// Ids spread as Kombo's do (24 random-looking characters), so that each
	// lands on a page of its own in an index keyed by it.
	id := randomID(prefix + strconv.FormatInt(n, 10))
	body := kombotest.OrderWebhook(randomID("ev-"+id), kombotest.Order(kombotest.WithID(id), kombotest.WithIntegration("workday:bench"),
		kombotest.WithEmail("candidate-"+id+"@example.com")))
	w, err := kombo.ParseWebhook(body)
	if err != nil {
		b.Fatal(err)
	}
	return &store.Intake{Webhook: w, Body: body}
}

// randomID returns an id of 24 hex digits that looks random, from seed.
func randomID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:12])
}

// BenchmarkStore_Intake measures one webhook stored durably at a time: the
// latency of an intake with nothing to share its commit.
func BenchmarkStore_Intake(b *testing.B) {
	for _, name := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			st := benchStore(b, freshDatabase(b, name), store.GroupCommit{})
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if _, err := st.Intake(ctx, benchIntake(b, "single-", int64(i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStore_IntakeParallel measures 64 concurrent intakes, with group
// commit (the default) and without (one transaction per webhook).
func BenchmarkStore_IntakeParallel(b *testing.B) {
	for _, name := range benchDatabases(b) {
		for _, g := range []struct {
			name string
			gc   store.GroupCommit
		}{{"group", store.GroupCommit{}}, {"single", store.GroupCommit{MaxItems: 1}}} {
			b.Run(name+"/"+g.name, func(b *testing.B) {
				st := benchStore(b, freshDatabase(b, name), g.gc)
				ctx := context.Background()
				var n atomic.Int64
				b.SetParallelism(32) // 64 goroutines on 2 cores
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := st.Intake(ctx, benchIntake(b, "par-", n.Add(1))); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				s := st.GroupCommitStats()
				if s.Transactions > 0 {
					b.ReportMetric(float64(s.Items)/float64(s.Transactions), "webhooks/tx")
				}
			})
		}
	}
}

// benchDatabases names the databases to benchmark: sqlite, and postgres
// when the tests have a server.
func benchDatabases(b *testing.B) []string {
	var names []string
	for _, d := range storetest.Databases(b) {
		names = append(names, d.Name)
	}
	return names
}

// freshDatabase returns a new, empty database of the named kind: every run
// of a benchmark function starts from nothing, so that no webhook is a
// duplicate of an earlier run's.
func freshDatabase(b *testing.B, name string) storetest.Database {
	if name == "postgres" {
		d, _ := storetest.Postgres(b)
		return d
	}
	return storetest.SQLite(b)
}

// BenchmarkStore_PagesPerWebhook measures what the intake writes for a
// webhook, b.N webhooks from 64 goroutines into a database that already
// holds 20,000 orders (so that an index keyed by a random id spreads over
// many pages, as in production): on SQLite the pages (WAL frames) written,
// on both databases the WAL bytes. River's job rows are included.
//
//	go test -run XXX -bench PagesPerWebhook -benchtime 2000x ./internal/store
func BenchmarkStore_PagesPerWebhook(b *testing.B) {
	for _, name := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			d := freshDatabase(b, name)
			db := storetest.Open(b, d)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			queue, err := jobs.NewQueue(db, logger, nil)
			if err != nil {
				b.Fatal(err)
			}
			st := store.New(db, store.Config{Logger: logger, Events: jobs.NewEvents(jobs.EventsConfig{Queue: queue})})
			ctx := context.Background()
			intake := func(prefix string, from, n int) {
				var next atomic.Int64
				next.Store(int64(from))
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						for {
							i := next.Add(1)
							if i > int64(from+n) {
								return
							}
							if _, err := st.Intake(ctx, benchIntake(b, prefix, i)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
			intake("fill-", 0, 20000)

			var before int64
			if name == "sqlite" {
				if err := store.StopCheckpoints(db); err != nil {
					b.Fatal(err)
				}
			} else if err := db.Writer.QueryRow("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").Scan(&before); err != nil {
				b.Fatal(err)
			}
			tx0 := st.GroupCommitStats().Transactions
			b.ResetTimer()
			intake("measured-", 0, b.N)
			b.StopTimer()
			if txs := st.GroupCommitStats().Transactions - tx0; txs > 0 {
				b.ReportMetric(float64(b.N)/float64(txs), "webhooks/tx")
			}
			if name == "sqlite" {
				frames, pageSize, err := store.WALFrames(db)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(frames)/float64(b.N), "pages/webhook")
				b.ReportMetric(float64(frames*(pageSize+24))/float64(b.N), "WAL-bytes/webhook")
				return
			}
			var after int64
			if err := db.Writer.QueryRow("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").Scan(&after); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(after-before)/float64(b.N), "WAL-bytes/webhook")
		})
	}
}
