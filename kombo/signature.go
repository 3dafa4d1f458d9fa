package kombo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// SignatureHeader is the HTTP header that carries a webhook's signature.
const SignatureHeader = "X-Kombo-Signature"

// Sign returns the X-Kombo-Signature value for body under secret:
// base64url without padding of HMAC-SHA256, keyed with the secret's UTF-8
// bytes, over the exact body bytes.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header is a valid signature of body under any of
// secrets. Several secrets are accepted so that a secret can be rotated
// without losing webhooks. The comparison is constant-time; body must be the
// raw bytes as received, before any decoding.
func Verify(secrets []string, body []byte, header string) bool {
	got, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(header), "="))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		// Check every secret, not just until the first match, so the time
		// taken does not tell which secret matched.
		if hmac.Equal(got, mac.Sum(nil)) {
			ok = true
		}
	}
	return ok
}
