package jobs_test

import (
	"testing"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// TestWritebackWorker_LandedEarlier: an attempt whose answer was lost (a
// timeout) may have reached Kombo, which then refuses the retry because the
// order is no longer OPEN. The retry reads the order back and, when Kombo
// has the result's status, takes the result as delivered; a first attempt
// refused the same way is a dead letter, as any refusal is.
func TestWritebackWorker_LandedEarlier(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			fake := kombotest.NewServer()
			t.Cleanup(fake.Close)
			w := &jobs.WritebackWorker{Store: e.st, Kombo: fake.Client(), Logger: e.c.Logger, Limiter: jobs.NewLimiter(1)}
			at := kombo.FormatTime(e.clk.Now())
			completed := &kombo.ResultRequest{Status: kombo.OrderStatusCompleted, ResultURL: "https://vendor.example/r", CompletedAt: &at}

			for _, tc := range []struct {
				id       string
				attempt  int
				atKombo  kombo.OrderStatus // what an earlier attempt left there
				wantDone bool
			}{
				{"landed", 2, kombo.OrderStatusCompleted, true},
				{"first-attempt", 1, kombo.OrderStatusCompleted, false},
				{"other-status", 2, kombo.OrderStatusCancelled, false},
			} {
				e.order(tc.id)
				if _, _, err := e.st.AcceptResult(e.ctx, tc.id, completed); err != nil {
					t.Fatal(err)
				}
				fake.AddOrder(integrationID, kombo.Order{ID: tc.id, PackageID: "typescript_test", Status: tc.atKombo})
				err := work[jobs.WritebackArgs](e, w, jobs.WritebackArgs{OrderID: tc.id, IntegrationID: integrationID}, tc.attempt)
				res, ferr := e.st.LatestResult(e.ctx, tc.id)
				if ferr != nil {
					t.Fatal(ferr)
				}
				if done := res.DeliveredAt != nil; done != tc.wantDone || (err == nil) != tc.wantDone {
					t.Errorf("%s: attempt %d with Kombo's order %s: delivered %v, err %v; want delivered %v",
						tc.id, tc.attempt, tc.atKombo, done, err, tc.wantDone)
				}
				dead := events(e.find(tc.id), orders.DeadLetter{}.Kind())
				if tc.wantDone == (len(dead) != 0) {
					t.Errorf("%s: dead letters %d; want none when delivered, one otherwise", tc.id, len(dead))
				}
			}
		})
	}
}
