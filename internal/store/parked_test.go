package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// recordEvents makes st record the events it emits, and returns them.
func recordEvents(st *store.Store) func() []store.Event {
	var (
		mu  sync.Mutex
		got []store.Event
	)
	on(st, func(ctx context.Context, tx *sql.Tx, e store.Event) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e)
		return store.NoEvents.Happened(ctx, tx, e)
	})
	return func() []store.Event {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(got)
		got = nil
		return out
	}
}

func eventsOf[E store.Event](list []store.Event) []E {
	var out []E
	for _, e := range list {
		if e, ok := e.(E); ok {
			out = append(out, e)
		}
	}
	return out
}

// TestStore_MissedIntegration: orders of an integration the store never
// heard of are taken, and emit IntegrationUnknown until the integration is
// stored from Kombo's answer (DiscoverIntegration, with its tenant), which
// emits IntegrationCreated.
func TestStore_MissedIntegration(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		events := recordEvents(st)
		defer noEvents(st)
		const id = "greenhouse:missed"
		forMissed := func(o *kombo.Order) { o.IntegrationID = id }
		mustIntake(t, st, orderIntake(t, "m-1", "missed-1", forMissed))
		mustIntake(t, st, orderIntake(t, "m-2", "missed-2", forMissed))
		if got := eventsOf[store.IntegrationUnknown](events()); len(got) != 2 || got[0].IntegrationID != id {
			t.Errorf("IntegrationUnknown = %+v; want one per transaction, for %s", got, id)
		}

		tenant := "acme-42"
		if err := st.DiscoverIntegration(ctx, &kombo.Integration{ID: id, Tool: kombo.IntegrationTool{ID: "greenhouse"}, Category: "ASSESSMENT",
			Status: kombo.IntegrationStateActive, SetupStatus: "INCOMPLETE",
			EndUser: kombo.EndUser{OrganizationName: "Acme Corp", OriginID: &tenant}}); err != nil {
			t.Fatal(err)
		}
		if got := eventsOf[store.IntegrationCreated](events()); len(got) != 1 || got[0].IntegrationID != id {
			t.Errorf("IntegrationCreated = %+v; want one for %s", got, id)
		}
		i, err := st.FindIntegrationByID(ctx, id)
		if err != nil || i.OriginID == nil || *i.OriginID != tenant || i.Tool != "greenhouse" || i.OrganizationName != "Acme Corp" ||
			i.State != kombo.IntegrationStateActive || i.SetupStatus != "INCOMPLETE" {
			t.Fatalf("discovered integration = %+v, %v; want it stored with tenant %s", i, err, tenant)
		}
		mustIntake(t, st, orderIntake(t, "m-3", "missed-3", forMissed))
		if got := eventsOf[store.IntegrationUnknown](events()); len(got) != 0 {
			t.Errorf("IntegrationUnknown once known = %+v; want none", got)
		}
	})
}

// TestStore_Parked: Park keeps when the job first parked and writes the
// order's timeline once per reason; ParkedWork, ParkedWriteback and
// ParkedCounts read it back; an integration that becomes usable (by
// webhook or RefreshIntegration) emits ParkedWake with the jobs waiting for
// its setup, not those waiting for the key; Unpark deletes the row.
func TestStore_Parked(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := clockOf(st)
		c.Set(baseTime)
		const integ = "greenhouse:parked"
		mustIntake(t, st, integrationIntake(t, "p-0", kombo.EventIntegrationCreated, integ, ""))
		for i := 1; i <= 2; i++ {
			mustIntake(t, st, orderIntake(t, fmt.Sprint("p-", i), fmt.Sprint("parked-", i), func(o *kombo.Order) { o.IntegrationID = integ }))
		}
		events := recordEvents(st)
		defer noEvents(st)

		setup := orders.Parked{JobID: 101, Kind: "writeback", IntegrationID: integ, OrderID: "parked-1",
			Code: kombo.CodeSetupIncomplete, Reason: "The setup is incomplete.", LogURL: "https://app.kombo.dev/logs/1"}
		p, err := st.Park(ctx, &setup)
		if err != nil || !p.ParkedAt.Equal(baseTime) {
			t.Fatalf("Park = %+v, %v; want parked at %v", p, err, baseTime)
		}
		c.Advance(time.Hour)
		if p, err = st.Park(ctx, &setup); err != nil || !p.ParkedAt.Equal(baseTime) || !p.UpdatedAt.Equal(baseTime.Add(time.Hour)) {
			t.Errorf("Park again = %+v, %v; want first parked at %v, updated an hour later", p, err, baseTime)
		}
		got := timelineKinds(t, st, "parked-1")
		if n := len(slices.DeleteFunc(slices.Clone(got), func(k string) bool { return k != orders.EventParked })); n != 1 {
			t.Errorf("timeline = %q; want one %s", got, orders.EventParked)
		}
		noKey := orders.Parked{JobID: 102, Kind: "writeback", IntegrationID: integ, OrderID: "parked-2", Code: orders.ParkedNoAPIKey, Reason: "KOMBO_API_KEY is not set"}
		if _, err := st.Park(ctx, &noKey); err != nil {
			t.Fatal(err)
		}
		push := orders.Parked{JobID: 103, Kind: "push_packages", IntegrationID: integ, Code: kombo.CodeSetupSyncPending, Reason: "Final sync."}
		if _, err := st.Park(ctx, &push); err != nil {
			t.Fatal(err)
		}

		wb, err := st.ParkedWriteback(ctx, "parked-1", "parked-2", "nope")
		if err != nil || len(wb) != 2 || wb["parked-1"].Code != kombo.CodeSetupIncomplete || wb["parked-1"].LogURL != setup.LogURL || wb["parked-2"].Code != orders.ParkedNoAPIKey {
			t.Errorf("ParkedWriteback = %+v, %v; want both orders' write-backs", wb, err)
		}
		counts, err := st.ParkedCounts(ctx)
		if err != nil || counts["writeback"] != 2 || counts["push_packages"] != 1 {
			t.Errorf("ParkedCounts = %v, %v; want 2 write-backs, 1 push", counts, err)
		}
		if byInteg, err := st.ParkedCountsByIntegration(ctx); err != nil || len(byInteg) != 1 || byInteg[integ] != 3 {
			t.Errorf("ParkedCountsByIntegration = %v, %v; want 3 for %s", byInteg, err, integ)
		}
		if list, _ := st.ParkedWork(ctx, store.ParkedFilter{Code: orders.ParkedNoAPIKey}); len(list) != 1 || list[0].JobID != 102 {
			t.Errorf("ParkedWork(no key) = %+v; want job 102", list)
		}
		events()

		// Not usable yet: Kombo still says INCOMPLETE.
		k := &kombo.Integration{ID: integ, Tool: kombo.IntegrationTool{ID: "greenhouse"}, Status: kombo.IntegrationStateActive, SetupStatus: "INCOMPLETE"}
		if err := st.RefreshIntegration(ctx, k); err != nil {
			t.Fatal(err)
		}
		if got := eventsOf[store.ParkedWake](events()); len(got) != 0 {
			t.Errorf("ParkedWake while incomplete = %+v; want none", got)
		}
		k.SetupStatus = "COMPLETED"
		if err := st.RefreshIntegration(ctx, k); err != nil {
			t.Fatal(err)
		}
		wantWake := []store.ParkedWake{{IntegrationID: integ, JobIDs: []int64{101, 103}}}
		if got := eventsOf[store.ParkedWake](events()); fmt.Sprint(got) != fmt.Sprint(wantWake) {
			t.Errorf("ParkedWake after RefreshIntegration = %+v; want %+v (not the job waiting for the key)", got, wantWake)
		}
		mustIntake(t, st, integrationIntake(t, "p-usable", kombo.EventIntegrationStateChanged, integ, kombo.IntegrationStateActive))
		if got := eventsOf[store.ParkedWake](events()); fmt.Sprint(got) != fmt.Sprint(wantWake) {
			t.Errorf("ParkedWake after integration-state-changed = %+v; want %+v", got, wantWake)
		}

		for _, id := range []int64{101, 102, 103} {
			if err := st.Unpark(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if list, err := st.ParkedWork(ctx, store.ParkedFilter{}); err != nil || len(list) != 0 {
			t.Errorf("ParkedWork after Unpark = %+v, %v; want none", list, err)
		}
	})
}
