package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Statements of many rows: one multi-row INSERT costs about what one row
// costs, since a statement's fixed cost (database/sql, the driver, SQLite's
// VDBE set-up, a round trip to Postgres and its executor) is most of what a
// small write costs the database (docs/benchmarks.md).

// insertIDs runs stmt, an INSERT … ON CONFLICT DO NOTHING of rows whose
// first column is a text id, with a row of cols of args each, and returns
// the ids of the rows it inserted. Of several rows, RETURNING tells which;
// of one row alone, the rows affected do, which costs less: a statement
// without rows to hand back is cheaper on both databases, and a single
// webhook is a batch of one.
func (s *Store) insertIDs(ctx context.Context, tx *sql.Tx, stmt string, args []any, cols int) (map[string]bool, error) {
	n := len(args) / cols
	if n == 1 {
		r, err := tx.ExecContext(ctx, multiValues(s.db.Dialect, stmt, 1, cols), args...)
		if err != nil {
			return nil, err
		}
		affected, err := r.RowsAffected()
		if err != nil {
			return nil, err
		}
		return map[string]bool{args[0].(string): affected == 1}, nil
	}
	rows, err := tx.QueryContext(ctx, multiValues(s.db.Dialect, stmt+" RETURNING id", n, cols), args...)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// scanIDs reads rows of one id each, and closes them.
func scanIDs(rows *sql.Rows) (map[string]bool, error) {
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// multiValues returns stmt with its %s replaced by n rows of cols
// parameters. The texts are made once: the statement caches (SQLite's here,
// pgx's for Postgres) key on them. SQLite's parameters are anonymous (?):
// modernc's driver looks each numbered one ($1) up by name, which for the
// hundreds of a batch took longer than binding them.
func multiValues(d Dialect, stmt string, n, cols int) string {
	return values(valuesKey{d, stmt, n, cols, ""})
}

// multiRows is multiValues for rows that are not only parameters: it
// returns stmt with its %s replaced by n copies of row, a row's SQL with a
// ? for each parameter, numbered for Postgres.
func multiRows(d Dialect, stmt string, n int, row string) string {
	return values(valuesKey{d, stmt, n, 0, row})
}

// values returns the statement key names, made once.
func values(key valuesKey) string {
	if s, ok := valuesCache.Load(key); ok {
		return s.(string)
	}
	d, stmt, n, row := key.d, key.stmt, key.n, key.row
	if row == "" {
		row = "(" + strings.Repeat("?, ", key.cols-1) + "?)"
	}
	var b strings.Builder
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		if d == SQLite {
			b.WriteString(row)
			continue
		}
		parts := strings.Split(row, "?")
		for i, part := range parts {
			if i > 0 {
				p++
				b.WriteString("$" + strconv.Itoa(p))
			}
			b.WriteString(part)
		}
	}
	s := fmt.Sprintf(stmt, b.String())
	valuesCache.Store(key, s)
	return s
}

type valuesKey struct {
	d    Dialect
	stmt string
	n    int
	cols int    // a row of cols parameters, when row is ""
	row  string // a row's SQL
}

var valuesCache sync.Map // valuesKey → string
