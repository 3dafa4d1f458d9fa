package main

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/store/storetest"
	"github.com/assessgate/assessgate/internal/wait"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips the test
// where mounting is not allowed (not root): CI runs as root.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a small tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a small tmpfs (CI can, as root): %v %s", err, out)
	}
	// Registered after TempDir's cleanup, so run before it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until the disk is full, and returns its path.
// It also empties the SQLite database's WAL (db is a connection to it,
// walPath its WAL), and tries again until the WAL is empty and the disk
// full at once: a WAL that holds frames is reused from its start after a
// checkpoint, so small commits would still find room in it, and the app's
// own writes (River's, the checkpointer's) can land between an emptying
// and the filling.
func fill(t *testing.T, dir string, db *sql.DB, walPath string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	chunk := make([]byte, 16<<10)
	for range 100 {
		// Busy when the app is in the middle of a write: the next round.
		_, _ = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err = f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("fill the disk: %v", err)
		}
		if fi, err := os.Stat(walPath); errors.Is(err, fs.ErrNotExist) || err == nil && fi.Size() == 0 {
			return name
		}
	}
	t.Fatal("the disk is full but the WAL never empty: the app keeps writing")
	return ""
}

// readyz returns /readyz's status and body.
func (a *app) readyz() (int, string) {
	a.t.Helper()
	status, body := a.do("GET", "/readyz", nil, nil)
	return status, string(body)
}

// postOrders posts n orders prefix-0… and checks each is answered want.
func (a *app) postOrders(prefix string, n, want int, when string) {
	a.t.Helper()
	for i := range n {
		body := orderBody(a.t, fmt.Sprintf("e-%s-%d", prefix, i), fmt.Sprintf("o-%s-%d", prefix, i), nil)
		if status, resp := a.webhook(body); status != want {
			a.t.Errorf("POST %d %s = %d %s; want %d", i, when, status, resp, want)
		}
	}
}

// While the disk is full, /readyz fails and says why, and the intake
// answers 503, never 200; once space is freed both recover by themselves.
func TestReadyz_DiskFull(t *testing.T) {
	dir := smallDisk(t, 16<<20)
	a := startApp(t, "sqlite:"+filepath.Join(dir, "a.db"), nil)
	if status, body := a.readyz(); status != http.StatusOK || !strings.Contains(body, `"database_writes"`) {
		t.Fatalf("GET /readyz = %d %s; want 200 listing its checks", status, body)
	}
	if status, resp := a.webhook(orderBody(t, "e-before", "o-before", nil)); status != http.StatusOK {
		t.Fatalf("POST before the disk is full = %d %s", status, resp)
	}
	// The WAL back to nothing and the disk full, so that every write needs
	// space there is not.
	filler := fill(t, dir, a.db(), filepath.Join(dir, "a.db-wal"))

	wait.For(t, 15*time.Second, "/readyz 503 on a full disk", func() bool {
		status, _ := a.readyz()
		return status == http.StatusServiceUnavailable
	})
	if status, body := a.readyz(); status != http.StatusServiceUnavailable || !strings.Contains(body, `"failing"`) || !strings.Contains(body, "database_writes") {
		t.Errorf("GET /readyz on a full disk = %d %s; want 503 naming the failing check", status, body)
	}
	if v := a.metric("assessgate_ready"); v != "0" {
		t.Errorf("assessgate_ready on a full disk = %q; want 0", v)
	}
	a.postOrders("full", 5, http.StatusServiceUnavailable, "on a full disk")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 30*time.Second, "/readyz 200 once space is freed", func() bool {
		status, _ := a.readyz()
		return status == http.StatusOK
	})
	a.postOrders("full", 5, http.StatusOK, "again once space is freed")
	if n := a.count("orders", "id LIKE 'o-full-%'"); n != 5 {
		t.Errorf("%d of the 5 orders refused on the full disk stored after; want 5", n)
	}
	if v := a.metric("assessgate_ready"); v != "1" {
		t.Errorf("assessgate_ready once space is freed = %q; want 1", v)
	}
}

// While the Postgres database is read-only (as a failed-over or full
// server makes it), /readyz fails and the intake answers 503, never 200;
// once it is writable again both recover by themselves.
func TestReadyz_ReadOnlyPostgres(t *testing.T) {
	pg, ok := storetest.Postgres(t)
	if !ok {
		storetest.RequireInCI(t, storetest.EnvPostgres)
		t.Skipf("%s is not set", storetest.EnvPostgres)
	}
	a := startApp(t, pg.URL, nil)
	server, err := sql.Open("pgx", os.Getenv(storetest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	u, err := url.Parse(pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	readOnly := func(on bool) {
		t.Helper()
		set := "SET default_transaction_read_only = on"
		if !on {
			set = "RESET default_transaction_read_only"
		}
		if _, err := server.Exec(`ALTER DATABASE "` + name + `" ` + set); err != nil {
			t.Fatal(err)
		}
		// Sessions take the setting when they begin: end the app's.
		if _, err := server.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
			t.Fatal(err)
		}
	}
	if status, body := a.readyz(); status != http.StatusOK {
		t.Fatalf("GET /readyz = %d %s; want 200", status, body)
	}

	readOnly(true)
	wait.For(t, 15*time.Second, "/readyz 503 on a read-only database", func() bool {
		status, _ := a.readyz()
		return status == http.StatusServiceUnavailable
	})
	if _, body := a.readyz(); !strings.Contains(body, "database_writes") || !strings.Contains(body, "read-only") {
		t.Errorf("GET /readyz on a read-only database = %s; want the failing check and why", body)
	}
	a.postOrders("ro", 3, http.StatusServiceUnavailable, "on a read-only database")

	readOnly(false)
	wait.For(t, 30*time.Second, "/readyz 200 once the database is writable", func() bool {
		status, _ := a.readyz()
		return status == http.StatusOK
	})
	a.postOrders("ro", 3, http.StatusOK, "again once writable")
}
