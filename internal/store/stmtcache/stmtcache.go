// Package stmtcache gives the connections of a database/sql driver a cache
// of prepared statements: a statement with parameters is prepared once per
// connection and reused, reset after each use. Scripts of several
// statements (migrations) and statements without parameters are passed
// through. The driver's statements must support being executed again after
// their rows are closed, as modernc.org/sqlite's do.
//
// Why: SQLite's driver (modernc.org/sqlite) parses every statement it is
// given anew, and for the statements of an intake and of River's job
// queries the parsing took a third of the CPU time of the writer (a profile
// under load; see docs/benchmarks.md). Postgres's driver, pgx, caches
// prepared statements per connection already.
package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
)

// maxCachedStmts bounds the statements kept per connection. River and the
// store use a few dozen distinct statements with parameters, and the
// intake one per number of rows of its multi-row INSERTs (up to 3 × 64).
const maxCachedStmts = 512

// stmtCacheConnector opens connections of a driver with a statement cache.
type stmtCacheConnector struct {
	dsn    string
	driver driver.Driver
}

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &stmtCacheConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.driver }

// Open opens a database/sql pool of the registered driver name whose
// connections cache their prepared statements, up to 512 each.
func Open(name, dsn string) (*sql.DB, error) {
	probe, err := sql.Open(name, "")
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	probe.Close()
	return sql.OpenDB(stmtCacheConnector{dsn: dsn, driver: d}), nil
}

type cachedStmt struct {
	stmt driver.Stmt
	busy bool // its rows are open
}

// stmtCacheConn is a driver.Conn with a statement cache. database/sql uses a
// connection from one goroutine at a time, so it needs no lock.
type stmtCacheConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
}

var (
	_ driver.ConnBeginTx        = (*stmtCacheConn)(nil)
	_ driver.ConnPrepareContext = (*stmtCacheConn)(nil)
	_ driver.ExecerContext      = (*stmtCacheConn)(nil)
	_ driver.QueryerContext     = (*stmtCacheConn)(nil)
	_ driver.SessionResetter    = (*stmtCacheConn)(nil)
	_ driver.Validator          = (*stmtCacheConn)(nil)
	_ driver.Pinger             = (*stmtCacheConn)(nil)
)

// stmt returns the cached statement for query, preparing it if need be, and
// marks it busy. If the cached one is busy (its rows are still open) it
// returns a statement of its own, which release closes.
func (c *stmtCacheConn) stmt(ctx context.Context, query string) (*cachedStmt, func(), error) {
	if cs, ok := c.stmts[query]; ok && !cs.busy {
		cs.busy = true
		return cs, func() { cs.busy = false }, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	cs := &cachedStmt{stmt: st, busy: true}
	if _, ok := c.stmts[query]; ok || len(c.stmts) >= maxCachedStmts {
		return cs, func() { st.Close() }, nil
	}
	c.stmts[query] = cs
	return cs, func() { cs.busy = false }, nil
}

// cacheable reports whether query may be cached: it has parameters, or is
// short and holds one statement (SAVEPOINT, a PRAGMA), while scripts such as
// migrations, which hold several, are run as they are.
func cacheable(query string, args []driver.NamedValue) bool {
	return len(args) > 0 || (len(query) < 200 && !strings.Contains(query, ";"))
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if !cacheable(query, args) {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	cs, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if !cacheable(query, args) {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	cs, release, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &cachedRows{Rows: rows, release: release}, nil
}

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *stmtCacheConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *stmtCacheConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *stmtCacheConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *stmtCacheConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.Conn.Close())
	return errors.Join(errs...)
}

// cachedRows gives its statement back to the cache when closed, and passes
// on the column type information of the driver's rows.
type cachedRows struct {
	driver.Rows
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
