package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

// A dead letter is a job River gave up on: discarded after its last attempt,
// or cancelled at once because the failure needs a human. Dead letters stay
// in River's job table until replayed.
var deadStates = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}

// Kinds are the kinds of assessgate's jobs: what a dead letter's kind may
// be. TestKinds fails when a job's Kind is missing here.
var Kinds = []string{
	"invite", "invite_many", "remind", "expire", "vendor_webhook", "writeback", "push_packages",
	"reconcile", "reconcile_integration", "heartbeat", "retention",
	"discover_integration", "parked_check", "wake_parked", "relink",
}

// checkKind refuses a kind that is not one of Kinds, naming them.
func checkKind(kind string) error {
	if kind != "" && !slices.Contains(Kinds, kind) {
		return orders.Errorf(orders.EINVALID, "unknown kind %q: want one of %s", kind, strings.Join(Kinds, ", "))
	}
	return nil
}

// DeadLetter is a job that will not run again unless replayed.
type DeadLetter struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	State         string     `json:"state"` // discarded or cancelled
	OrderID       string     `json:"order_id,omitempty"`
	OrderIDs      []string   `json:"order_ids,omitempty"` // an invite_many job's
	IntegrationID string     `json:"integration_id,omitempty"`
	Attempts      int        `json:"attempts"`
	MaxAttempts   int        `json:"max_attempts"`
	Error         string     `json:"error"`
	ErrorAt       *time.Time `json:"error_at"`
	CreatedAt     time.Time  `json:"created_at"`
	FinalizedAt   *time.Time `json:"finalized_at"`
}

// jobRefs are the fields of job args that tie a job to an order or integration.
type jobRefs struct {
	OrderID       string   `json:"order_id"`
	OrderIDs      []string `json:"order_ids"`
	IntegrationID string   `json:"integration_id"`
}

func newDeadLetter(j *rivertype.JobRow) DeadLetter {
	var refs jobRefs
	_ = json.Unmarshal(j.EncodedArgs, &refs) // args of other shapes simply have no refs
	d := DeadLetter{
		ID: j.ID, Kind: j.Kind, State: string(j.State), OrderID: refs.OrderID, OrderIDs: refs.OrderIDs, IntegrationID: refs.IntegrationID,
		Attempts: j.Attempt, MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt, FinalizedAt: j.FinalizedAt,
	}
	if n := len(j.Errors); n > 0 {
		last := j.Errors[n-1]
		d.Error, d.ErrorAt = plainError(last.Error), &last.At
	}
	return d
}

// plainError is a job's error as it is worth reading: without the prefix
// River gives an error that cancelled the job ("JobCancelError: "), which
// says nothing the dead letter's state does not.
func plainError(s string) string {
	return strings.TrimPrefix(s, "JobCancelError: ")
}

// ListDeadLetters returns up to limit dead letters, oldest first, of one
// kind or (kind "") all kinds, after cursor; and the cursor of the next page
// ("" on the last).
func ListDeadLetters(ctx context.Context, client *Client, kind string, limit int, cursor string) ([]DeadLetter, string, error) {
	if err := checkKind(kind); err != nil {
		return nil, "", err
	}
	params := river.NewJobListParams().States(deadStates...).First(limit)
	if kind != "" {
		params = params.Kinds(kind)
	}
	if cursor != "" {
		var c river.JobListCursor
		if err := c.UnmarshalText([]byte(cursor)); err != nil {
			return nil, "", orders.Errorf(orders.EINVALID, "cursor %q is not one this API returned", cursor)
		}
		params = params.After(&c)
	}
	res, err := client.JobList(ctx, params)
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters: %w", err)
	}
	list := make([]DeadLetter, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		list = append(list, newDeadLetter(j))
	}
	next := ""
	if len(res.Jobs) == limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err != nil {
			return nil, "", err
		}
		next = string(b)
	}
	return list, next, nil
}

// RetryDeadLetter makes a dead letter available to run again now, and
// records the replay on its order's timeline in the same transaction. It
// returns ENOTFOUND for an unknown job and ECONFLICT for a job that is not
// dead.
func RetryDeadLetter(ctx context.Context, client *Client, st *store.Store, id int64) (*DeadLetter, error) {
	list, err := RetryDeadLetterIDs(ctx, client, st, []int64{id})
	if err != nil {
		return nil, err
	}
	return &list[0], nil
}

// RetryDeadLetterIDs replays the dead letters ids, all or none: every id is
// checked first (ENOTFOUND for an unknown job, ECONFLICT for one that is not
// dead), then all are made available in one transaction, with their replays
// on their orders' timelines.
func RetryDeadLetterIDs(ctx context.Context, client *Client, st *store.Store, ids []int64) ([]DeadLetter, error) {
	list := make([]DeadLetter, 0, len(ids))
	for _, id := range ids {
		job, err := client.JobGet(ctx, id)
		if errors.Is(err, river.ErrNotFound) {
			return nil, orders.Errorf(orders.ENOTFOUND, "dead letter %d not found", id)
		}
		if err != nil {
			return nil, fmt.Errorf("get job %d: %w", id, err)
		}
		if job.State != rivertype.JobStateDiscarded && job.State != rivertype.JobStateCancelled {
			return nil, orders.Errorf(orders.ECONFLICT, "job %d is %s, not a dead letter", id, job.State)
		}
		list = append(list, newDeadLetter(job))
	}
	tx, err := st.DB().Writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, d := range list {
		if _, err := client.JobRetryTx(ctx, tx, d.ID); err != nil {
			return nil, fmt.Errorf("retry job %d: %w", d.ID, err)
		}
		if d.OrderID != "" {
			if err := st.AddEventTx(ctx, tx, d.OrderID, orders.DeadLetterReplayed{JobID: d.ID, Job: d.Kind}); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit retry: %w", err)
	}
	return list, nil
}

// RetryDeadLetters replays every dead letter of kind (all kinds for "") and
// returns how many it replayed; a kind that is not one of Kinds is
// EINVALID. It collects the ids first, so a replay that
// fails again at once is not replayed twice.
func RetryDeadLetters(ctx context.Context, client *Client, st *store.Store, kind string) (int, error) {
	var ids []int64
	cursor := ""
	for {
		list, next, err := ListDeadLetters(ctx, client, kind, 100, cursor)
		if err != nil {
			return 0, err
		}
		for _, d := range list {
			ids = append(ids, d.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := RetryDeadLetterIDs(ctx, client, st, ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}
