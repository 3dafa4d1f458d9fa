package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/assessgate/assessgate/internal/keyring"
	"github.com/assessgate/assessgate/internal/store"
)

// privacyConfig is how "serve" keeps personal data: the keys that seal it,
// and how long it is kept.
type privacyConfig struct {
	Keys *keyring.Keyring // nil: stored in clear
	// Retention is how long after an order closed its personal data is
	// kept; 0 keeps it.
	Retention time.Duration
	// DeletedIntegrationGrace is how long after Kombo deleted an
	// integration its orders' personal data is kept; 0 keeps it.
	DeletedIntegrationGrace time.Duration
	// RetentionInterval is how often the retention job runs.
	RetentionInterval time.Duration
}

// Defaults of the retention settings.
const (
	defaultRetention         = 180 * 24 * time.Hour
	defaultDeletedGrace      = 30 * 24 * time.Hour
	defaultRetentionInterval = time.Hour
)

// defineKeyFlag defines the encryption key flag; the function it returns
// gives the keyring once f is parsed.
func defineKeyFlag(f *envFlags) func() (*keyring.Keyring, error) {
	raw := f.String("encryption-key", "ASSESSGATE_ENCRYPTION_KEY", "",
		"key(s) that encrypt personal data at rest: 32 random bytes in base64 (openssl rand -base64 32); several, comma-separated, while rotating: the first encrypts")
	return func() (*keyring.Keyring, error) {
		k, err := keyring.Parse(*raw)
		if err != nil {
			return nil, fmt.Errorf("ASSESSGATE_ENCRYPTION_KEY: %v", err)
		}
		return k, nil
	}
}

// definePrivacyFlags defines the flags of personal data; the function it
// returns gives the configuration once f is parsed.
func definePrivacyFlags(f *envFlags) func() (*privacyConfig, error) {
	keys := defineKeyFlag(f)
	retention := f.Duration("retention", "ASSESSGATE_RETENTION", defaultRetention,
		"personal data of an order is erased this long after it reached a final state; 0: kept")
	grace := f.Duration("deleted-integration-grace", "ASSESSGATE_DELETED_INTEGRATION_GRACE", defaultDeletedGrace,
		"personal data of a deleted integration's orders is erased this long after the deletion; 0: kept")
	interval := f.Duration("retention-interval", "ASSESSGATE_RETENTION_INTERVAL", defaultRetentionInterval,
		"how often the retention job looks for personal data to erase, at least 1s")
	return func() (*privacyConfig, error) {
		c := &privacyConfig{Retention: *retention, DeletedIntegrationGrace: *grace, RetentionInterval: *interval}
		var err error
		if c.Keys, err = keys(); err != nil {
			return nil, err
		}
		if c.RetentionInterval < time.Second {
			return nil, fmt.Errorf("ASSESSGATE_RETENTION_INTERVAL %s: want at least 1s", c.RetentionInterval)
		}
		return c, nil
	}
}

// setUpPersonalData gives the store its keys and brings the database in
// line with them (see store.Reseal), and takes personal data out of the
// job rows of older versions. It says at start-up how personal data is kept.
func setUpPersonalData(ctx context.Context, cfg *privacyConfig, st *store.Store, logger *slog.Logger) error {
	st.SetKeyring(cfg.Keys)
	if cfg.Keys.Enabled() {
		logger.Info("personal data is encrypted at rest", "key_ids", cfg.Keys.KeyIDs())
	} else {
		logger.Warn("ASSESSGATE_ENCRYPTION_KEY is not set: personal data is stored in clear; make a key with: openssl rand -base64 32")
	}
	stats, err := st.Reseal(ctx)
	if err != nil {
		return fmt.Errorf("personal data: %w", err)
	}
	if !stats.Skipped && stats.Orders+stats.WebhookEvents+stats.Results > 0 {
		logger.Info("personal data encrypted under the first key", "orders", stats.Orders,
			"webhook_events", stats.WebhookEvents, "results", stats.Results)
	}

	switch {
	case cfg.Retention == 0 && cfg.DeletedIntegrationGrace == 0:
		logger.Warn("ASSESSGATE_RETENTION and ASSESSGATE_DELETED_INTEGRATION_GRACE are 0: personal data is kept until erased on request")
	default:
		logger.Info("personal data is erased after", "retention", formatDuration(cfg.Retention),
			"deleted_integration_grace", formatDuration(cfg.DeletedIntegrationGrace), "every", formatDuration(cfg.RetentionInterval))
	}
	return nil
}

// policy is the store's retention policy of cfg.
func (cfg *privacyConfig) policy() store.Retention {
	return store.Retention{AfterClose: cfg.Retention, AfterIntegrationDeleted: cfg.DeletedIntegrationGrace}
}
