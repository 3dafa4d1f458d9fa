package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/kombo"
	"github.com/assessgate/assessgate/kombo/kombotest"
)

// everyTable returns the rows of every table of the app's database, each
// row its columns' values printed together: whatever a table keeps.
func (a *app) everyTable() map[string][]string {
	a.t.Helper()
	db := a.db()
	list := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if strings.HasPrefix(a.DBURL, "postgres") {
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	rows, err := db.Query(list)
	if err != nil {
		a.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			a.t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		a.t.Fatalf("found %d tables (%v); want every table", len(tables), tables)
	}
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			a.t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				a.t.Fatal(err)
			}
			var b strings.Builder
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprint(&b, v, " ")
			}
			out[table] = append(out[table], b.String())
		}
		rows.Close()
	}
	return out
}

// Whatever the type of the webhook that brought a candidate's e-mail
// address (an order, an inline order, a refused order, an integration's
// event, a type assessgate does not use), no table keeps it after the
// candidate is erased.
func TestPrivacy_EveryWebhookType(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		const email = "Hidden.Person@Cand.example"
		p := candidate{email, "Hidden", "Person", "+49 170 5550999"}
		extra := map[string]any{"candidate_email": email, "note": "about " + email}
		send := func(eventID, typ string, data map[string]any, want int) {
			t.Helper()
			for k, v := range extra {
				data[k] = v
			}
			body, err := kombotest.Webhook(eventID, typ, data)
			if err != nil {
				t.Fatal(err)
			}
			if status, resp := a.webhook(body); status != want {
				t.Fatalf("POST %s = %d %s; want %d", typ, status, resp, want)
			}
		}
		endUser := map[string]any{"organization_name": "Acme Corp", "creator_email": "admin@acme.example"}
		send("ev-ic", kombo.EventIntegrationCreated, map[string]any{"id": testIntegrationID, "tool": "greenhouse", "category": "ATS", "end_user": endUser}, 200)
		send("ev-isc", kombo.EventIntegrationStateChanged, map[string]any{"integration_id": "lever:other", "integration_tool": "lever", "state": "ACTIVE", "end_user": endUser}, 200)
		send("ev-id", kombo.EventIntegrationDeleted, map[string]any{"id": "lever:gone", "tool": "lever", "end_user": endUser}, 200)
		send("ev-cff", kombo.EventConnectionFlowFailed, map[string]any{"integration_tool": "lever", "end_user": endUser, "log_url": "https://kombo.example/log"}, 200)
		send("ev-unknown", "candidate:updated", map[string]any{"id": "c-1", "email": email}, 200)
		send("ev-unknown2", "assessment:order-updated", map[string]any{"id": "ord-pw1", "candidate": map[string]any{"email": email}}, 200)

		// Orders: taken, inline, and refused (its address is not one, but
		// holds hers).
		if status, resp := a.webhook(personOrderBody(t, "ev-o1", "ord-pw1", p)); status != http.StatusOK {
			t.Fatalf("POST order = %d %s", status, resp)
		}
		inline := orderBody(t, "ev-o2", "ord-pw2", func(d map[string]any) {
			d["integration_id"] = testIntegrationID
			d["candidate"] = map[string]any{"email": email, "first_name": p.first}
		})
		inline = bytes.Replace(inline, []byte(`"`+kombo.EventOrderReceived+`"`), []byte(`"`+kombo.EventInlineOrderReceived+`"`), 1)
		if status, resp := a.webhook(inline); status != http.StatusOK {
			t.Fatalf("POST inline order = %d %s", status, resp)
		}
		refused := orderBody(t, "ev-o3", "ord-pw3", func(d map[string]any) {
			d["candidate"] = map[string]any{"email": "Hidden Person <" + email + ">", "first_name": p.first}
		})
		if status, resp := a.webhook(refused); status != http.StatusUnprocessableEntity {
			t.Fatalf("POST refused order = %d %s; want 422", status, resp)
		}

		if status := a.api("DELETE", "/api/v1/candidates?email="+url.QueryEscape(email), nil, nil); status != http.StatusOK {
			t.Fatalf("DELETE candidate = %d", status)
		}
		for table, rows := range a.everyTable() {
			for _, row := range rows {
				if strings.Contains(strings.ToLower(row), strings.ToLower(email)) {
					t.Errorf("after erasure %s keeps the candidate's address: %.300s", table, row)
				}
			}
		}
	})
}
