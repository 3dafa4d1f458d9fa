package stmtcache_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"

	"github.com/assessgate/assessgate/internal/store/stmtcache"
)

// prepares counts the statements the driver below prepared.
var prepares atomic.Int64

// countingDriver is modernc's SQLite driver, counting prepared statements.
type countingDriver struct{ sqlite.Driver }

func (d *countingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingConn{c.(sqliteConn)}, nil
}

type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
}

type countingConn struct{ sqliteConn }

func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	prepares.Add(1)
	return c.sqliteConn.PrepareContext(ctx, q)
}

func init() { sql.Register("counting-sqlite", &countingDriver{}) }

func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := stmtcache.Open("counting-sqlite", "file:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpen_PreparesOnce(t *testing.T) {
	db := open(t)
	// A script of several statements passes through, unprepared.
	if _, err := db.Exec("CREATE TABLE t (x INTEGER); CREATE TABLE u (y INTEGER)"); err != nil {
		t.Fatal(err)
	}
	before := prepares.Load()
	for i := range 100 {
		if _, err := db.Exec("INSERT INTO t (x) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	var sum int
	for range 10 {
		if err := db.QueryRow("SELECT sum(x) FROM t WHERE x >= ?", 0).Scan(&sum); err != nil {
			t.Fatal(err)
		}
	}
	if sum != 4950 {
		t.Errorf("sum = %d; want 4950: a cached statement ran with stale arguments", sum)
	}
	if got := prepares.Load() - before; got != 2 {
		t.Errorf("statements prepared for 100 inserts and 10 queries = %d; want 2 (one each)", got)
	}
}

func TestOpen_BusyStatement(t *testing.T) {
	db := open(t)
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		db.Exec("INSERT INTO t (x) VALUES (?)", i)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// The same query again while the first one's rows are open, on the same
	// connection: it gets a statement of its own.
	const q = "SELECT x FROM t WHERE x >= ? ORDER BY x"
	outer, err := tx.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var x, n int
		outer.Scan(&x)
		inner, err := tx.Query(q, x)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			n++
		}
		inner.Close()
		got = append(got, n)
	}
	outer.Close()
	if len(got) != 3 || got[0] != 3 || got[1] != 2 || got[2] != 1 {
		t.Errorf("nested queries counted %v; want [3 2 1]", got)
	}
}
