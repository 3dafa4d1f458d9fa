package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
)

// The tests' keys: A before a rotation, B after.
var (
	keyA = bytes.Repeat([]byte{0xA1}, keyring.KeySize)
	keyB = bytes.Repeat([]byte{0xB2}, keyring.KeySize)
)

func keys(t testing.TB, secrets ...[]byte) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// forEachKeying runs f on each database twice: with personal data in clear
// (no key) and sealed under keyA.
func forEachKeying(t *testing.T, f func(t *testing.T, st *store.Store)) {
	for _, mode := range []struct {
		name string
		keys *keyring.Keyring
	}{{"clear", nil}, {"sealed", keys(t, keyA)}} {
		t.Run(mode.name, func(t *testing.T) {
			forEachDatabase(t, func(t *testing.T, d storetest.Database) {
				f(t, newStore(t, storetest.Open(t, d), withKeyring(mode.keys)))
			})
		})
	}
}

// person is a candidate.
type person struct{ email, first, last, phone string }

var (
	maria = person{"Maria.Schneider@Example.com", "Maria", "Schneider", "+49 30 1234567"}
	ada   = person{"ada.lovelace@example.org", "Augusta", "Lovelace", "+44 20 7946 0000"}
)

func (p person) values() []string {
	return []string{strings.ToLower(p.email), p.email, p.first, p.last, p.phone}
}

// jobValues are the personal and job values of the webhook fixture other
// than the candidate's: the job and its hiring team.
var jobValues = []string{"Senior Backend Engineer", "ENG-2026-042", "payment platform", "Lohmühlenstraße",
	"jonas.weber@acme-corp.example", "Jonas", "Weber", "lena.fischer@acme-corp.example", "Fischer"}

// personIntake is Kombo's full example order (job, location, hiring team)
// for p, as order orderID of testIntegration in event eventID.
func personIntake(t testing.TB, eventID, orderID string, p person) *store.Intake {
	t.Helper()
	b, err := os.ReadFile("../../kombo/testdata/webhook-assessment-order-received.json")
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	w.Data["id"], w.Data["integration_id"] = orderID, testIntegration
	w.Data["candidate"] = map[string]any{"remote_id": "r-" + orderID, "email": p.email, "first_name": p.first, "last_name": p.last, "phone": p.phone}
	return webhookIntake(t, eventID, kombo.EventOrderReceived, w.Data)
}

// rawColumns lists every stored column that could hold personal data, as
// "table.column" and a query for its values (all rows, or those of one
// order when the query takes $1).
var rawColumns = []struct{ name, all, byOrder string }{
	{"orders.data", "SELECT data FROM orders", "SELECT data FROM orders WHERE id = $1"},
	{"orders.email", "SELECT email FROM orders", "SELECT email FROM orders WHERE id = $1"},
	{"webhook_events.body", "SELECT body FROM webhook_events", "SELECT body FROM webhook_events WHERE order_id = $1"},
	{"results.body", "SELECT body FROM results", "SELECT body FROM results WHERE order_id = $1"},
	{"order_events.detail", "SELECT detail FROM order_events", "SELECT detail FROM order_events WHERE order_id = $1"},
	{"links.token_hash", "SELECT token_hash FROM links", "SELECT token_hash FROM links WHERE order_id = $1"},
	{"erasures", "SELECT subject || ' ' || order_ids FROM erasures", ""},
	{"integrations", "SELECT organization_name || ' ' || COALESCE(origin_id, '') FROM integrations", ""},
}

// assertRawAbsent checks that no stored value of the personal columns, of
// every row or of the rows of orderID, contains any of values, however
// cased.
func assertRawAbsent(t testing.TB, st *store.Store, orderID string, values ...string) {
	t.Helper()
	for _, c := range rawColumns {
		q, args := c.all, []any(nil)
		if orderID != "" {
			if c.byOrder == "" {
				continue
			}
			q, args = c.byOrder, []any{orderID}
		}
		for _, raw := range rawStrings(t, st, q, args...) {
			for _, v := range values {
				if strings.Contains(strings.ToLower(raw), strings.ToLower(v)) {
					t.Errorf("%s holds %q: %.200s", c.name, v, raw)
				}
			}
		}
	}
}

func rawStrings(t testing.TB, st *store.Store, q string, args ...any) []string {
	t.Helper()
	rows, err := st.DB().Reader.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func rawString(t testing.TB, st *store.Store, q string, args ...any) string {
	t.Helper()
	list := rawStrings(t, st, q, args...)
	if len(list) != 1 {
		t.Fatalf("%s: %d rows; want 1", q, len(list))
	}
	return list[0]
}

// fullResult is a result that names the candidate in its URL, a note and an
// attachment.
func fullResult() *kombo.ResultRequest {
	r := result(kombo.OrderStatusCompleted)
	r.ResultURL = "https://vendor.example/results/maria-schneider"
	r.Score, r.MaxScore = ptr(82.0), ptr(100.0)
	r.Attributes = []kombo.Attribute{
		kombo.TextAttribute("Note", "Maria Schneider did well"),
		kombo.SubResult("algo", "Algorithms", 40, 50, kombo.OrderStatusCompleted),
	}
	r.Attachments = []kombo.Attachment{{Name: "report-schneider.pdf", DataURL: "https://vendor.example/f/schneider.pdf"}}
	return r
}

func TestStore_Sealed(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		st = newStore(t, st.DB(), withKeyring(keys(t, keyA)))
		created := webhookIntake(t, "ev-int", kombo.EventIntegrationCreated, map[string]any{
			"id": testIntegration, "tool": "greenhouse", "category": "ASSESSMENT",
			"end_user": map[string]any{"organization_name": "Acme Corp", "creator_email": "it-admin@acme-corp.example", "origin_id": "cust_1"},
		})
		mustIntake(t, st, created)
		in := personIntake(t, "ev-1", "order-1", maria)
		mustIntake(t, st, in)
		if _, _, err := st.AcceptResult(ctx, "order-1", fullResult()); err != nil {
			t.Fatal(err)
		}

		// Nothing personal is stored in clear, not even the address.
		assertRawAbsent(t, st, "", append(append(maria.values(), jobValues...), "it-admin@acme-corp.example")...)
		if data := rawString(t, st, "SELECT data FROM orders WHERE id = 'order-1'"); !strings.HasPrefix(data, st.Keyring().SealedPrefix()) {
			t.Errorf("orders.data = %.40s…; want it sealed under %s", data, st.Keyring().SealedPrefix())
		}
		if email := rawString(t, st, "SELECT email FROM orders WHERE id = 'order-1'"); !st.Keyring().IsEmailHash(email) {
			t.Errorf("orders.email = %q; want a keyed hash", email)
		}

		// What goes in comes back.
		o, err := st.FindOrderByID(ctx, "order-1")
		if err != nil {
			t.Fatal(err)
		}
		if want := in.Webhook.Order; !jsonEqual(t, o.Order, *want) {
			t.Errorf("FindOrderByID = %+v; want the order as Kombo sent it", o.Order)
		}
		r, err := st.LatestResult(ctx, "order-1")
		if err != nil || !jsonEqual(t, r.Request, *fullResult()) {
			t.Errorf("LatestResult = %+v, %v; want the result as posted", r, err)
		}

		// The address still finds the order, however it is written.
		for _, email := range []string{"maria.schneider@example.com", " MARIA.Schneider@example.COM "} {
			list, _, err := st.FindOrders(ctx, orders.OrderFilter{Email: ptr(email)})
			if err != nil || !slices.Equal(ids(list), []string{"order-1"}) {
				t.Errorf("FindOrders(email %q) = %v, %v; want order-1", email, ids(list), err)
			}
		}
		for _, email := range []string{"", "maria@example.com"} {
			list, _, err := st.FindOrders(ctx, orders.OrderFilter{Email: ptr(email)})
			if err != nil || len(list) != 0 {
				t.Errorf("FindOrders(email %q) = %v, %v; want none", email, ids(list), err)
			}
		}

		// A sealed value is bound to its row: copied into another, it does
		// not open there, rather than show one candidate's data as another's.
		mustIntake(t, st, personIntake(t, "ev-2", "order-2", ada))
		if _, err := st.DB().Writer.Exec("UPDATE orders SET data = (SELECT data FROM orders WHERE id = 'order-1') WHERE id = 'order-2'"); err != nil {
			t.Fatal(err)
		}
		if o, err := st.FindOrderByID(ctx, "order-2"); err == nil {
			t.Errorf("FindOrderByID(order-2 holding order-1's data) = %s; want an error", o.Candidate.Email)
		}
	})
}

// jsonEqual reports whether a and b encode to the same JSON.
func jsonEqual(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// TestStore_Reseal follows a database from no key, through a key and a
// rotation, to a key dropped too early: rows stay readable throughout, and
// Reseal seals what the current first key did not.
func TestStore_Reseal(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d storetest.Database) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		st := newStore(t, db)
		check := func(st *store.Store, want string) {
			t.Helper()
			for _, id := range []string{"order-1", "order-2"} {
				if _, err := st.FindOrderByID(ctx, id); err != nil {
					t.Errorf("%s: FindOrderByID(%s) = %v", want, id, err)
				}
			}
			if _, err := st.LatestResult(ctx, "order-1"); err != nil {
				t.Errorf("%s: LatestResult = %v", want, err)
			}
			list, _, err := st.FindOrders(ctx, orders.OrderFilter{Email: ptr("maria.schneider@example.com")})
			if err != nil || !slices.Equal(ids(list), []string{"order-1"}) {
				t.Errorf("%s: FindOrders(email) = %v, %v; want order-1", want, ids(list), err)
			}
		}
		reseal := func(st *store.Store, want store.ResealStats) {
			t.Helper()
			got, err := st.Reseal(ctx)
			if err != nil || *got != want {
				t.Fatalf("Reseal() = %+v, %v; want %+v", got, err, want)
			}
		}

		// Written without a key: in clear, the address too.
		mustIntake(t, st, personIntake(t, "ev-1", "order-1", maria))
		if _, _, err := st.AcceptResult(ctx, "order-1", fullResult()); err != nil {
			t.Fatal(err)
		}
		reseal(st, store.ResealStats{})
		reseal(st, store.ResealStats{Skipped: true})
		if email := rawString(t, st, "SELECT email FROM orders WHERE id = 'order-1'"); email != "maria.schneider@example.com" {
			t.Errorf("orders.email without a key = %q; want the normalized address", email)
		}

		// A key is added: old rows read as they are, new ones are sealed,
		// and the address finds both kinds.
		st = newStore(t, db, withKeyring(keys(t, keyA)))
		mustIntake(t, st, personIntake(t, "ev-2", "order-2", ada))
		check(st, "key added")
		reseal(st, store.ResealStats{Orders: 1, WebhookEvents: 1, Results: 1})
		reseal(st, store.ResealStats{Skipped: true})
		assertRawAbsent(t, st, "", append(append(maria.values(), ada.values()...), jobValues...)...)
		check(st, "sealed under A")

		// Rotation: B seals, A still opens, and Reseal moves everything to B.
		st = newStore(t, db, withKeyring(keys(t, keyB, keyA)))
		check(st, "rotated")
		reseal(st, store.ResealStats{Orders: 2, WebhookEvents: 2, Results: 1})
		for _, stored := range rawStrings(t, st, "SELECT data FROM orders") {
			if !strings.HasPrefix(stored, st.Keyring().SealedPrefix()) {
				t.Errorf("after the rotation orders.data = %.40s…; want it sealed under B", stored)
			}
		}
		st = newStore(t, db, withKeyring(keys(t, keyB)))
		reseal(st, store.ResealStats{})
		check(st, "A dropped")
		if err := st.CheckKeys(ctx); err != nil {
			t.Errorf("CheckKeys() under B = %v", err)
		}

		// B dropped by mistake: start-up stops with the row and key named,
		// and no key at all is refused too.
		st = newStore(t, db, withKeyring(keys(t, keyA)))
		if err := st.CheckKeys(ctx); err == nil || !strings.Contains(err.Error(), "ASSESSGATE_ENCRYPTION_KEY does not hold") {
			t.Errorf("CheckKeys() with the wrong key = %v; want an error", err)
		}
		if _, err := st.Reseal(ctx); err == nil || !strings.Contains(err.Error(), "no configured key has this id") {
			t.Errorf("Reseal() with the wrong key = %v; want an error naming the key", err)
		}
		st = newStore(t, db)
		for name, f := range map[string]func(context.Context) error{
			"CheckKeys": st.CheckKeys,
			"Reseal":    func(ctx context.Context) error { _, err := st.Reseal(ctx); return err },
		} {
			if err := f(ctx); err == nil || !strings.Contains(err.Error(), "ASSESSGATE_ENCRYPTION_KEY") {
				t.Errorf("%s() without a key = %v; want an error asking for ASSESSGATE_ENCRYPTION_KEY", name, err)
			}
		}
	})
}

// erasedValues checks what an erased order keeps: ids, state, times,
// timeline, the flag.
func assertErased(t testing.TB, st *store.Store, orderID string, p person) *orders.Order {
	t.Helper()
	o, err := st.FindOrderByID(context.Background(), orderID)
	if err != nil {
		t.Fatalf("FindOrderByID(erased %s) = %v", orderID, err)
	}
	if o.ErasedAt == nil || o.Candidate.Email != "" || o.Candidate.FirstName != nil || o.Candidate.Phone != nil ||
		o.Job.Name != nil || o.Job.Description != nil || o.Job.Location != nil || len(o.Job.HiringTeam) != 0 {
		t.Errorf("erased order %s = %+v; want ids only, marked erased", orderID, o.Order)
	}
	if o.ID != orderID || o.IntegrationID != testIntegration || o.PackageID == "" || o.Candidate.RemoteID == nil || *o.Candidate.RemoteID != "r-"+orderID {
		t.Errorf("erased order %s = %+v; want its ids kept", orderID, o.Order)
	}
	if kinds := timelineKinds(t, st, orderID); kinds[0] != orders.EventReceived || !slices.Contains(kinds, orders.EventErased) {
		t.Errorf("timeline of erased %s = %v; want it kept, with %s", orderID, kinds, orders.EventErased)
	}
	assertRawAbsent(t, st, orderID, append(p.values(), jobValues...)...)
	if n := count(t, st, "links", "order_id = $1", orderID); n != 0 {
		t.Errorf("links of erased %s = %d; want 0", orderID, n)
	}
	if n := count(t, st, "webhook_events", "order_id = $1 AND length(body) > 0", orderID); n != 0 {
		t.Errorf("webhook bodies of erased %s = %d; want none", orderID, n)
	}
	return o
}

func TestStore_EraseCandidate(t *testing.T) {
	forEachKeying(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var (
			mu     sync.Mutex
			hooked []string
		)
		on(st, func(ctx context.Context, tx *sql.Tx, e store.Event) error {
			if e, ok := e.(store.OrdersErased); ok {
				mu.Lock()
				defer mu.Unlock()
				for _, o := range e.Orders {
					hooked = append(hooked, o.ID)
				}
			}
			return nil
		})
		// Two orders of Maria's (one delivered again under a new event, one
		// with a result and links) and one of Ada's.
		mustIntake(t, st, personIntake(t, "ev-1", "cand-1", maria))
		mustIntake(t, st, personIntake(t, "ev-1b", "cand-1", maria))
		mustIntake(t, st, personIntake(t, "ev-2", "cand-2", maria))
		mustIntake(t, st, personIntake(t, "ev-3", "other-1", ada))
		for _, hash := range []string{"hash-m1", "hash-m2"} {
			if err := st.AddLink(ctx, "cand-2", hash); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AddLink(ctx, "other-1", "hash-a1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.AcceptResult(ctx, "cand-2", fullResult()); err != nil {
			t.Fatal(err)
		}

		e, err := st.EraseCandidate(ctx, "  MARIA.SCHNEIDER@example.com", orders.ActorAPI)
		if err != nil {
			t.Fatalf("EraseCandidate = %v", err)
		}
		if !slices.Equal(e.OrderIDs, []string{"cand-1", "cand-2"}) || e.WebhookEvents != 3 || e.Reason != orders.ErasedRequest ||
			e.Actor != orders.ActorAPI || e.ID == 0 || !e.At.Equal(baseTime) {
			t.Errorf("EraseCandidate = %+v; want cand-1 and cand-2 with their 3 webhooks, by the API, now", e)
		}
		if wantSubject := st.Keyring().HashEmail(maria.email); st.Keyring().Enabled() && e.Subject != wantSubject || !st.Keyring().Enabled() && e.Subject != "" {
			t.Errorf("erasure subject = %q; want the keyed hash of the address, or nothing without a key", e.Subject)
		}
		if !slices.Equal(hooked, []string{"cand-1", "cand-2"}) {
			t.Errorf("OrdersErased hook got %v; want cand-1, cand-2", hooked)
		}
		assertErased(t, st, "cand-1", maria)
		assertErased(t, st, "cand-2", maria)

		// The result keeps its status and scores, nothing that names her.
		r, err := st.LatestResult(ctx, "cand-2")
		if err != nil {
			t.Fatal(err)
		}
		if r.Request.Status != kombo.OrderStatusCompleted || *r.Request.Score != 82 || r.Request.ResultURL != "" ||
			len(r.Request.Attachments) != 0 || len(r.Request.Attributes) != 1 || r.Request.Attributes[0].ID != "algo" {
			t.Errorf("erased result = %+v; want status, score and sub-results only", r.Request)
		}

		// Ada's order is untouched.
		o, err := st.FindOrderByID(ctx, "other-1")
		if err != nil || o.ErasedAt != nil || o.Candidate.Email != ada.email || count(t, st, "links", "order_id = 'other-1'") != 1 {
			t.Errorf("Ada's order after Maria's erasure = %+v, %v; want it as it was", o, err)
		}

		// Nothing finds Maria any more, and her erased orders take no
		// links, invitations or results.
		if list, _, _ := st.FindOrders(ctx, orders.OrderFilter{Email: ptr(maria.email)}); len(list) != 0 {
			t.Errorf("FindOrders(Maria) after erasure = %v; want none", ids(list))
		}
		assertCode(t, "AddLink(erased)", st.AddLink(ctx, "cand-1", "hash-new"), orders.ECONFLICT)
		assertCode(t, "AddLink(unknown)", st.AddLink(ctx, "nope", "hash-new"), orders.ENOTFOUND)
		_, err = st.RequestInvite(ctx, "cand-1")
		assertCode(t, "RequestInvite(erased)", err, orders.ECONFLICT)
		_, _, err = st.AcceptResult(ctx, "cand-1", result(kombo.OrderStatusCompleted))
		assertCode(t, "AcceptResult(erased)", err, orders.ECONFLICT)

		// Kombo delivers the order again, under the old and a new event id:
		// the order stays erased and the new body is not kept.
		mustIntake(t, st, personIntake(t, "ev-1", "cand-1", maria))
		mustIntake(t, st, personIntake(t, "ev-1c", "cand-1", maria))
		assertErased(t, st, "cand-1", maria)

		// Asked again, nothing is left, and the request is on record.
		again, err := st.EraseCandidate(ctx, maria.email, orders.ActorCLI)
		if err != nil || len(again.OrderIDs) != 0 || again.ID <= e.ID {
			t.Errorf("EraseCandidate again = %+v, %v; want a recorded erasure of nothing", again, err)
		}
		_, err = st.EraseCandidate(ctx, " ", orders.ActorAPI)
		assertCode(t, "EraseCandidate(blank)", err, orders.EINVALID)

		list, next, err := st.FindErasures(ctx, 0, 10)
		if err != nil || len(list) != 2 || list[0].ID != again.ID || list[1].Actor != orders.ActorAPI || next != 0 ||
			!slices.Equal(list[1].OrderIDs, e.OrderIDs) || list[1].WebhookEvents != 3 {
			t.Errorf("FindErasures = %+v, %d, %v; want the two erasures, newest first", list, next, err)
		}
		assertRawAbsent(t, st, "", maria.values()...)
	})
}

// TestStore_EraseCandidate_Race erases a candidate while links are added to
// her order: whichever commits first, no link of an erased order remains.
func TestStore_EraseCandidate_Race(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, personIntake(t, "ev-1", "cand-1", maria))
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				err := st.AddLink(ctx, "cand-1", "hash-"+string(rune('a'+i)))
				if err != nil && orders.ErrorCode(err) != orders.ECONFLICT {
					t.Errorf("AddLink = %v", err)
				}
			})
		}
		wg.Go(func() {
			if _, err := st.EraseCandidate(ctx, maria.email, orders.ActorAPI); err != nil {
				t.Errorf("EraseCandidate = %v", err)
			}
		})
		wg.Wait()
		if n := count(t, st, "links", "order_id = 'cand-1'"); n != 0 {
			t.Errorf("links of the erased order = %d; want 0", n)
		}
	})
}

func TestStore_EraseDue(t *testing.T) {
	forEachKeying(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := clockOf(st)
		const retention, grace = 180 * 24 * time.Hour, 30 * 24 * time.Hour
		policy := store.Retention{AfterClose: retention, AfterIntegrationDeleted: grace, BatchSize: 2}

		// Integration events and orders: three closed now, one open, and
		// one of an integration that is deleted later.
		mustIntake(t, st, integrationIntake(t, "ev-int", kombo.EventIntegrationCreated, testIntegration, ""))
		for _, id := range []string{"closed-1", "closed-2", "closed-3", "open-1"} {
			mustIntake(t, st, personIntake(t, "ev-"+id, id, maria))
		}
		for _, id := range []string{"closed-1", "closed-2", "closed-3"} {
			if _, _, err := st.AcceptResult(ctx, id, fullResult()); err != nil {
				t.Fatal(err)
			}
		}
		mustIntake(t, st, webhookIntake(t, "ev-gone-order", kombo.EventOrderReceived, kombOrder("gone-1", func(o *kombo.Order) {
			o.IntegrationID = "lever:gone"
			o.Candidate.Email = ada.email
		})))

		// Before the retention ends nothing goes.
		clk.Advance(retention - time.Hour)
		got, err := st.EraseDue(ctx, policy)
		if err != nil || len(got) != 0 {
			t.Fatalf("EraseDue before the retention ends = %+v, %v; want nothing", got, err)
		}
		// Kombo deletes lever:gone now.
		mustIntake(t, st, webhookIntake(t, "ev-del", kombo.EventIntegrationDeleted, map[string]any{
			"id": "lever:gone", "tool": "lever", "category": "ASSESSMENT",
			"end_user":   map[string]any{"organization_name": "Gone Ltd", "creator_email": "admin@gone.example"},
			"deleted_at": orders.FormatTime(clk.Now()),
		}))

		// Past the retention: the closed orders, in batches of two. Bodies
		// of webhooks other than orders are never kept (migration 0008).
		clk.Advance(2 * time.Hour)
		got, err = st.EraseDue(ctx, policy)
		if err != nil {
			t.Fatalf("EraseDue = %v", err)
		}
		var erased []string
		for _, e := range got {
			if e.Reason != orders.ErasedRetention || e.Actor != orders.ActorAssessgate || len(e.OrderIDs) > 2 {
				t.Errorf("erasure %+v; want by retention, by assessgate, at most 2 orders", e)
			}
			erased = append(erased, e.OrderIDs...)
		}
		if !slices.Equal(erased, []string{"closed-1", "closed-2", "closed-3"}) || got[len(got)-1].WebhookEvents != 1 {
			t.Errorf("EraseDue erased %v (%+v); want the three closed orders, with their webhooks' bodies", erased, got)
		}
		for _, id := range erased {
			assertErased(t, st, id, maria)
		}
		for _, id := range []string{"open-1", "gone-1"} {
			if o, _ := st.FindOrderByID(ctx, id); o.ErasedAt != nil || o.Candidate.Email == "" {
				t.Errorf("%s after retention = %+v; want it kept (not closed)", id, o)
			}
		}
		if n := count(t, st, "webhook_events", "id IN ('ev-int', 'ev-del') AND length(body) = 0"); n != 2 {
			t.Errorf("integration webhooks recorded with a body, or not at all: %d of 2 recorded by id and type only", n)
		}

		// Nothing more is due: nothing happens and nothing is recorded.
		if got, err := st.EraseDue(ctx, policy); err != nil || len(got) != 0 {
			t.Errorf("EraseDue again = %+v, %v; want nothing", got, err)
		}

		// Past the grace after the deletion: the deleted integration's
		// orders and webhook bodies, open or not.
		clk.Advance(grace)
		got, err = st.EraseDue(ctx, policy)
		if err != nil || len(got) != 1 || got[0].Reason != orders.ErasedIntegrationDeleted || got[0].Subject != "lever:gone" ||
			!slices.Equal(got[0].OrderIDs, []string{"gone-1"}) || got[0].WebhookEvents != 1 {
			t.Fatalf("EraseDue after the grace = %+v, %v; want gone-1 and its webhook's body", got, err)
		}
		if o, _ := st.FindOrderByID(ctx, "gone-1"); o.ErasedAt == nil {
			t.Errorf("gone-1 not erased")
		}
		assertRawAbsent(t, st, "gone-1", ada.values()...)
		assertRawAbsent(t, st, "", "admin@gone.example", "it-admin@acme-corp.example")
		if o, _ := st.FindOrderByID(ctx, "open-1"); o.ErasedAt != nil {
			t.Errorf("open-1 erased; want it kept while open")
		}

		// A zero policy keeps everything.
		clk.Advance(10 * retention)
		if got, err := st.EraseDue(ctx, store.Retention{}); err != nil || len(got) != 0 {
			t.Errorf("EraseDue(zero policy) = %+v, %v; want nothing", got, err)
		}
	})
}

func TestStore_FindCandidate(t *testing.T) {
	forEachKeying(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustIntake(t, st, personIntake(t, "ev-1", "cand-1", maria))
		mustIntake(t, st, personIntake(t, "ev-2", "cand-2", maria))
		mustIntake(t, st, personIntake(t, "ev-3", "other-1", ada))
		if _, _, err := st.AcceptResult(ctx, "cand-2", fullResult()); err != nil {
			t.Fatal(err)
		}

		d, err := st.FindCandidate(ctx, "maria.schneider@EXAMPLE.com")
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(d.Orders); !slices.Equal(got, []string{"cand-2", "cand-1"}) {
			t.Fatalf("FindCandidate orders = %v; want cand-2, cand-1", got)
		}
		if d.Orders[0].Candidate.Email != maria.email || len(d.Orders[0].Timeline) == 0 {
			t.Errorf("exported order = %+v; want Kombo's data and the timeline", d.Orders[0])
		}
		if rs := d.Results["cand-2"]; len(rs) != 1 || rs[0].Request.ResultURL != fullResult().ResultURL {
			t.Errorf("exported results = %+v; want the posted result", rs)
		}
		if evs := d.WebhookEvents["cand-1"]; len(evs) != 1 || evs[0].ID != "ev-1" || !bytes.Contains(evs[0].Body, []byte(maria.email)) {
			t.Errorf("exported webhooks of cand-1 = %+v; want ev-1 with its raw body", evs)
		}

		if _, err := st.EraseCandidate(ctx, maria.email, orders.ActorAPI); err != nil {
			t.Fatal(err)
		}
		if d, err := st.FindCandidate(ctx, maria.email); err != nil || len(d.Orders) != 0 {
			t.Errorf("FindCandidate after erasure = %+v, %v; want nothing", d, err)
		}
		_, err = st.FindCandidate(ctx, "")
		assertCode(t, "FindCandidate(\"\")", err, orders.EINVALID)
	})
}

func TestStore_FindErasures(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for range 5 {
			if _, err := st.EraseCandidate(ctx, "nobody@example.com", orders.ActorCLI); err != nil {
				t.Fatal(err)
			}
		}
		var got []int64
		before := int64(0)
		for {
			page, next, err := st.FindErasures(ctx, before, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.ID)
			}
			if next == 0 {
				break
			}
			before = next
		}
		if len(got) != 5 || !slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("pages of erasures = %v; want 5, newest first", got)
		}
	})
}

// TestStore_ErasedFromSQLiteFile checks that, without a key, erased values
// are gone from the SQLite file itself once its WAL is checkpointed, not
// only from what queries see: SQLite runs with secure_delete, which zeroes
// deleted content instead of leaving it in free space.
func TestStore_ErasedFromSQLiteFile(t *testing.T) {
	d := storetest.SQLite(t)
	db := storetest.Open(t, d)
	st := newStore(t, db)
	ctx := context.Background()
	mustIntake(t, st, personIntake(t, "ev-1", "cand-1", maria))
	if _, _, err := st.AcceptResult(ctx, "cand-1", fullResult()); err != nil {
		t.Fatal(err)
	}
	checkpoint := func() []byte {
		t.Helper()
		if _, err := db.Writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(db.Path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if file := checkpoint(); !bytes.Contains(file, []byte("+49 30 1234567")) {
		t.Fatalf("the SQLite file does not hold the phone number before erasure; the test looks in the wrong place")
	}
	if _, err := st.EraseCandidate(ctx, maria.email, orders.ActorCLI); err != nil {
		t.Fatal(err)
	}
	file := checkpoint()
	for _, v := range []string{strings.ToLower(maria.email), maria.phone, "Schneider", "maria-schneider"} {
		if bytes.Contains(file, []byte(v)) {
			t.Errorf("the SQLite file still holds %q after erasure and a checkpoint", v)
		}
	}
	if wal, err := os.ReadFile(db.Path + "-wal"); err == nil && bytes.Contains(wal, []byte(maria.phone)) {
		t.Errorf("the WAL still holds the phone number after a checkpoint")
	}
}

func TestStore_RequestInvite_DeletedIntegration(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		onEvent(st, func(context.Context, *sql.Tx, store.InvitationRequested) error { return nil })
		mustIntake(t, st, personIntake(t, "ev-1", "cand-1", maria))
		if _, err := st.RequestInvite(context.Background(), "cand-1"); err != nil {
			t.Fatalf("RequestInvite = %v", err)
		}
		mustIntake(t, st, integrationIntake(t, "ev-del", kombo.EventIntegrationDeleted, testIntegration, ""))
		_, err := st.RequestInvite(context.Background(), "cand-1")
		assertCode(t, "RequestInvite(deleted integration)", err, orders.ECONFLICT)
	})
}

// TestStore_Reseal_Batches seals more rows than one batch holds: Reseal
// pages through them, each row once.
func TestStore_Reseal_Batches(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, d storetest.Database) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		st := newStore(t, db)
		const n = 1201 // more than two batches of 500
		for i := range n {
			mustIntake(t, st, orderIntake(t, fmt.Sprintf("ev-%04d", i), fmt.Sprintf("order-%04d", i), nil))
		}
		st = newStore(t, db, withKeyring(keys(t, keyA)))
		got, err := st.Reseal(ctx)
		if err != nil || got.Orders != n || got.WebhookEvents != n {
			t.Fatalf("Reseal() = %+v, %v; want %d orders and %d webhook events", got, err, n, n)
		}
		if clear := count(t, st, "orders", "substr(data, 1, 1) = '{'"); clear != 0 {
			t.Errorf("orders left in clear = %d; want 0", clear)
		}
		if o, err := st.FindOrderByID(ctx, "order-1200"); err != nil || o.Candidate.Email != "ada@example.com" {
			t.Errorf("FindOrderByID(order-1200) after resealing = %v, %v", o, err)
		}
	})
}
