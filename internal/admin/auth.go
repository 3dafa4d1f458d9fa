package admin

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sessions are stateless signed tokens, so that every replica accepts the
// cookie another replica set, with no session table:
//
//	v1.<expiry, Unix seconds>.<session id, 16 random bytes>.<HMAC-SHA256>
//
// The signing key is derived from the admin password with PBKDF2 (a slow
// hash, so that a stolen cookie does not make guessing the password cheap).
// Every replica with the same password derives the same key; changing the
// password ends every session. Logging out deletes the cookie in the
// browser; a copy of it stays valid until it expires.
const (
	cookieName     = "assessgate_admin"
	sessionVersion = "v1"
	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 12 * time.Hour
	// kdfIterations follows OWASP's advice for PBKDF2-HMAC-SHA256.
	kdfIterations = 600_000
)

// kdfSalt is fixed: the key must be the same on every replica, and a
// random salt would have to be shared like a secret.
var kdfSalt = []byte("assessgate admin session key v1")

// sessionKey derives the key that signs sessions and CSRF tokens.
func sessionKey(password string) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, kdfSalt, kdfIterations, 32)
}

// session is a signed-in admin.
type session struct {
	ID      string // random, base64url; CSRF tokens are bound to it
	Expires time.Time
}

func (h *Handler) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(strings.Join(parts, ".")))
	return m.Sum(nil)
}

// newSession returns a session that expires SessionTTL from now, and its
// token.
func (h *Handler) newSession() (session, string) {
	b := make([]byte, 16)
	rand.Read(b)
	s := session{ID: base64.RawURLEncoding.EncodeToString(b), Expires: h.now().Add(SessionTTL).Truncate(time.Second)}
	exp := strconv.FormatInt(s.Expires.Unix(), 10)
	sig := base64.RawURLEncoding.EncodeToString(h.mac(sessionVersion, exp, s.ID))
	return s, strings.Join([]string{sessionVersion, exp, s.ID, sig}, ".")
}

var errNoSession = errors.New("no valid session")

// parseSession checks a session token: well formed, signed with this
// password's key, not expired.
func (h *Handler) parseSession(token string) (session, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != sessionVersion {
		return session{}, errNoSession
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, h.mac(parts[0], parts[1], parts[2])) {
		return session{}, errNoSession
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return session{}, errNoSession
	}
	s := session{ID: parts[2], Expires: time.Unix(exp, 0)}
	if !h.now().Before(s.Expires) {
		return session{}, errNoSession
	}
	return s, nil
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
// admin pages only, and Secure over TLS or when assessgate's public address
// is https.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    value,
		Path:     "/admin/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.cfg.SecureCookies || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// session returns the request's session, or errNoSession.
func (h *Handler) session(r *http.Request) (session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, errNoSession
	}
	return h.parseSession(c.Value)
}

// failures counts failed sign-ins per client address, to slow down
// password guessing: after maxFailures in failureWindow, sign-ins from that
// address are refused until the window ends. Behind a proxy every client
// shares the proxy's address, which makes the limit global: still safe.
type failures struct {
	mu sync.Mutex
	m  map[string]*failureCount
}

type failureCount struct {
	n     int
	until time.Time // the window's end
}

const (
	maxFailures   = 10
	failureWindow = 15 * time.Minute
)

// blocked reports whether ip may not try now, and until when.
func (f *failures) blocked(ip string, now time.Time) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.m[ip]
	if c == nil || now.After(c.until) {
		return time.Time{}, false
	}
	return c.until, c.n >= maxFailures
}

// fail records a failed sign-in from ip.
func (f *failures) fail(ip string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*failureCount{}
	}
	if len(f.m) > 10_000 {
		for k, c := range f.m {
			if now.After(c.until) {
				delete(f.m, k)
			}
		}
	}
	c := f.m[ip]
	if c == nil || now.After(c.until) {
		c = &failureCount{until: now.Add(failureWindow)}
		f.m[ip] = c
	}
	c.n++
}

// reset forgets the failures of ip after a successful sign-in.
func (f *failures) reset(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, ip)
}

// clientIP is the address the request came from, without the port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
