package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
)

// SetCatalogue stores the vendor's package list, with each package's
// tenants. When it differs from the
// stored one, it emits PackagesChanged with every active integration, in
// the same transaction, so each gets the new list pushed. It returns whether
// the list changed and how many integrations it is pushed to.
func (s *Store) SetCatalogue(ctx context.Context, pkgs []orders.Package) (changed bool, pushes int, err error) {
	if pkgs == nil {
		pkgs = []orders.Package{}
	}
	b, err := json.Marshal(pkgs)
	if err != nil {
		return false, 0, err
	}
	sum := sha256.Sum256(b)
	hash := hex.EncodeToString(sum[:])
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, "SELECT hash FROM catalogue WHERE id = 1").Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return unavailable(fmt.Errorf("read catalogue: %w", err))
		}
		if old == hash {
			return nil
		}
		changed = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO catalogue (id, packages, hash, updated_at) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET packages = excluded.packages, hash = excluded.hash, updated_at = excluded.updated_at`,
			string(b), hash, s.nowMillis()); err != nil {
			return unavailable(fmt.Errorf("write catalogue: %w", err))
		}
		ids, err := s.activeIntegrationIDs(ctx, tx)
		if err != nil {
			return err
		}
		pushes = len(ids)
		return s.happened(ctx, tx, PackagesChanged{IntegrationIDs: ids})
	})
	if err != nil {
		return false, 0, err
	}
	return changed, pushes, nil
}

// FindCatalogue returns the stored package list and its hash; both are
// empty when none was ever stored.
func (s *Store) FindCatalogue(ctx context.Context) ([]orders.Package, string, error) {
	var packages, hash string
	err := s.db.Reader.QueryRowContext(ctx, "SELECT packages, hash FROM catalogue WHERE id = 1").Scan(&packages, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read catalogue: %w", err)
	}
	var pkgs []orders.Package
	if err := json.Unmarshal([]byte(packages), &pkgs); err != nil {
		return nil, "", fmt.Errorf("decode catalogue: %w", err)
	}
	return pkgs, hash, nil
}

func (s *Store) activeIntegrationIDs(ctx context.Context, q querier) ([]string, error) {
	ids, err := queryStrings(ctx, q, "SELECT id FROM integrations WHERE state = 'ACTIVE' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("find active integrations: %w", err)
	}
	return ids, nil
}

// queryStrings returns the one string column of a query's rows.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// RecordPush records the outcome of pushing the catalogue with hash to an
// integration: Kombo's warnings on success, the error otherwise.
func (s *Store) RecordPush(ctx context.Context, integrationID, hash string, warnings []string, pushErr error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if pushErr != nil {
			_, err = tx.ExecContext(ctx, "UPDATE integrations SET push_error = $1, updated_at = $2 WHERE id = $3",
				pushErr.Error(), s.nowMillis(), integrationID)
		} else {
			if warnings == nil {
				warnings = []string{}
			}
			w, _ := json.Marshal(warnings)
			_, err = tx.ExecContext(ctx, `UPDATE integrations SET packages_hash = $1, packages_pushed_at = $2, push_warnings = $3,
				push_error = NULL, updated_at = $2 WHERE id = $4`, hash, s.nowMillis(), string(w), integrationID)
		}
		if err != nil {
			return unavailable(fmt.Errorf("record push: %w", err))
		}
		return nil
	})
}

// ReconcileTargets returns the integrations whose open orders are reconciled:
// the active ones, and those known only from their orders (Kombo may send
// orders before, or without, an integration-created webhook).
func (s *Store) ReconcileTargets(ctx context.Context) ([]string, error) {
	ids, err := queryStrings(ctx, s.db.Reader, `SELECT id FROM integrations WHERE state = 'ACTIVE'
		UNION SELECT DISTINCT integration_id FROM orders WHERE integration_id NOT IN (SELECT id FROM integrations)
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("find reconcile targets: %w", err)
	}
	return ids, nil
}

// KnownOrderIDs returns which of ids are stored orders.
func (s *Store) KnownOrderIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	known := make(map[string]bool, len(ids))
	// In chunks, to stay under both databases' parameter limits.
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		marks := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			marks[i], args[i] = "$"+strconv.Itoa(i+1), id
		}
		found, err := queryStrings(ctx, s.db.Reader, "SELECT id FROM orders WHERE id IN ("+strings.Join(marks, ",")+")", args...)
		if err != nil {
			return nil, fmt.Errorf("find known orders: %w", err)
		}
		for _, id := range found {
			known[id] = true
		}
	}
	return known, nil
}
