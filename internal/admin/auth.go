package admin

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/store"
)

// Sessions live in the database (store.AdminSession), so that every replica
// sees the same: the cookie holds a random token, the database its SHA-256.
// Signing out deletes the row, which ends the session on every replica at
// once; a copy of the cookie is refused from then on.
//
// Each session is tagged with a key derived from the admin password
// (PBKDF2, so that the tag does not make guessing the password cheap): a
// replica accepts only the sessions made under its own password, so
// changing the password ends every session, and the first replica to start
// with the new one deletes the old ones.
const (
	cookieName = "assessgate_admin"
	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 12 * time.Hour
	// kdfIterations follows OWASP's advice for PBKDF2-HMAC-SHA256.
	kdfIterations = 600_000
	// touchEvery is how stale a session's "last seen" may get before a
	// request writes it again.
	touchEvery = time.Minute
)

// kdfSalt is fixed: the key must be the same on every replica, and a
// random salt would have to be shared like a secret.
var kdfSalt = []byte("assessgate admin session key v1")

// sessionKey derives the key that tags sessions and signs CSRF tokens.
func sessionKey(password string) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, kdfSalt, kdfIterations, 32)
}

// session is a signed-in admin.
type session struct {
	ID      string // public, random; CSRF tokens are bound to it
	Expires time.Time
}

func (h *Handler) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, h.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// keyTag names the admin password in the sessions it makes.
func (h *Handler) keyTag() string {
	return base64.RawURLEncoding.EncodeToString(h.mac("session-tag")[:12])
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newSession stores a session that expires SessionTTL from now, for the
// client of r, and returns its cookie's token.
func (h *Handler) newSession(ctx context.Context, r *http.Request) (string, error) {
	token, now := randomString(32), h.now()
	ua := r.UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	err := h.cfg.Store.CreateAdminSession(ctx, &store.AdminSession{
		ID: randomString(12), TokenHash: tokenHash(token), KeyTag: h.keyTag(),
		CreatedAt: now, LastSeen: now, Expires: now.Add(SessionTTL), Client: proxy.ClientIP(r), UserAgent: ua,
	})
	return token, err
}

var errNoSession = errors.New("no valid session")

// session returns the request's session: errNoSession without a cookie,
// or with one of a session that ended, expired or was made under another
// password; another error when the database cannot tell.
func (h *Handler) session(r *http.Request) (session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return session{}, errNoSession
	}
	a, err := h.cfg.Store.FindAdminSession(r.Context(), tokenHash(c.Value), h.keyTag())
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return session{}, errNoSession
	}
	if err != nil {
		return session{}, err
	}
	if now := h.now(); now.Sub(a.LastSeen) >= touchEvery {
		if err := h.cfg.Store.TouchAdminSession(r.Context(), a.ID, now); err != nil {
			h.log.Warn("admin: record session use", "session", a.ID, "err", err)
		}
	}
	return session{ID: a.ID, Expires: a.Expires}, nil
}

// EndStaleSessions deletes the sessions of other admin passwords and the
// expired ones; assessgate calls it at start-up.
func (h *Handler) EndStaleSessions(ctx context.Context) (int, error) {
	return h.cfg.Store.EndAdminSessionsExcept(ctx, h.keyTag())
}

// csrfToken is the token the forms of a session carry: an HMAC of the
// session id, so it needs no storage and dies with the session.
func (h *Handler) csrfToken(s session) string {
	return base64.RawURLEncoding.EncodeToString(h.mac("csrf", s.ID))
}

// checkCSRF reports whether a POSTed form carries the session's CSRF token.
func (h *Handler) checkCSRF(r *http.Request, s session) bool {
	got := r.PostFormValue("csrf")
	want := h.csrfToken(s)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// checkPassword compares a password with the configured one in constant
// time, whatever their lengths.
func (h *Handler) checkPassword(p string) bool {
	got := sha256.Sum256([]byte(p))
	return subtle.ConstantTimeCompare(got[:], h.passwordHash[:]) == 1
}

// setCookie sets the session cookie: HttpOnly, SameSite=Strict, for the
// admin pages only, and Secure when the client uses https (TLS here, or a
// trusted proxy's X-Forwarded-Proto) or assessgate's public address is
// https.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    value,
		Path:     "/admin/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.cfg.SecureCookies || proxy.HTTPS(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// Sign-in throttling. Every attempt is counted per client address (the
// real one behind trusted proxies; an IPv6 client by its /64, which one
// machine usually has whole), in the database, so that every replica counts
// the same and a restart forgets nothing. The first FreeSignInAttempts attempts
// go at once; after the nth attempt beyond them the client waits
// 2^(n-1) seconds, at most MaxSignInDelay, before its next, and an attempt
// during the wait is answered 429 with Retry-After without looking at the
// password. A correct password from that client after its wait signs in
// and forgets its attempts; other clients are never slowed by it. A
// client's attempts are forgotten after a quiet day (store.SignInForget).
const (
	// FreeSignInAttempts is how many attempts a client makes without
	// waiting.
	FreeSignInAttempts = 5
	// MaxSignInDelay is the longest wait between two attempts.
	MaxSignInDelay = 15 * time.Minute
)

// signInDelay is how long a client waits after its nth attempt.
func signInDelay(n int) time.Duration {
	if n <= FreeSignInAttempts {
		return 0
	}
	if n-FreeSignInAttempts > 11 { // 2^10 s > MaxSignInDelay
		return MaxSignInDelay
	}
	return min(time.Second<<(n-FreeSignInAttempts-1), MaxSignInDelay)
}

// throttleKey is the address whose attempts are counted together.
func throttleKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}
