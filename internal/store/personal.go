package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/kombo"
)

// Personal data is sealed (see package keyring) where it is written and
// opened where it is read, each value for its row:
//
//	orders.data           Kombo's whole order, for "orders.data/ORDER-ID"
//	orders.email          the keyed hash of the candidate's address
//	webhook_events.body   the raw webhook, for "webhook_events.body/EVENT-ID"
//	results.body          the result, for "results.body/ORDER-ID"
//
// Ids, package ids, states, statuses and times stay in clear, so that the
// store can search and sort by them.

// Keyring returns the keys that seal personal data, nil when there are none.
func (s *Store) Keyring() *keyring.Keyring { return s.keys }

func orderDataContext(orderID string) string   { return "orders.data/" + orderID }
func webhookBodyContext(eventID string) string { return "webhook_events.body/" + eventID }
func resultBodyContext(orderID string) string  { return "results.body/" + orderID }

// sealOrderData seals Kombo's order JSON for the orders.data column.
func (s *Store) sealOrderData(orderID string, data []byte) string {
	return string(s.keys.Seal(data, orderDataContext(orderID)))
}

// openOrderData returns Kombo's order JSON from the orders.data column.
func (s *Store) openOrderData(orderID, stored string) ([]byte, error) {
	b, err := s.keys.Open([]byte(stored), orderDataContext(orderID))
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", orderID, err)
	}
	return b, nil
}

// sealWebhookBody seals a raw webhook for the webhook_events.body column.
func (s *Store) sealWebhookBody(eventID string, body []byte) []byte {
	return s.keys.Seal(body, webhookBodyContext(eventID))
}

// emailKey returns what the orders.email column holds for an address.
func (s *Store) emailKey(email string) string { return s.keys.HashEmail(email) }

// emailIn returns the condition that matches every stored form of an
// address (see keyring.EmailLookups), with its arguments numbered from
// $first.
func emailIn(lookups []string, first int) (string, []any) {
	marks := make([]string, len(lookups))
	args := make([]any, len(lookups))
	for i, l := range lookups {
		marks[i], args[i] = fmt.Sprintf("$%d", first+i), l
	}
	return "email IN (" + strings.Join(marks, ", ") + ")", args
}

// ResealStats counts what Reseal changed.
type ResealStats struct {
	// Skipped is true when the database was found sealed under the same
	// keys at an earlier start, so nothing was read.
	Skipped       bool
	Orders        int
	WebhookEvents int
	Results       int
}

// sealedUnderSetting names the setting that records the key ids the
// database's personal data was last found sealed under ("" for clear).
const sealedUnderSetting = "personal_data_sealed_under"

// resealBatch is how many rows Reseal reads and writes per transaction.
const resealBatch = 500

// Reseal brings personal data written before the current keys in line with
// them, at start-up: it seals what is in clear (written before a key was
// set), seals again what an older key sealed (after a rotation), and hashes
// e-mail addresses stored in clear. Rows are changed in batches, each in a
// transaction, and only if they did not change meanwhile, so that replicas
// may do it at once. Once a pass finishes it records the key ids, and later
// passes under the same keys read nothing.
//
// Without a key it changes nothing, but returns an error if personal data is
// sealed, since it could not be read. It returns an error naming the row
// when a value is sealed under a key the keyring does not hold, so that an
// old key is not dropped before everything was sealed again.
func (s *Store) Reseal(ctx context.Context) (*ResealStats, error) {
	want := strings.Join(s.keys.KeyIDs(), ",")
	var got string
	err := s.db.Reader.QueryRowContext(ctx, "SELECT value FROM settings WHERE name = $1", sealedUnderSetting).Scan(&got)
	switch {
	case err == nil && got == want:
		return &ResealStats{Skipped: true}, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read %s: %w", sealedUnderSetting, err)
	}
	// Until this pass completes, a later start must make one again.
	if _, err := s.db.Writer.ExecContext(ctx, "DELETE FROM settings WHERE name = $1", sealedUnderSetting); err != nil {
		return nil, unavailable(fmt.Errorf("clear %s: %w", sealedUnderSetting, err))
	}

	stats := &ResealStats{}
	if !s.keys.Enabled() {
		if err := s.checkNothingSealed(ctx); err != nil {
			return nil, err
		}
	} else {
		if stats.Orders, err = s.resealOrders(ctx); err != nil {
			return nil, err
		}
		if stats.WebhookEvents, err = s.resealWebhookEvents(ctx); err != nil {
			return nil, err
		}
		if stats.Results, err = s.resealResults(ctx); err != nil {
			return nil, err
		}
	}
	_, err = s.db.Writer.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, sealedUnderSetting, want)
	if err != nil {
		return nil, unavailable(fmt.Errorf("record %s: %w", sealedUnderSetting, err))
	}
	return stats, nil
}

// CheckKeys returns an error when the store's keys cannot find or read the
// personal data in the database: without a key, when values are sealed; with
// keys, when addresses are hashed under a key that is not among them. It
// changes nothing; Reseal, which serve runs at start-up, does the same
// checks and more.
func (s *Store) CheckKeys(ctx context.Context) error {
	if !s.keys.Enabled() {
		return s.checkNothingSealed(ctx)
	}
	var conds []string
	args := []any{keyring.HashPrefix}
	for _, p := range s.keys.HashPrefixes() {
		args = append(args, p)
		conds = append(conds, fmt.Sprintf("substr(email, 1, %d) <> $%d", len(p), len(args)))
	}
	ids, err := queryStrings(ctx, s.db.Reader, fmt.Sprintf("SELECT id FROM orders WHERE substr(email, 1, %d) = $1 AND ",
		len(keyring.HashPrefix))+strings.Join(conds, " AND ")+" LIMIT 1", args...)
	if err != nil {
		return fmt.Errorf("check e-mail hashes: %w", err)
	}
	if len(ids) > 0 {
		return fmt.Errorf("the address of order %s is hashed under a key that ASSESSGATE_ENCRYPTION_KEY does not hold", ids[0])
	}
	return nil
}

// checkNothingSealed returns an error when a value is sealed: without a
// key it could not be read.
func (s *Store) checkNothingSealed(ctx context.Context) error {
	for _, q := range []struct{ table, query string }{
		{"orders.data", "SELECT id FROM orders WHERE substr(data, 1, 4) = $1 LIMIT 1"},
		{"webhook_events.body", "SELECT id FROM webhook_events WHERE substr(body, 1, 4) = $1 LIMIT 1"},
		{"results.body", "SELECT CAST(id AS TEXT) FROM results WHERE substr(body, 1, 4) = $1 LIMIT 1"},
	} {
		arg := any(keyring.Prefix)
		if q.table == "webhook_events.body" {
			arg = []byte(keyring.Prefix)
		}
		ids, err := queryStrings(ctx, s.db.Reader, q.query, arg)
		if err != nil {
			return fmt.Errorf("look for sealed %s: %w", q.table, err)
		}
		if len(ids) > 0 {
			return fmt.Errorf("%s of %s is encrypted, but no encryption key is set: set ASSESSGATE_ENCRYPTION_KEY to the key(s) it was written with", q.table, ids[0])
		}
	}
	return nil
}

// resealOrders seals orders.data under the first key and hashes
// orders.email, for rows whose data is not sealed under it yet.
func (s *Store) resealOrders(ctx context.Context) (int, error) {
	prefix := s.keys.SealedPrefix()
	type row struct{ id, data string }
	return inBatches(ctx, s, "",
		func(tx *sql.Tx, after string) (*sql.Rows, error) {
			return tx.QueryContext(ctx, `SELECT id, data FROM orders WHERE id > $1 AND substr(data, 1, $2) <> $3
				ORDER BY id LIMIT $4`, after, len(prefix), prefix, resealBatch)
		},
		func(rows *sql.Rows) (r row, err error) { return r, rows.Scan(&r.id, &r.data) },
		func(r row) string { return r.id },
		func(tx *sql.Tx, r row) error {
			plain, err := s.openOrderData(r.id, r.data)
			if err != nil {
				return fmt.Errorf("orders.data: %w", err)
			}
			var ko kombo.Order
			if err := json.Unmarshal(plain, &ko); err != nil {
				return fmt.Errorf("decode order %s: %w", r.id, err)
			}
			// An erased order's address is gone; its email stays empty.
			_, err = tx.ExecContext(ctx, `UPDATE orders SET data = $1,
					email = CASE WHEN erased_at IS NULL THEN $2 ELSE '' END
				WHERE id = $3 AND data = $4`,
				s.sealOrderData(r.id, plain), s.emailKey(ko.Candidate.Email), r.id, r.data)
			if err != nil {
				return unavailable(fmt.Errorf("seal order %s: %w", r.id, err))
			}
			return nil
		})
}

// resealWebhookEvents seals raw webhook bodies under the first key. Erased
// (empty) bodies stay empty.
func (s *Store) resealWebhookEvents(ctx context.Context) (int, error) {
	prefix := []byte(s.keys.SealedPrefix())
	type row struct {
		id   string
		body []byte
	}
	return inBatches(ctx, s, "",
		func(tx *sql.Tx, after string) (*sql.Rows, error) {
			return tx.QueryContext(ctx, `SELECT id, body FROM webhook_events
				WHERE id > $1 AND length(body) > 0 AND substr(body, 1, $2) <> $3 ORDER BY id LIMIT $4`,
				after, len(prefix), prefix, resealBatch)
		},
		func(rows *sql.Rows) (r row, err error) { return r, rows.Scan(&r.id, &r.body) },
		func(r row) string { return r.id },
		func(tx *sql.Tx, r row) error {
			plain, err := s.keys.Open(r.body, webhookBodyContext(r.id))
			if err != nil {
				return fmt.Errorf("webhook_events.body of %s: %w", r.id, err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE webhook_events SET body = $1 WHERE id = $2 AND body = $3",
				s.sealWebhookBody(r.id, plain), r.id, r.body); err != nil {
				return unavailable(fmt.Errorf("seal webhook body %s: %w", r.id, err))
			}
			return nil
		})
}

// resealResults seals result bodies under the first key.
func (s *Store) resealResults(ctx context.Context) (int, error) {
	prefix := s.keys.SealedPrefix()
	type row struct {
		id            int64
		orderID, body string
	}
	return inBatches(ctx, s, int64(0),
		func(tx *sql.Tx, after int64) (*sql.Rows, error) {
			return tx.QueryContext(ctx, `SELECT id, order_id, body FROM results
				WHERE id > $1 AND substr(body, 1, $2) <> $3 ORDER BY id LIMIT $4`, after, len(prefix), prefix, resealBatch)
		},
		func(rows *sql.Rows) (r row, err error) { return r, rows.Scan(&r.id, &r.orderID, &r.body) },
		func(r row) int64 { return r.id },
		func(tx *sql.Tx, r row) error {
			plain, err := s.keys.OpenString(r.body, resultBodyContext(r.orderID))
			if err != nil {
				return fmt.Errorf("results.body of result %d: %w", r.id, err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE results SET body = $1 WHERE id = $2 AND body = $3",
				s.keys.SealString(plain, resultBodyContext(r.orderID)), r.id, r.body); err != nil {
				return unavailable(fmt.Errorf("seal result %d: %w", r.id, err))
			}
			return nil
		})
}

// inBatches rewrites rows a batch at a time, each batch in a transaction of
// its own: find reads up to resealBatch rows after the key of the last row
// of the previous batch (start for the first), scan reads one, fix rewrites
// it. It returns how many rows it rewrote.
func inBatches[K, R any](ctx context.Context, s *Store, start K,
	find func(tx *sql.Tx, after K) (*sql.Rows, error), scan func(*sql.Rows) (R, error),
	key func(R) K, fix func(tx *sql.Tx, r R) error) (int, error) {
	n, after := 0, start
	for {
		var batch []R
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			rows, err := find(tx, after)
			if err != nil {
				return fmt.Errorf("find rows to seal: %w", err)
			}
			batch = batch[:0]
			for rows.Next() {
				r, err := scan(rows)
				if err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range batch {
				if err := fix(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(batch)
		if len(batch) < resealBatch {
			return n, nil
		}
		after = key(batch[len(batch)-1])
	}
}
