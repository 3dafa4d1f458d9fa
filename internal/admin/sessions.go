package admin

import (
	"net/http"

	"github.com/assessgate/assessgate/internal/store"
)

// --- Sessions: who is signed in, and ending a session.

type sessionsData struct {
	Sessions []*store.AdminSession
	Current  string // the id of the session looking at the page
	CSRF     string
}

// handleSessions lists the sessions signed in with the current password,
// most recently used first.
func (h *Handler) handleSessions(w http.ResponseWriter, r *http.Request, s session) {
	list, err := h.cfg.Store.FindAdminSessions(r.Context(), h.keyTag())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.page(w, r, s, "sessions", "Sessions", "sessions", sessionsData{Sessions: list, Current: s.ID, CSRF: h.csrfToken(s)})
}

// handleEndSession ends a session on every replica: its cookie is refused
// from then on. Ending one's own is signing out.
func (h *Handler) handleEndSession(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if err := h.cfg.Store.EndAdminSession(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: session ended", "session", id, "by", s.ID)
	if id == s.ID {
		h.setCookie(w, r, "", -1)
		http.Redirect(w, r, "/admin/login?out=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/sessions?ended=1", http.StatusSeeOther)
}
