package store_test

// The store's conformance suite: every behaviour of store.Store, written once
// and run against SQLite always and Postgres when storetest.EnvPostgres names
// a server (the pattern of River's driver test suite). Both databases must
// pass the same tests; a test that needs one of them only says so.
//
// To add cases: write a TestStore_Xxx that calls forEachDB, build webhooks
// with orderIntake/integrationIntake, and check through the store's methods,
// reaching for count only for what the store does not expose.

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/clock"
	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// baseTime is where every test's clock starts.
var baseTime = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// forEachDB runs f, as a subtest named after the database, against a new
// migrated store on SQLite, and on Postgres when the tests have a server.
// The store's clock stands still at baseTime; tests that need time to pass
// move it (clockOf).
func forEachDB(t *testing.T, f func(t *testing.T, st *store.Store)) {
	t.Helper()
	forEachDatabase(t, func(t *testing.T, d storetest.Database) {
		f(t, newStore(t, storetest.Open(t, d)))
	})
}

// forEachDatabase runs f against a new, empty database of each kind, for
// tests of what happens before or during migration.
func forEachDatabase(t *testing.T, f func(t *testing.T, d storetest.Database)) {
	t.Helper()
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}

// newStore returns a store on db whose clock stands at baseTime, with the
// Events of the tests (on), changed by opts.
func newStore(t testing.TB, db *store.DB, opts ...func(*store.Config)) *store.Store {
	t.Helper()
	deps := &testDeps{clock: clock.NewStub(baseTime), events: &testEvents{}}
	cfg := store.Config{Logger: slog.New(slog.DiscardHandler), Clock: deps.clock, Events: deps.events}
	for _, o := range opts {
		o(&cfg)
	}
	st := store.New(db, cfg)
	testStores.Store(st, deps)
	return st
}

// withKeyring makes newStore's store seal personal data with k.
func withKeyring(k *keyring.Keyring) func(*store.Config) {
	return func(c *store.Config) { c.Keyring = k }
}

// withGroupCommit makes newStore's store commit as g says.
func withGroupCommit(g store.GroupCommit) func(*store.Config) {
	return func(c *store.Config) { c.GroupCommit = g }
}

// withEventsOf makes newStore's store share the Events of other, a store
// newStore made.
func withEventsOf(other *store.Store) func(*store.Config) {
	return func(c *store.Config) { c.Events = depsOf(other).events }
}

// testDeps are what newStore made a store with, for the tests to drive.
type testDeps struct {
	clock  *clock.Stub
	events *testEvents
}

// testStores holds the testDeps of each store newStore made.
var testStores sync.Map // *store.Store → *testDeps

func depsOf(st *store.Store) *testDeps {
	d, ok := testStores.Load(st)
	if !ok {
		panic("store not made by newStore")
	}
	return d.(*testDeps)
}

// clockOf returns the clock of a store made by newStore.
func clockOf(st *store.Store) *clock.Stub { return depsOf(st).clock }

// testEvents is a store.Events whose reaction a test sets as it goes; with
// none it is store.NoEvents.
type testEvents struct {
	mu sync.Mutex
	f  func(ctx context.Context, tx *sql.Tx, e store.Event) error
}

func (te *testEvents) Happened(ctx context.Context, tx *sql.Tx, e store.Event) error {
	te.mu.Lock()
	f := te.f
	te.mu.Unlock()
	if f == nil {
		return store.NoEvents.Happened(ctx, tx, e)
	}
	return f(ctx, tx, e)
}

// on makes f the reaction to every event of st.
func on(st *store.Store, f func(ctx context.Context, tx *sql.Tx, e store.Event) error) {
	te := depsOf(st).events
	te.mu.Lock()
	defer te.mu.Unlock()
	te.f = f
}

// onEvent makes f the reaction to the events of type E of st; others are
// as with store.NoEvents.
func onEvent[E store.Event](st *store.Store, f func(ctx context.Context, tx *sql.Tx, e E) error) {
	on(st, func(ctx context.Context, tx *sql.Tx, e store.Event) error {
		if e, ok := e.(E); ok {
			return f(ctx, tx, e)
		}
		return store.NoEvents.Happened(ctx, tx, e)
	})
}

// noEvents takes back the reactions set with on.
func noEvents(st *store.Store) { on(st, nil) }

// webhookIntake parses a webhook of type typ with event id and data, as the
// server does, and returns what the server would hand to Intake.
func webhookIntake(t testing.TB, eventID, typ string, data any) *store.Intake {
	t.Helper()
	body, err := kombotest.Webhook(eventID, typ, data)
	if err != nil {
		t.Fatal(err)
	}
	w, err := kombo.ParseWebhook(body)
	if err != nil {
		t.Fatalf("ParseWebhook(%s) = %v", body, err)
	}
	return &store.Intake{Webhook: w, Body: body}
}

// testIntegration is the integration orders belong to unless a test says
// otherwise.
const testIntegration = "greenhouse:test"

// kombOrder returns an open order of testIntegration, changed by edit.
func kombOrder(orderID string, edit func(o *kombo.Order)) *kombo.Order {
	name := "Ada"
	o := &kombo.Order{
		ID: orderID, IntegrationID: testIntegration, PackageID: "pkg-a", Status: kombo.OrderStatusOpen,
		Candidate: kombo.Candidate{Email: "ada@example.com", FirstName: &name},
	}
	if edit != nil {
		edit(o)
	}
	return o
}

// orderIntake is an assessment:order-received webhook for orderID.
func orderIntake(t testing.TB, eventID, orderID string, edit func(o *kombo.Order)) *store.Intake {
	t.Helper()
	return webhookIntake(t, eventID, kombo.EventOrderReceived, kombOrder(orderID, edit))
}

// integrationIntake is an integration webhook: typ is one of
// kombo.EventIntegrationCreated, EventIntegrationDeleted and
// EventIntegrationStateChanged; state is used by the last.
func integrationIntake(t testing.TB, eventID, typ, integrationID, state string) *store.Intake {
	t.Helper()
	endUser := map[string]any{"organization_name": "Acme Corp", "origin_id": "cust_1"}
	var data map[string]any
	switch typ {
	case kombo.EventIntegrationCreated:
		data = map[string]any{"id": integrationID, "tool": "greenhouse", "category": "ASSESSMENT", "end_user": endUser}
	case kombo.EventIntegrationDeleted:
		data = map[string]any{"id": integrationID, "tool": "greenhouse", "category": "ASSESSMENT", "end_user": endUser,
			"deleted_at": "2030-01-01T10:00:00.000Z"}
	case kombo.EventIntegrationStateChanged:
		data = map[string]any{"integration_id": integrationID, "integration_tool": "greenhouse",
			"integration_category": "ASSESSMENT", "end_user": endUser, "state": state,
			"setup_status": "COMPLETED", "qa_status": "PASSED"}
	default:
		t.Fatalf("integrationIntake: %q is no integration webhook", typ)
	}
	return webhookIntake(t, eventID, typ, data)
}

// mustIntake stores in and fails the test on an error.
func mustIntake(t testing.TB, st *store.Store, in *store.Intake) *store.IntakeResult {
	t.Helper()
	res, err := st.Intake(context.Background(), in)
	if err != nil {
		t.Fatalf("Intake(%s %s) = %v", in.Webhook.Type, in.Webhook.ID, err)
	}
	return res
}

// count returns the number of rows of table that match where (all rows
// when where is empty), for what the store does not expose.
func count(t testing.TB, st *store.Store, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := st.DB().Reader.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// timelineKinds returns the kinds of an order's timeline, in order.
func timelineKinds(t testing.TB, st *store.Store, orderID string) []string {
	t.Helper()
	o, err := st.FindOrderByID(context.Background(), orderID)
	if err != nil {
		t.Fatalf("FindOrderByID(%q) = %v", orderID, err)
	}
	var kinds []string
	for _, e := range o.Timeline {
		kinds = append(kinds, e.Kind())
	}
	return kinds
}

// assertNothingStored checks that neither the event nor the order left a
// trace.
func assertNothingStored(t testing.TB, st *store.Store, eventID, orderID string) {
	t.Helper()
	if n := count(t, st, "webhook_events", "id = $1", eventID); n != 0 {
		t.Errorf("webhook_events with id %q = %d; want 0", eventID, n)
	}
	if orderID == "" {
		return
	}
	for _, table := range []string{"orders WHERE id = $1", "order_events WHERE order_id = $1", "links WHERE order_id = $1"} {
		var n int
		if err := st.DB().Reader.QueryRow("SELECT count(*) FROM "+table, orderID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s (%q): %d rows; want 0", table, orderID, n)
		}
	}
}

// assertCode checks that err carries the orders error code want.
func assertCode(t testing.TB, what string, err error, want string) {
	t.Helper()
	if got := orders.ErrorCode(err); got != want {
		t.Errorf("%s = %v (code %q); want code %q", what, err, got, want)
	}
}

func ids(list []*orders.Order) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.ID
	}
	return out
}

func ptr[T any](v T) *T { return &v }
