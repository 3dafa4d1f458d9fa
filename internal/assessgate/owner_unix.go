//go:build unix

package assessgate

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ownSQLite makes this process the one owner of the SQLite database at
// path: an exclusive flock on "path.lock", which holds the owner's pid. A
// second "assessgate serve" on the same file fails at once, naming the pid
// that holds it, instead of running a second job runner on the same queue.
// The kernel drops the lock when its holder exits, also on kill -9, so a
// restart after a crash finds it free. release gives it up.
func ownSQLite(path string) (release func(), err error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the SQLite database %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "process " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("the SQLite database %s is in use by %s (lock file %s): one assessgate serve owns a SQLite file; stop the other one, or use Postgres to run several replicas (docs/postgres.md)",
				path, holder, lockPath)
		}
		return nil, fmt.Errorf("lock the SQLite database %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
