// Package admin is assessgate's web interface for the people who run it:
// server-rendered pages under /admin/ that show what came in, what is stuck
// and why, and fix it without SQL (retry dead letters, push the package
// catalogue again).
//
// Every page needs a sign-in with the admin password; every form carries a
// CSRF token bound to the session, and cross-origin POSTs are refused
// (net/http.CrossOriginProtection). Pages are html/template, so everything
// that came from an ATS (names, job descriptions) is escaped; job
// descriptions, HTML in the ATS, are shown as text. Styles are embedded; no
// page loads anything from elsewhere.
package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// MinPasswordLength is the shortest admin password accepted.
const MinPasswordLength = 12

// Config is what the admin pages need.
type Config struct {
	Store  *store.Store
	Jobs   *jobs.Client
	Logger *slog.Logger
	// Reconciler closes stuck orders at Kombo and takes them again; nil
	// leaves the stuck list without its actions.
	Reconciler *jobs.Reconciler
	// WeakSecrets names the settings whose secret is weak, each as
	// "SETTING: why" (never the value), for the overview to say.
	WeakSecrets []string
	// Password is the admin password (ASSESSGATE_ADMIN_PASSWORD); New
	// refuses an empty or short one.
	Password string
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests: set it when assessgate is reached over https through a
	// proxy that ends TLS. Requests over TLS, or through a trusted proxy
	// that says https (see package proxy), always get Secure cookies.
	SecureCookies bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Kombo makes reconnection links on request; nil (KOMBO_API_KEY unset)
	// says it cannot.
	Kombo *kombo.Client
}

// Handler serves the admin pages. Mount it at /admin/.
type Handler struct {
	cfg          Config
	log          *slog.Logger
	key          []byte
	passwordHash [32]byte
	pages        map[string]*template.Template
	handler      http.Handler
}

// New returns the admin pages' handler. It derives the session key from the
// password, which takes a moment on purpose (see sessionKey).
func New(cfg Config) (*Handler, error) {
	if len(cfg.Password) < MinPasswordLength {
		return nil, fmt.Errorf("ASSESSGATE_ADMIN_PASSWORD is too short: use at least %d characters", MinPasswordLength)
	}
	key, err := sessionKey(cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("derive admin session key: %w", err)
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, key: key, passwordHash: sha256.Sum256([]byte(cfg.Password))}
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	h.handler = h.routes()
	return h, nil
}

func (h *Handler) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// routes lists the admin pages. Every one but the sign-in page and the
// styles needs a session; every POST a CSRF token.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /admin/login", h.handleLoginPage)
	mux.HandleFunc("POST /admin/login", h.handleLogin)
	mux.Handle("POST /admin/logout", h.signedIn(h.handleLogout))
	mux.Handle("GET /admin/{$}", h.signedIn(h.handleOverview))
	mux.Handle("GET /admin/orders", h.signedIn(h.handleOrders))
	mux.Handle("POST /admin/orders", h.signedIn(h.handleOrders))
	mux.Handle("GET /admin/orders/{id}", h.signedIn(h.handleOrder))
	mux.Handle("GET /admin/dead-letters", h.signedIn(h.handleDeadLetters))
	mux.Handle("POST /admin/dead-letters/{id}/retry", h.signedIn(h.handleRetryOne))
	mux.Handle("POST /admin/dead-letters/retry", h.signedIn(h.handleRetryKind))
	mux.Handle("POST /admin/stuck-orders/{id}/close", h.signedIn(h.handleCloseStuck))
	mux.Handle("POST /admin/stuck-orders/{id}/retry", h.signedIn(h.handleRetryStuck))
	mux.Handle("GET /admin/integrations", h.signedIn(h.handleIntegrations))
	mux.Handle("POST /admin/integrations/{id}/relink", h.signedIn(h.handleRelink))
	mux.Handle("POST /admin/integrations/{id}/push", h.signedIn(h.handlePushOne))
	mux.Handle("GET /admin/packages", h.signedIn(h.handlePackages))
	mux.Handle("POST /admin/packages/push", h.signedIn(h.handlePushPackages))
	mux.Handle("GET /admin/sessions", h.signedIn(h.handleSessions))
	mux.Handle("POST /admin/sessions/{id}/end", h.signedIn(h.handleEndSession))
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "Not found", "There is no admin page at this address.")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("admin: cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		h.errorPage(w, r, http.StatusForbidden, "Forbidden", "This form was not sent from assessgate's own pages.")
	}))
	return securityHeaders(cop.Handler(mux))
}

// pageHandler is an admin page: it gets the signed-in session.
type pageHandler func(w http.ResponseWriter, r *http.Request, s session)

// signedIn wraps a page so that it needs a session: without one, a GET is
// sent to the sign-in page (and back after it), anything else gets 401. A
// POST must carry the session's CSRF token, or gets 403.
func (h *Handler) signedIn(next pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(r)
		if err != nil && err != errNoSession {
			h.fail(w, r, err)
			return
		}
		if err != nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, http.StatusUnauthorized, "Sign-in needed", "Your session has ended. Sign in again, then repeat what you did.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !h.checkCSRF(r, s) {
				h.log.Warn("admin: bad CSRF token", "path", r.URL.Path)
				h.errorPage(w, r, http.StatusForbidden, "Forbidden",
					"The form's security token is missing or wrong (it may be from an earlier session). Reload the page and try again.")
				return
			}
		}
		next(w, r, s)
	})
}

// securityHeaders keeps the admin pages out of caches and frames, and lets
// them load only their own styles.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/admin/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// layout is what every page's frame shows.
type layout struct {
	Title    string
	Nav      string // the current section, for the menu
	SignedIn bool
	CSRF     string
	Flash    string
}

// render writes a page: the layout around the template name, with data.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, l layout, data any) {
	t, ok := h.pages[name]
	if !ok {
		panic("admin: no page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", struct {
		Layout layout
		Data   any
	}{l, data}); err != nil {
		h.log.Error("admin: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// page renders a page of a signed-in session.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, s session, name, title, nav string, data any) {
	h.render(w, r, http.StatusOK, name, layout{Title: title, Nav: nav, SignedIn: true, CSRF: h.csrfToken(s), Flash: flash(r)}, data)
}

// errorPage shows a message with a status. A signed-in user keeps the menu.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	l := layout{Title: title}
	if s, err := h.session(r); err == nil {
		l.SignedIn, l.CSRF = true, h.csrfToken(s)
	}
	h.render(w, r, status, "error", l, message)
}

// fail shows an error from the store or the jobs: the message of a user
// error with its status, "internal error" (logged once) otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, title, message := errorStatus(err)
	if status >= 500 {
		h.log.Error("admin: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.errorPage(w, r, status, title, message)
}

// flash is the message a page shows after a form redirected to it: the
// form's handler names an outcome in the query; only known outcomes show,
// so no one can put words on the page with a link.
func flash(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case q.Get("retried") != "":
		n := atoiOr(q.Get("retried"), -1)
		if n >= 0 {
			return fmt.Sprintf("Retried %d dead letter%s: %s queued to run now.", n, plural(n), itThem(n))
		}
	case q.Get("relinked") != "":
		return "A new reconnection link was made: send it to the customer."
	case q.Get("pushed_one") != "":
		return "Package push queued for the integration."
	case q.Get("ended") != "":
		return "The session is ended: its cookie is refused from now on."
	case q.Get("closed") == "1":
		return "The order is closed at Kombo (CANCELLED) and left the stuck list."
	case q.Get("taken") == "1":
		return "The order is taken: assessgate holds it now."
	case q.Get("taken") == "0":
		return "The order could not be taken yet: its reason on the stuck list says why."
	case q.Get("pushed") != "":
		n := atoiOr(q.Get("pushed"), -1)
		if n >= 0 {
			return fmt.Sprintf("Package push queued for %d active integration%s.", n, plural(n))
		}
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func itThem(n int) string {
	if n == 1 {
		return "it is"
	}
	return "they are"
}
