package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/store/storetest"
)

// TestServe_SQLiteOneOwner: a second serve on the SQLite file a running
// serve owns refuses to start, at once, naming the process that holds it;
// once the first one stopped, a serve on the file starts again.
func TestServe_SQLiteOneOwner(t *testing.T) {
	db := storetest.SQLite(t)
	first := startApp(t, db.URL, nil)

	env := map[string]string{
		"KOMBO_WEBHOOK_SECRET":    testSecret,
		"ASSESSGATE_DATABASE_URL": db.URL,
		"ASSESSGATE_ADDR":         "127.0.0.1:0",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil {
		t.Fatal("a second serve on the same SQLite file started")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the second serve took %v to fail; want at once", took)
	}
	path := strings.TrimPrefix(db.URL, "sqlite:")
	for _, want := range []string{path, "in use by process " + strconv.Itoa(os.Getpid()), path + ".lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(stdout.String(), "listening") {
		t.Errorf("the second serve listened: %s", stdout.String())
	}

	first.stop()
	startApp(t, db.URL, nil) // the lock went with the first serve
}
