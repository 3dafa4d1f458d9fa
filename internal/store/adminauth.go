package store

// The admin pages' sessions and sign-in attempts. The admin package
// decides (how long a session lasts, how long a client waits between
// attempts); the store remembers, for every replica at once.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
)

// AdminSession is a signed-in admin.
type AdminSession struct {
	ID        string // public: shown on the sessions page
	TokenHash string // SHA-256 of the cookie's token, hex; never shown
	KeyTag    string // the admin password it was made under
	CreatedAt time.Time
	LastSeen  time.Time
	Expires   time.Time
	Client    string // the address it signed in from
	UserAgent string
}

const adminSessionColumns = "id, token_hash, key_tag, created_at, last_seen_at, expires_at, client, user_agent"

func scanAdminSession(row scanner) (*AdminSession, error) {
	var a AdminSession
	var created, seen, expires int64
	if err := row.Scan(&a.ID, &a.TokenHash, &a.KeyTag, &created, &seen, &expires, &a.Client, &a.UserAgent); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastSeen, a.Expires = fromMillis(created), fromMillis(seen), fromMillis(expires)
	return &a, nil
}

// CreateAdminSession stores a new session; expired sessions go at the same
// time.
func (s *Store) CreateAdminSession(ctx context.Context, a *AdminSession) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM admin_sessions WHERE expires_at <= $1", s.nowMillis()); err != nil {
			return fmt.Errorf("delete expired admin sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO admin_sessions ("+adminSessionColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			a.ID, a.TokenHash, a.KeyTag, a.CreatedAt.UnixMilli(), a.LastSeen.UnixMilli(), a.Expires.UnixMilli(), a.Client, a.UserAgent)
		if err != nil {
			return fmt.Errorf("create admin session: %w", err)
		}
		return nil
	})
}

// FindAdminSession returns the unexpired session of a token hash made
// under keyTag, or an ENOTFOUND error.
func (s *Store) FindAdminSession(ctx context.Context, tokenHash, keyTag string) (*AdminSession, error) {
	a, err := scanAdminSession(s.db.Reader.QueryRowContext(ctx, "SELECT "+adminSessionColumns+
		" FROM admin_sessions WHERE token_hash = $1 AND key_tag = $2 AND expires_at > $3", tokenHash, keyTag, s.nowMillis()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orders.Errorf(orders.ENOTFOUND, "no such admin session")
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("find admin session: %w", err))
	}
	return a, nil
}

// TouchAdminSession records that a session was used at t.
func (s *Store) TouchAdminSession(ctx context.Context, id string, t time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE admin_sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1", t.UnixMilli(), id); err != nil {
			return fmt.Errorf("touch admin session: %w", err)
		}
		return nil
	})
}

// FindAdminSessions returns the unexpired sessions made under keyTag,
// most recently used first.
func (s *Store) FindAdminSessions(ctx context.Context, keyTag string) ([]*AdminSession, error) {
	rows, err := s.db.Reader.QueryContext(ctx, "SELECT "+adminSessionColumns+
		" FROM admin_sessions WHERE key_tag = $1 AND expires_at > $2 ORDER BY last_seen_at DESC, id", keyTag, s.nowMillis())
	if err != nil {
		return nil, unavailable(fmt.Errorf("find admin sessions: %w", err))
	}
	defer rows.Close()
	var list []*AdminSession
	for rows.Next() {
		a, err := scanAdminSession(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	return list, rows.Err()
}

// EndAdminSession deletes a session by its public id; ending one that is
// not there (ended already, or expired) is not an error.
func (s *Store) EndAdminSession(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM admin_sessions WHERE id = $1", id); err != nil {
			return fmt.Errorf("end admin session: %w", err)
		}
		return nil
	})
}

// EndAdminSessionsExcept deletes every session not made under keyTag (the
// sessions of an earlier admin password) and every expired one, and says
// how many went.
func (s *Store) EndAdminSessionsExcept(ctx context.Context, keyTag string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM admin_sessions WHERE key_tag <> $1 OR expires_at <= $2", keyTag, s.nowMillis())
		if err != nil {
			return fmt.Errorf("end admin sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// SignInAttempt is what CountSignInAttempt decided.
type SignInAttempt struct {
	// Wait is how long the client must still wait before it may try; zero
	// when this attempt was counted and may go ahead.
	Wait time.Duration
	// Attempts is how many attempts the client has made, this one
	// included, since its last success or its last quiet day.
	Attempts int
}

// SignInForget is how long a client's attempts are remembered after its
// last one.
const SignInForget = 24 * time.Hour

// CountSignInAttempt counts a sign-in attempt from client, unless client
// must still wait after its earlier ones (then it is not counted, and Wait
// says for how long). delay(n) is how long the client must wait after its
// nth attempt. Concurrent attempts from one client are counted one at a
// time: one that finds the count changed under it looks again.
func (s *Store) CountSignInAttempt(ctx context.Context, client string, delay func(attempts int) time.Duration) (SignInAttempt, error) {
	for range 5 {
		now := s.nowMillis()
		var attempts int
		var last, next int64
		err := s.db.Writer.QueryRowContext(ctx, "SELECT attempts, last_at, next_at FROM admin_signin_attempts WHERE client = $1", client).
			Scan(&attempts, &last, &next)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return SignInAttempt{}, unavailable(fmt.Errorf("read sign-in attempts: %w", err))
		}
		if found && next > now {
			return SignInAttempt{Wait: time.Duration(next-now) * time.Millisecond, Attempts: attempts}, nil
		}
		n := attempts + 1
		if !found || last <= now-SignInForget.Milliseconds() {
			n = 1
		}
		nextAt := now + delay(n).Milliseconds()
		var res sql.Result
		if found {
			res, err = s.db.Writer.ExecContext(ctx, `UPDATE admin_signin_attempts SET attempts = $1, last_at = $2, next_at = $3
				WHERE client = $4 AND attempts = $5 AND last_at = $6`, n, now, nextAt, client, attempts, last)
		} else {
			// The table's own cleaning: a client quiet for a day is forgotten.
			if _, err := s.db.Writer.ExecContext(ctx, "DELETE FROM admin_signin_attempts WHERE last_at <= $1", now-SignInForget.Milliseconds()); err != nil {
				return SignInAttempt{}, unavailable(fmt.Errorf("forget old sign-in attempts: %w", err))
			}
			res, err = s.db.Writer.ExecContext(ctx, `INSERT INTO admin_signin_attempts (client, attempts, last_at, next_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (client) DO NOTHING`, client, n, now, nextAt)
		}
		if err != nil {
			return SignInAttempt{}, unavailable(fmt.Errorf("count sign-in attempt: %w", err))
		}
		if k, err := res.RowsAffected(); err == nil && k == 1 {
			return SignInAttempt{Attempts: n}, nil
		}
	}
	return SignInAttempt{Wait: time.Second}, nil
}

// ForgetSignInAttempts forgets client's attempts, after it signed in.
func (s *Store) ForgetSignInAttempts(ctx context.Context, client string) error {
	_, err := s.db.Writer.ExecContext(ctx, "DELETE FROM admin_signin_attempts WHERE client = $1", client)
	if err != nil {
		return unavailable(fmt.Errorf("forget sign-in attempts: %w", err))
	}
	return nil
}
