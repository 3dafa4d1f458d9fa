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

// insertReturningIDs runs stmt with a row of cols of args each and returns
// the ids it hands back.
func (s *Store) insertReturningIDs(ctx context.Context, tx *sql.Tx, stmt string, args []any, cols int) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, multiValues(s.db.Dialect, stmt, len(args)/cols, cols), args...)
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
	key := valuesKey{d, stmt, n}
	if s, ok := valuesCache.Load(key); ok {
		return s.(string)
	}
	var b strings.Builder
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if d == SQLite {
				b.WriteByte('?')
			} else {
				b.WriteString("$" + strconv.Itoa(r*cols+c+1))
			}
		}
		b.WriteByte(')')
	}
	s := fmt.Sprintf(stmt, b.String())
	valuesCache.Store(key, s)
	return s
}

type valuesKey struct {
	d    Dialect
	stmt string
	n    int
}

var valuesCache sync.Map // valuesKey → string
