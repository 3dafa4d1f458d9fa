package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/wait"
)

func TestServe_JobSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // part of the error
	}{
		{"RescueAfterNotADuration", map[string]string{"ASSESSGATE_RESCUE_AFTER": "soon"}, nil, `ASSESSGATE_RESCUE_AFTER="soon"`},
		{"RescueAfterTooShort", map[string]string{"ASSESSGATE_RESCUE_AFTER": "1s"}, nil, "want at least 2s"},
		{"RescueAfterFlagTooShort", nil, []string{"--rescue-after", "500ms"}, "want at least 2s"},
		{"HeartbeatTooShort", map[string]string{"ASSESSGATE_HEARTBEAT_INTERVAL": "100ms"}, nil, "want at least 1s"},
		{"HeartbeatNegative", map[string]string{"ASSESSGATE_HEARTBEAT_INTERVAL": "-1m"}, nil, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{
				"KOMBO_WEBHOOK_SECRET":    testSecret,
				"ASSESSGATE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "a.db"),
				"ASSESSGATE_ADDR":         "127.0.0.1:0",
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := runCmd(t, env, append([]string{"serve"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestServe_Heartbeat checks that the periodic heartbeat is scheduled and
// worked on both databases, each period named by its instant.
func TestServe_Heartbeat(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dbURL string) {
		a := startApp(t, dbURL, map[string]string{"ASSESSGATE_HEARTBEAT_INTERVAL": "1s", "ASSESSGATE_REPLICA_NAME": "solo"})
		wait.For(t, 20*time.Second, "a completed heartbeat", func() bool {
			return a.count("river_job", "kind = 'heartbeat' AND state = 'completed'") > 0
		})
		var leader string
		if err := a.db().QueryRow("SELECT leader_id FROM river_leader").Scan(&leader); err != nil || !strings.HasPrefix(leader, "solo_") {
			t.Errorf("river_leader = %q, %v; want the replica named solo", leader, err)
		}
	})
}
