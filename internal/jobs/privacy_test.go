package jobs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/jobs/vendortest"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

// vendorArgs returns the args of the vendor webhook jobs of an order.
func (e *env) vendorArgs(orderID string) []jobs.VendorWebhookArgs {
	e.t.Helper()
	var out []jobs.VendorWebhookArgs
	for _, j := range e.jobsOf("vendor_webhook", orderID) {
		var a jobs.VendorWebhookArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// erase erases the candidate of order id (id@example.com).
func (e *env) erase(id string) {
	e.t.Helper()
	if _, err := e.st.EraseCandidate(e.ctx, id+"@example.com", orders.ActorAPI); err != nil {
		e.t.Fatal(err)
	}
}

// TestVendorWebhookWorker_ReadsOrderWhenSent: a vendor webhook shows the
// order's state as it was at the event, Kombo's fields as they are when it
// is sent, and an order erased meanwhile erased; the erasure itself is an
// event.
func TestVendorWebhookWorker_ReadsOrderWhenSent(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			var e *env
			rcv := vendortest.NewReceiver(t, "whsec_"+testKeyB64, 0, func() time.Time { return e.clk.Now() })
			e = newEnv(t, d, rcv.URL)
			e.order("o1")
			created := e.vendorArgs("o1")[0]
			if err := e.invite("o1"); err != nil {
				t.Fatal(err)
			}
			w := &jobs.VendorWebhookWorker{Vendor: e.c.Vendor, Store: e.st}
			send := func() map[string]any {
				t.Helper()
				if err := work[jobs.VendorWebhookArgs](e, w, created, 1); err != nil {
					t.Fatal(err)
				}
				reqs := rcv.Requests()
				return reqs[len(reqs)-1].Event.Data
			}

			data := send()
			if data["state"] != "received" || data["invited_at"] != nil || data["candidate"].(map[string]any)["email"] != "o1@example.com" || data["erased"] != false {
				t.Errorf("order.created sent after the invitation = %v; want the state at creation, with Kombo's data", data)
			}

			e.erase("o1")
			data = send()
			candidate := data["candidate"].(map[string]any)
			if data["erased"] != true || candidate["email"] != "" || candidate["first_name"] != nil || data["state"] != "received" {
				t.Errorf("order.created sent after the erasure = %v; want the order erased", data)
			}
			if got := e.vendorEvents("o1"); !slices.Contains(got, jobs.EventOrderErased) {
				t.Errorf("vendor events after the erasure = %v; want %s", got, jobs.EventOrderErased)
			}
		})
	}
}

// legacyVendorArgs is a vendor webhook job as versions before
// VendorWebhookArgs.State enqueued it: with the order, personal data and
// all, in River's row.
type legacyVendorArgs struct {
	WebhookID string          `json:"webhook_id"`
	Event     string          `json:"event"`
	OrderID   string          `json:"order_id"`
	At        int64           `json:"at"`
	Data      json.RawMessage `json:"data"`
}

func (legacyVendorArgs) Kind() string { return "vendor_webhook" }

// TestMigrate_ScrubVendorWebhookArgs: migration 0005 removes the order from
// the args of vendor webhook jobs enqueued by earlier versions.
func TestMigrate_ScrubVendorWebhookArgs(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			var e *env
			rcv := vendortest.NewReceiver(t, "whsec_"+testKeyB64, 0, func() time.Time { return e.clk.Now() })
			e = newEnv(t, d, rcv.URL)
			o := e.order("o1")
			data, _ := json.Marshal(orders.NewView(o))
			if _, err := e.client.Insert(e.ctx, legacyVendorArgs{WebhookID: "msg_legacy", Event: "order.created", OrderID: "o1", At: 1, Data: data}, nil); err != nil {
				t.Fatal(err)
			}
			// The job was enqueued before migration 0005: run it again.
			if got := rerunMigration(t, e, 5); len(got) != 1 || got[0] != "assessgate 0005_scrub_vendor_webhook_args.sql" {
				t.Fatalf("migrations applied again = %q; want 0005 alone", got)
			}
			var legacy jobs.VendorWebhookArgs
			for _, j := range e.jobsOf("vendor_webhook", "o1") {
				if strings.Contains(string(j.EncodedArgs), "o1@example.com") {
					t.Errorf("job %d args after the scrub = %s; want no personal data", j.ID, j.EncodedArgs)
				}
				json.Unmarshal(j.EncodedArgs, &legacy)
				if legacy.WebhookID == "msg_legacy" {
					break
				}
			}
			if legacy.WebhookID != "msg_legacy" || legacy.OrderID != "o1" {
				t.Fatalf("scrubbed job args = %+v; want its ids kept", legacy)
			}
			if got, err := e.st.DB().MigrateUp(e.ctx); err != nil || len(got) != 0 {
				t.Errorf("MigrateUp again = %q, %v; want nothing to do", got, err)
			}
			// The scrubbed job still sends the order, read when it is sent.
			if err := work[jobs.VendorWebhookArgs](e, &jobs.VendorWebhookWorker{Vendor: e.c.Vendor, Store: e.st}, legacy, 1); err != nil {
				t.Fatal(err)
			}
			if got := rcv.Requests()[0].Event.Data; got["id"] != "o1" || got["candidate"].(map[string]any)["email"] != "o1@example.com" {
				t.Errorf("scrubbed legacy job sent %v; want the order", got)
			}
		})
	}
}

// TestCandidates_NoMailAfterErasure: an erased candidate gets no
// invitation, reminder or re-invitation, whenever the erasure came.
func TestCandidates_NoMailAfterErasure(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			// Erased before the invitation job runs.
			e.order("early")
			e.erase("early")
			if err := e.invite("early"); err != nil {
				t.Fatal(err)
			}
			// Erased after the invitation, before the reminder.
			e.order("late")
			if err := e.invite("late"); err != nil {
				t.Fatal(err)
			}
			e.erase("late")
			var remind jobs.RemindArgs
			json.Unmarshal(e.jobsOf("remind", "late")[0].EncodedArgs, &remind)
			e.clk.Advance(remindAfter)
			if err := work[jobs.RemindArgs](e, &jobs.RemindWorker{C: e.c}, remind, 1); err != nil {
				t.Fatal(err)
			}
			if n, m := len(e.mailer.to("early@example.com")), len(e.mailer.to("late@example.com")); n != 0 || m != 1 {
				t.Errorf("mails to the erased candidates: %d, %d; want none but the invitation sent before the erasure", n, m)
			}
			for _, id := range []string{"early", "late"} {
				skipped := events(e.find(id), orders.EventMailSkipped)
				if len(skipped) != 1 || skipped[0].Detail()["reason"] != "the candidate's personal data was erased" {
					t.Errorf("%s: mail.skipped %+v; want one, saying the data was erased", id, skipped)
				}
			}
			if _, err := e.st.RequestInvite(e.ctx, "late"); orders.ErrorCode(err) != orders.ECONFLICT {
				t.Errorf("RequestInvite(erased) = %v; want a conflict", err)
			}
		})
	}
}

// TestCandidates_IntegrationDeleted: once Kombo deletes an integration, its
// orders get no e-mail and no write-back, and expire without one.
func TestCandidates_IntegrationDeleted(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			e.order("invited")
			if err := e.invite("invited"); err != nil {
				t.Fatal(err)
			}
			e.order("waiting")
			if _, _, err := e.st.AcceptResult(e.ctx, "invited", &kombo.ResultRequest{Status: kombo.OrderStatusOpen, ResultURL: "https://vendor.example/r"}); err != nil {
				t.Fatal(err)
			}

			body, err := os.ReadFile(filepath.Join("..", "..", "kombo", "testdata", "webhook-integration-deleted.json"))
			if err != nil {
				t.Fatal(err)
			}
			hook, err := kombo.ParseWebhook(body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.st.Intake(e.ctx, &store.Intake{Webhook: hook, Body: body}); err != nil {
				t.Fatal(err)
			}

			if err := e.invite("waiting"); err != nil {
				t.Fatal(err)
			}
			if n := len(e.mailer.to("waiting@example.com")); n != 0 {
				t.Errorf("invitations after the integration was deleted = %d; want 0", n)
			}
			if s := events(e.find("waiting"), orders.EventMailSkipped); len(s) != 1 || s[0].Detail()["reason"] != "the integration was deleted" {
				t.Errorf("mail.skipped = %+v; want one saying the integration was deleted", s)
			}

			// The write-back of a result does not call Kombo (there is no
			// Kombo client here: a call would fail the job).
			wb := &jobs.WritebackWorker{Store: e.st, Logger: e.c.Logger, Limiter: jobs.NewLimiter(1)}
			if err := work[jobs.WritebackArgs](e, wb, jobs.WritebackArgs{OrderID: "invited", IntegrationID: integrationID}, 1); err != nil {
				t.Errorf("write-back for a deleted integration = %v; want it skipped", err)
			}
			if s := events(e.find("invited"), orders.EventWritebackSkip); len(s) != 1 || s[0].Detail()["reason"] != "the integration was deleted" {
				t.Errorf("writeback.skipped = %+v; want one saying the integration was deleted", s)
			}

			// The expiry still expires the order, without a write-back.
			var expire jobs.ExpireArgs
			json.Unmarshal(e.jobsOf("expire", "invited")[0].EncodedArgs, &expire)
			e.clk.Advance(ttl)
			if err := work[jobs.ExpireArgs](e, &jobs.ExpireWorker{C: e.c}, expire, 1); err != nil {
				t.Fatal(err)
			}
			if o := e.find("invited"); o.State != orders.StateExpired || len(e.results) != 0 {
				t.Errorf("after expiry: %s, %d results enqueued; want expired, none written back", o.State, len(e.results))
			}
		})
	}
}

// TestWritebackWorker_Erased: a result erased with its order is not written
// back; a result recorded after the erasure (the expiry's) is.
func TestWritebackWorker_Erased(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			e.order("o1")
			if _, _, err := e.st.AcceptResult(e.ctx, "o1", &kombo.ResultRequest{Status: kombo.OrderStatusOpen, ResultURL: "https://vendor.example/r/o1"}); err != nil {
				t.Fatal(err)
			}
			e.erase("o1")
			wb := &jobs.WritebackWorker{Store: e.st, Logger: e.c.Logger, Limiter: jobs.NewLimiter(1)}
			if err := work[jobs.WritebackArgs](e, wb, jobs.WritebackArgs{OrderID: "o1", IntegrationID: integrationID}, 1); err != nil {
				t.Errorf("write-back of an erased result = %v; want it skipped", err)
			}
			if s := events(e.find("o1"), orders.EventWritebackSkip); len(s) != 1 || !strings.Contains(s[0].Detail()["reason"].(string), "erased") {
				t.Errorf("writeback.skipped = %+v; want one saying the result was erased", s)
			}

			e.clk.Advance(time.Minute)
			tx, _ := e.st.DB().Writer.Begin()
			if _, err := e.st.RecordResultTx(e.ctx, tx, "o1", jobs.ExpiryResult(e.find("o1"), e.clk.Now(), publicURL)); err != nil {
				t.Fatal(err)
			}
			tx.Commit()
			// Written back: without a Kombo client the job fails, as it
			// would on any result it tries to deliver.
			if err := work[jobs.WritebackArgs](e, wb, jobs.WritebackArgs{OrderID: "o1", IntegrationID: integrationID}, 1); err == nil || !strings.Contains(err.Error(), "KOMBO_API_KEY") {
				t.Errorf("write-back of a result recorded after the erasure = %v; want it attempted", err)
			}
		})
	}
}

func TestRetentionWorker(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			e := newEnv(t, d, "")
			e.order("o1")
			e.order("o2")
			if _, _, err := e.st.AcceptResult(e.ctx, "o1", &kombo.ResultRequest{Status: kombo.OrderStatusCancelled,
				ResultURL: "https://vendor.example", CompletedAt: ptr(kombo.FormatTime(e.clk.Now()))}); err != nil {
				t.Fatal(err)
			}
			r := &jobs.Retention{Store: e.st, Logger: e.c.Logger, Policy: store.Retention{AfterClose: 24 * time.Hour}}
			e.clk.Advance(25 * time.Hour)
			sum, err := r.Run(e.ctx)
			if err != nil || !slices.Equal(sum.Orders, []string{"o1"}) || sum.Erasures != 1 {
				t.Fatalf("Retention.Run = %+v, %v; want o1 erased", sum, err)
			}
			if o := e.find("o1"); o.ErasedAt == nil || o.Candidate.Email != "" {
				t.Errorf("o1 after retention = %+v; want erased", o)
			}
			if job := jobs.RetentionPeriodic(time.Hour); job == nil {
				t.Errorf("RetentionPeriodic = nil")
			}
			var _ river.Worker[jobs.RetentionArgs] = &jobs.RetentionWorker{Retention: r}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// rerunMigration forgets that assessgate's migration version was applied and
// migrates again, as on a database of the version before it; it returns
// what MigrateUp applied.
func rerunMigration(t *testing.T, e *env, version int) []string {
	t.Helper()
	db := e.st.DB()
	if _, err := db.Writer.ExecContext(e.ctx, "DELETE FROM assessgate_migrations WHERE version = $1", version); err != nil {
		t.Fatal(err)
	}
	applied, err := db.MigrateUp(e.ctx)
	if err != nil {
		t.Fatalf("MigrateUp = %v", err)
	}
	return applied
}
