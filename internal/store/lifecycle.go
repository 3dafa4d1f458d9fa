package store

import (
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
)

// transitionSQL is an orders.Transition as the store's SQL writes it: the
// states it may happen in, as a list for "state IN …", and the state it
// leads to, as an expression for "SET state = …". The store persists the
// transitions; which they are is the domain's to say.
type transitionSQL struct {
	from string // ('received', 'invited')
	to   string // 'started', or CASE state WHEN … ELSE state END
}

// transitions holds the SQL of every transition, made once.
var transitions = func() map[orders.Transition]transitionSQL {
	m := map[orders.Transition]transitionSQL{}
	for _, t := range orders.Transitions() {
		var (
			from  []string
			cases strings.Builder
			to    = map[orders.State]bool{}
		)
		for _, s := range t.From() {
			next, _ := t.Next(s)
			from = append(from, quoteState(s))
			to[next] = true
			if next != s {
				cases.WriteString(" WHEN " + quoteState(s) + " THEN " + quoteState(next))
			}
		}
		sql := transitionSQL{from: "(" + strings.Join(from, ", ") + ")"}
		if next, _ := t.Next(t.From()[0]); len(to) == 1 {
			sql.to = quoteState(next)
		} else {
			sql.to = "CASE state" + cases.String() + " ELSE state END"
		}
		m[t] = sql
	}
	return m
}()

// quoteState returns s as an SQL string literal.
func quoteState(s orders.State) string {
	return "'" + strings.ReplaceAll(string(s), "'", "''") + "'"
}
