package assessgate

import "fmt"

// Weak secrets start, with a warning each at start-up that names the
// setting (never the value): refusing them would break every test set-up
// and demo that uses a short secret on purpose, and the warning is where
// whoever deploys looks. A secret is weak when it is shorter than
// MinSecretLength or uses fewer than minDistinct different characters
// ("aaaaaaaaaaaaaaaa", "abababab…"). The admin password, which a person
// types, must be 12 characters long (the admin pages refuse shorter) and is
// weak by the same repetition rule.
const (
	// MinSecretLength is the shortest secret or token that does not warn.
	MinSecretLength = 16
	minDistinct     = 6
)

// weakness says why s is weak as a secret of at least minLen characters,
// or "" when it is not.
func weakness(s string, minLen int) string {
	distinct := map[rune]bool{}
	for _, c := range s {
		distinct[c] = true
	}
	switch {
	case len(s) < minLen:
		return fmt.Sprintf("shorter than %d characters", minLen)
	case len(distinct) < minDistinct:
		return fmt.Sprintf("only %d different characters", len(distinct))
	}
	return ""
}

// WeakSecrets lists cfg's weak secrets, each as "SETTING: why"; a list
// of several (rotation) is named with the position of the weak one.
func WeakSecrets(cfg Config) []string {
	var out []string
	check := func(name string, list []string, minLen int) {
		for i, s := range list {
			if why := weakness(s, minLen); why != "" {
				n := name
				if len(list) > 1 {
					n = fmt.Sprintf("%s (value %d of %d)", name, i+1, len(list))
				}
				out = append(out, n+": "+why)
			}
		}
	}
	check("KOMBO_WEBHOOK_SECRET", cfg.WebhookSecrets, MinSecretLength)
	check("ASSESSGATE_API_TOKEN", cfg.APITokens, MinSecretLength)
	if cfg.AdminPassword != "" {
		check("ASSESSGATE_ADMIN_PASSWORD", []string{cfg.AdminPassword}, 12)
	}
	if cfg.Candidates.VendorWebhookSecret != "" {
		check("ASSESSGATE_VENDOR_WEBHOOK_SECRET", []string{cfg.Candidates.VendorWebhookSecret}, MinSecretLength)
	}
	return out
}
