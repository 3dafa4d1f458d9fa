package main

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

type orderList struct {
	Data []struct {
		ID        string `json:"id"`
		PackageID string `json:"package_id"`
		State     string `json:"state"`
		Status    string `json:"status"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func TestAPI_Orders(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, nil)
		const n = 7
		for i := range n {
			body := orderBody(t, fmt.Sprintf("ev-%d", i), fmt.Sprintf("order-%d", i), func(d map[string]any) {
				d["package_id"] = []string{"pkg-a", "pkg-b"}[i%2]
				d["candidate"].(map[string]any)["email"] = fmt.Sprintf("Person%d@Example.com", i%3)
				if i == 6 {
					d["integration_id"] = "lever:other"
				}
			})
			if status, resp := a.webhook(body); status != http.StatusOK {
				t.Fatalf("POST order %d = %d %s", i, status, resp)
			}
		}

		t.Run("Unauthorized", func(t *testing.T) {
			for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": testToken}} {
				status, body := a.do("GET", "/api/v1/orders", nil, h)
				if status != http.StatusUnauthorized || !strings.Contains(string(body), "bearer token") {
					t.Errorf("GET /api/v1/orders with %v = %d %s; want 401", h, status, body)
				}
			}
		})

		t.Run("Pagination", func(t *testing.T) {
			seen := map[string]bool{}
			cursor := ""
			pages := 0
			for {
				var page orderList
				path := "/api/v1/orders?limit=3"
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				if status := a.api("GET", path, nil, &page); status != 200 {
					t.Fatalf("GET %s = %d", path, status)
				}
				pages++
				for _, o := range page.Data {
					if seen[o.ID] {
						t.Errorf("order %s on two pages", o.ID)
					}
					seen[o.ID] = true
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			if len(seen) != n || pages != 3 {
				t.Errorf("walked %d orders on %d pages; want %d on 3", len(seen), pages, n)
			}
		})

		t.Run("Filters", func(t *testing.T) {
			tests := []struct {
				query string
				want  int
			}{
				{"package_id=pkg-a", 4},
				{"package_id=pkg-b", 3},
				{"email=person0@example.com", 3},
				{"email=PERSON1%40EXAMPLE.COM", 2},
				{"integration_id=lever:other", 1},
				{"status=OPEN", n},
				{"status=open", n},
				{"status=COMPLETED", 0},
				{"state=received", n},
				{"package_id=pkg-a&email=person0@example.com", 2},
			}
			for _, tt := range tests {
				var page orderList
				if status := a.api("GET", "/api/v1/orders?"+tt.query, nil, &page); status != 200 || len(page.Data) != tt.want {
					t.Errorf("GET ?%s = %d with %d orders; want 200 with %d", tt.query, status, len(page.Data), tt.want)
				}
			}
		})

		t.Run("BadQuery", func(t *testing.T) {
			for query, field := range map[string]string{
				"status=PENDING": "status", "state=lost": "state", "limit=0": "limit", "limit=x": "limit", "cursor=zzz": "cursor",
			} {
				var e struct{ Error struct{ Message string } }
				if status := a.api("GET", "/api/v1/orders?"+query, nil, &e); status != 400 || !strings.Contains(e.Error.Message, field) {
					t.Errorf("GET ?%s = %d %q; want 400 naming %s", query, status, e.Error.Message, field)
				}
			}
		})

		t.Run("NotFound", func(t *testing.T) {
			var e struct {
				Error struct{ Code, Message string }
			}
			if status := a.api("GET", "/api/v1/orders/nope", nil, &e); status != 404 || e.Error.Code != "not_found" {
				t.Errorf("GET unknown order = %d %+v; want 404 not_found", status, e)
			}
		})
	})
}

func TestServe_HealthAndShutdown(t *testing.T) {
	a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := a.do("GET", path, nil, nil); status != 200 {
			t.Errorf("GET %s = %d %s; want 200", path, status, body)
		}
	}
	a.stop()
	if _, err := http.Get(a.URL + "/healthz"); err == nil {
		t.Errorf("GET /healthz after shutdown succeeded; want the listener closed")
	}
	if !strings.Contains(a.logs.String(), "jobs stopped") {
		t.Errorf("jobs were not stopped on shutdown; logs:\n%s", a.logs)
	}
}
