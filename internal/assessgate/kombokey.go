package assessgate

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/assessgate/assessgate/kombo"
)

// keyCheck is what GET /check-api-key said of KOMBO_API_KEY at start-up,
// for the log and /readyz's detail. A wrong key does not make the replica
// unready: it still takes Kombo's webhooks (they are signed with the
// webhook secret, not the key), and a load balancer that dropped every
// replica would lose them; the work that needs the key fails visibly
// instead (dead letters, the order, /metrics).
type keyCheck struct {
	kombo  *kombo.Client // nil: no key
	logger *slog.Logger

	mu     sync.Mutex
	status string
}

// check asks Kombo about the key, once, and logs what it says.
func (k *keyCheck) check(ctx context.Context) {
	if k.kombo == nil {
		k.set("not set: results are parked, not written back (set KOMBO_API_KEY)")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := k.kombo.CheckAPIKey(ctx)
	var kerr *kombo.Error
	switch {
	case err == nil:
		k.set("ok")
		k.logger.Info("KOMBO_API_KEY checked", "environment_id", info.EnvironmentID)
	case errors.As(err, &kerr) && (kerr.StatusCode == 401 || kerr.StatusCode == 403 || kerr.Code == kombo.CodeAuthenticationInvalid):
		k.set("refused by Kombo: " + kerr.Error() + "; results cannot be written back until KOMBO_API_KEY is a key of this Kombo environment")
		k.logger.Error("KOMBO_API_KEY is wrong: Kombo refused it; results will not be written back, packages not pushed",
			"status", kerr.StatusCode, "code", kerr.Code, "log_url", kerr.LogURL)
	default:
		k.set("not checked: " + err.Error())
		k.logger.Warn("KOMBO_API_KEY could not be checked", "err", err)
	}
}

func (k *keyCheck) set(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.status = s
}

// Status is the check's outcome for /readyz: "ok", or what is wrong.
func (k *keyCheck) Status() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.status == "" {
		return "not checked yet"
	}
	return k.status
}
