package main

import (
	"fmt"
	"time"

	"github.com/assessgate/assessgate/internal/assessgate"
	"github.com/assessgate/assessgate/internal/keyring"
)

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
func definePrivacyFlags(f *envFlags) func() (*assessgate.PrivacyConfig, error) {
	keys := defineKeyFlag(f)
	retention := f.Duration("retention", "ASSESSGATE_RETENTION", defaultRetention,
		"personal data of an order is erased this long after it reached a final state; 0: kept")
	grace := f.Duration("deleted-integration-grace", "ASSESSGATE_DELETED_INTEGRATION_GRACE", defaultDeletedGrace,
		"personal data of a deleted integration's orders is erased this long after the deletion; 0: kept")
	interval := f.Duration("retention-interval", "ASSESSGATE_RETENTION_INTERVAL", defaultRetentionInterval,
		"how often the retention job looks for personal data to erase, at least 1s")
	return func() (*assessgate.PrivacyConfig, error) {
		c := &assessgate.PrivacyConfig{Retention: *retention, DeletedIntegrationGrace: *grace, RetentionInterval: *interval}
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
