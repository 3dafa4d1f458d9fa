package store

import "testing"

// multiValues and multiRows number Postgres's parameters across rows, in
// order, and leave SQLite's anonymous.
func TestMultiRows(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{multiValues(Postgres, "INSERT INTO t VALUES %s", 2, 3), "INSERT INTO t VALUES ($1, $2, $3), ($4, $5, $6)"},
		{multiValues(SQLite, "INSERT INTO t VALUES %s", 2, 2), "INSERT INTO t VALUES (?, ?), (?, ?)"},
		{multiRows(Postgres, "INSERT INTO t VALUES %s", 2, "(?, f(?), ?)"), "INSERT INTO t VALUES ($1, f($2), $3), ($4, f($5), $6)"},
		{multiRows(SQLite, "INSERT INTO t VALUES %s", 2, "(?, f(?))"), "INSERT INTO t VALUES (?, f(?)), (?, f(?))"},
		{multiRows(Postgres, insertTimeline, 1, timelineRow),
			"INSERT INTO order_events (order_id, order_at, at, kind, detail) VALUES ($1, coalesce((SELECT created_at FROM orders WHERE id = $2), 0), $3, $4, $5)"},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
}
