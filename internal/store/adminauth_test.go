package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
)

func TestStore_AdminSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := clockOf(st)
		mk := func(id, tag string, ttl time.Duration) *store.AdminSession {
			now := clk.Now()
			a := &store.AdminSession{ID: id, TokenHash: "hash-" + id, KeyTag: tag, CreatedAt: now, LastSeen: now,
				Expires: now.Add(ttl), Client: "198.51.100.1", UserAgent: "test"}
			if err := st.CreateAdminSession(ctx, a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		mk("a", "k1", time.Hour)
		mk("b", "k1", 2*time.Hour)
		mk("old", "k0", time.Hour)

		got, err := st.FindAdminSession(ctx, "hash-a", "k1")
		if err != nil || got.ID != "a" || got.Client != "198.51.100.1" {
			t.Fatalf("FindAdminSession(hash-a) = %+v, %v; want session a", got, err)
		}
		if _, err := st.FindAdminSession(ctx, "hash-old", "k1"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("FindAdminSession of another password's session = %v; want ENOTFOUND", err)
		}
		clk.Advance(time.Minute)
		if err := st.TouchAdminSession(ctx, "b", clk.Now()); err != nil {
			t.Fatal(err)
		}
		list, err := st.FindAdminSessions(ctx, "k1")
		if err != nil || len(list) != 2 || list[0].ID != "b" || !list[0].LastSeen.Equal(clk.Now()) {
			t.Fatalf("FindAdminSessions = %+v, %v; want b (just used), then a", list, err)
		}

		if err := st.EndAdminSession(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.FindAdminSession(ctx, "hash-a", "k1"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("FindAdminSession after EndAdminSession = %v; want ENOTFOUND", err)
		}
		if n, err := st.EndAdminSessionsExcept(ctx, "k1"); err != nil || n != 1 {
			t.Errorf("EndAdminSessionsExcept(k1) = %d, %v; want 1 (the old password's)", n, err)
		}
		clk.Advance(2 * time.Hour)
		if _, err := st.FindAdminSession(ctx, "hash-b", "k1"); orders.ErrorCode(err) != orders.ENOTFOUND {
			t.Errorf("FindAdminSession of an expired session = %v; want ENOTFOUND", err)
		}
	})
}

func TestStore_CountSignInAttempt(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := clockOf(st)
		// Two free attempts, then ten seconds after each.
		delay := func(n int) time.Duration {
			if n < 2 {
				return 0
			}
			return 10 * time.Second
		}
		count := func(client string) store.SignInAttempt {
			t.Helper()
			a, err := st.CountSignInAttempt(ctx, client, delay)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		if a := count("x"); a.Wait != 0 || a.Attempts != 1 {
			t.Errorf("first attempt = %+v; want counted as 1", a)
		}
		if a := count("x"); a.Wait != 0 || a.Attempts != 2 {
			t.Errorf("second attempt = %+v; want counted as 2", a)
		}
		if a := count("x"); a.Wait != 10*time.Second || a.Attempts != 2 {
			t.Errorf("third attempt at once = %+v; want a 10s wait, not counted", a)
		}
		if a := count("y"); a.Wait != 0 || a.Attempts != 1 {
			t.Errorf("another client's attempt = %+v; want counted as its first", a)
		}
		clk.Advance(10 * time.Second)
		if a := count("x"); a.Wait != 0 || a.Attempts != 3 {
			t.Errorf("attempt after the wait = %+v; want counted as 3", a)
		}
		if err := st.ForgetSignInAttempts(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		if a := count("x"); a.Wait != 0 || a.Attempts != 1 {
			t.Errorf("attempt after ForgetSignInAttempts = %+v; want counted as 1", a)
		}
		clk.Advance(store.SignInForget)
		if a := count("y"); a.Wait != 0 || a.Attempts != 1 {
			t.Errorf("attempt after a quiet day = %+v; want counted as 1", a)
		}

		// Concurrent attempts are counted one by one: of 20 at once from
		// a client with one free attempt left, one goes ahead.
		clk.Advance(store.SignInForget)
		count("z")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ahead := 0
		for range 20 {
			wg.Go(func() {
				a, err := st.CountSignInAttempt(ctx, "z", delay)
				if err != nil {
					t.Error(err)
				}
				if a.Wait == 0 {
					mu.Lock()
					ahead++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ahead != 1 {
			t.Errorf("of 20 concurrent attempts, %d went ahead; want 1", ahead)
		}
	})
}
