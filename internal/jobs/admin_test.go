package jobs_test

import (
	"maps"
	"testing"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
	"github.com/riverqueue/river"
)

func TestAdminQueries(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			// The integration-created webhook of newEnv queued a push.
			w, err := jobs.OldestWaiting(e.ctx, e.client)
			if err != nil || w == nil || w.Kind != "push_packages" || w.IntegrationID != integrationID || w.State != "available" {
				t.Fatalf("OldestWaiting = %+v, %v; want the push_packages job of %s", w, err, integrationID)
			}
			n, err := jobs.PushPackagesToAll(e.ctx, e.client, e.st)
			if err != nil || n != 1 {
				t.Fatalf("PushPackagesToAll = %d, %v; want 1 (the one active integration)", n, err)
			}
			var pushes int
			e.st.DB().Reader.QueryRow("SELECT count(*) FROM river_job WHERE kind = 'push_packages'").Scan(&pushes)
			if pushes != 2 {
				t.Errorf("push_packages jobs = %d; want 2", pushes)
			}

			if counts, err := jobs.CountDeadLetters(e.ctx, e.st); err != nil || len(counts) != 0 {
				t.Errorf("CountDeadLetters = %v, %v; want none", counts, err)
			}
			if _, err := e.client.JobCancel(e.ctx, w.ID); err != nil {
				t.Fatal(err)
			}
			counts, err := jobs.CountDeadLetters(e.ctx, e.st)
			if err != nil || counts["push_packages"] != 1 || len(counts) != 1 {
				t.Errorf("CountDeadLetters = %v, %v; want push_packages: 1", counts, err)
			}
			if w2, err := jobs.OldestWaiting(e.ctx, e.client); err != nil || w2 == nil || w2.ID == w.ID {
				t.Errorf("OldestWaiting after cancelling %d = %+v, %v; want the next push", w.ID, w2, err)
			}
		})
	}
}

// TestDeadLettersByIntegration counts a dead letter for the integration it
// names, or for the integrations of its orders, each once.
func TestDeadLettersByIntegration(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "") // pushes packages to integrationID: one job
			e.order("o1")         // invites o1: one job
			if _, _, err := e.st.CreateOrder(e.ctx, &kombo.Order{ID: "o2", IntegrationID: "lever:other", PackageID: "typescript_test",
				Status: kombo.OrderStatusOpen, Candidate: kombo.Candidate{Email: "o2@example.com"}}, orders.SourceWebhook); err != nil {
				t.Fatal(err) // invites o2, and discovers lever:other, unknown so far: two jobs
			}
			for _, args := range []river.JobArgs{jobs.InviteManyArgs{OrderIDs: []string{"o1", "o2", "gone"}}, jobs.PushPackagesArgs{IntegrationID: "ashby:z"}} {
				if _, err := e.client.Insert(e.ctx, args, nil); err != nil {
					t.Fatal(err)
				}
			}
			if counts, err := jobs.DeadLettersByIntegration(e.ctx, e.st); err != nil || len(counts) != 0 {
				t.Fatalf("before any job failed: %v, %v; want none", counts, err)
			}
			if _, err := e.st.DB().Writer.ExecContext(e.ctx, "UPDATE river_job SET state = 'discarded', finalized_at = $1", e.clk.Now()); err != nil {
				t.Fatal(err)
			}
			counts, err := jobs.DeadLettersByIntegration(e.ctx, e.st)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{integrationID: 3, "lever:other": 3, "ashby:z": 1}
			if !maps.Equal(counts, want) {
				t.Errorf("dead letters by integration = %v; want %v", counts, want)
			}
		})
	}
}
