package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/store"
)

// WaitingJob is a job that is due to run but has not finished: waiting for
// a worker, or for its next retry.
type WaitingJob struct {
	ID            int64
	Kind          string
	State         string // available or retryable
	OrderID       string
	IntegrationID string
	Attempt       int
	CreatedAt     time.Time
	ScheduledAt   time.Time
	Error         string // the last attempt's error, if any
}

// OldestWaiting returns the oldest job that is available or waiting for a
// retry, or nil when there is none. Jobs scheduled for later on purpose
// (reminders, expiries) are not waiting.
func OldestWaiting(ctx context.Context, client *Client) (*WaitingJob, error) {
	params := river.NewJobListParams().
		States(rivertype.JobStateAvailable, rivertype.JobStateRetryable).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		First(1)
	res, err := client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list waiting jobs: %w", err)
	}
	if len(res.Jobs) == 0 {
		return nil, nil
	}
	j := res.Jobs[0]
	d := newDeadLetter(j) // for its refs and last error
	return &WaitingJob{
		ID: j.ID, Kind: j.Kind, State: string(j.State), OrderID: d.OrderID, IntegrationID: d.IntegrationID,
		Attempt: j.Attempt, CreatedAt: j.CreatedAt, ScheduledAt: j.ScheduledAt, Error: d.Error,
	}, nil
}

// CountDeadLetters returns how many dead letters there are of each kind.
// River's client lists jobs but does not count them, so this reads River's
// job table (river_job, the same on both databases) directly.
func CountDeadLetters(ctx context.Context, st *store.Store) (map[string]int, error) {
	rows, err := st.DB().Reader.QueryContext(ctx,
		"SELECT kind, count(*) FROM river_job WHERE state IN ($1, $2) GROUP BY kind",
		string(rivertype.JobStateDiscarded), string(rivertype.JobStateCancelled))
	if err != nil {
		return nil, fmt.Errorf("count dead letters: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, err
		}
		counts[kind] = n
	}
	return counts, rows.Err()
}

// PushPackagesToAll enqueues a push of the package catalogue to every active
// integration, in one transaction, and returns how many it enqueued. Each
// push sends the catalogue as it is when the job runs.
func PushPackagesToAll(ctx context.Context, client *Client, st *store.Store) (int, error) {
	var n int
	err := st.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ids, err := st.ActiveIntegrationIDsTx(ctx, tx)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: PushPackagesArgs{IntegrationID: id}}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("enqueue package pushes: %w", err)
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// DeadLettersByIntegration returns how many dead letters each integration
// has: jobs that name it (write-backs, package pushes) and jobs of its
// orders (a job of orders of several integrations counts for each). It
// reads River's job table directly, as CountDeadLetters does.
func DeadLettersByIntegration(ctx context.Context, st *store.Store) (map[string]int, error) {
	argsCol := "args" // jsonb, read as its text
	if st.DB().Dialect == store.SQLite {
		argsCol = "json(args)" // River keeps SQLite's args as JSONB blobs
	}
	rows, err := st.DB().Reader.QueryContext(ctx, "SELECT "+argsCol+" FROM river_job WHERE state IN ($1, $2)",
		string(rivertype.JobStateDiscarded), string(rivertype.JobStateCancelled))
	if err != nil {
		return nil, fmt.Errorf("count dead letters by integration: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	var byOrders [][]string // the orders of each dead letter that does not name its integration
	for rows.Next() {
		var args []byte
		if err := rows.Scan(&args); err != nil {
			return nil, err
		}
		var refs jobRefs
		_ = json.Unmarshal(args, &refs) // args of other shapes simply have no refs
		switch {
		case refs.IntegrationID != "":
			counts[refs.IntegrationID]++
		case refs.OrderID != "":
			byOrders = append(byOrders, []string{refs.OrderID})
		case len(refs.OrderIDs) > 0:
			byOrders = append(byOrders, refs.OrderIDs)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(byOrders) == 0 {
		return counts, nil
	}
	found, err := st.FindOrdersByIDs(ctx, slices.Concat(byOrders...))
	if err != nil {
		return nil, err
	}
	integrationOf := make(map[string]string, len(found))
	for _, o := range found {
		integrationOf[o.ID] = o.IntegrationID
	}
	for _, ids := range byOrders {
		seen := map[string]bool{}
		for _, id := range ids {
			if in := integrationOf[id]; in != "" && !seen[in] {
				seen[in] = true
				counts[in]++
			}
		}
	}
	return counts, nil
}

// PushPackagesTo enqueues a push of its tenant's packages to one
// integration; ENOTFOUND if assessgate does not know it.
func PushPackagesTo(ctx context.Context, client *Client, st *store.Store, integrationID string) error {
	if _, err := st.FindIntegrationByID(ctx, integrationID); err != nil {
		return err
	}
	return st.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := client.InsertTx(ctx, tx, PushPackagesArgs{IntegrationID: integrationID}, nil); err != nil {
			return fmt.Errorf("enqueue package push: %w", err)
		}
		return nil
	})
}
