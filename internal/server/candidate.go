package server

import (
	"fmt"
	"net/http"

	"github.com/assessgate/assessgate/internal/orders"
)

// handleCandidateLink answers GET /a/{token}, the link in a candidate's
// e-mail. The first GET of any of an order's links starts the order; then it
// redirects to the vendor's assessment (ASSESSGATE_ASSESSMENT_URL filled in).
// An unknown token gets a 404 page, an expired, cancelled or completed
// order a 410 page: never the vendor's link. HEAD, which mail scanners send,
// answers the same but records nothing.
//
// The token is in the path, so this handler logs order ids only and never
// the path.
func (s *Server) handleCandidateLink(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	token := r.PathValue("token")
	if len(token) > 128 {
		s.candidatePage(w, http.StatusNotFound, browserLanguage(r), pageUnknown)
		return
	}
	// With the notice on, the first view shows it and starts nothing; its
	// button comes back with ?continue=1.
	notice := s.cfg.CandidateNotice != nil && r.URL.Query().Get("continue") == ""
	open, err := s.store.OpenLink(r.Context(), HashToken(token), r.Method == http.MethodGet && !notice)
	switch {
	case orders.ErrorCode(err) == orders.ENOTFOUND:
		s.logger.Info("candidate link unknown")
		s.candidatePage(w, http.StatusNotFound, browserLanguage(r), pageUnknown)
		return
	case err != nil:
		s.logger.Error("candidate link failed", "err", err)
		s.candidatePage(w, http.StatusServiceUnavailable, browserLanguage(r), pageUnavailable)
		return
	}
	o := open.Order
	log := s.logger.With("order_id", o.ID, "state", string(o.State))
	ts, err := s.store.TenantSettingsOf(r.Context(), o)
	if err != nil {
		log.Warn("tenant settings not read; candidate page in the defaults", "err", err)
	}
	lang := ts.LanguageOf(o)
	switch {
	case open.Expired:
		log.Info("candidate link expired")
		s.candidatePage(w, http.StatusGone, lang, pageExpired)
	case o.State == orders.StateCancelled:
		log.Info("candidate link of a cancelled order")
		s.candidatePage(w, http.StatusGone, lang, pageCancelled)
	case o.State == orders.StateCompleted:
		log.Info("candidate link of a completed order")
		s.candidatePage(w, http.StatusGone, lang, pageCompleted)
	case notice:
		log.Info("candidate notice shown")
		s.noticePage(w, r, lang, ts, o)
	default:
		log.Info("candidate link opened", "first", open.Started)
		http.Redirect(w, r, s.assessmentURL(o, token), http.StatusFound)
	}
}

// handleInvite answers POST /api/v1/orders/{id}/invite: the invitation is
// sent again, with a new link and a new expiry, within seconds. The body,
// optional, may name the language of the invitation and of what follows
// it: {"language": "de"} (en, de, fr, es or it; 400 otherwise). 202 when it
// is queued, 404 for an unknown order, 409 for a final one or when
// assessgate does not e-mail invitations.
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Language string `json:"language"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, 4<<10, &body); err != nil {
			s.error(w, r, err)
			return
		}
		if err := orders.CheckLanguage("language", body.Language); err != nil {
			s.error(w, r, err)
			return
		}
	}
	o, err := s.store.RequestInviteIn(r.Context(), r.PathValue("id"), body.Language)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.Info("invitation requested", "order_id", o.ID, "language", body.Language)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "queued", "order_id": o.ID})
}

// Notice is the notice a candidate sees before the assessment, when it is
// on (ASSESSGATE_CANDIDATE_NOTICE): who processes their data, and the
// vendor's privacy policy.
type Notice struct {
	Processor  string // the vendor's name
	PrivacyURL string // the vendor's privacy policy
}

// noticePage writes the notice before o's assessment, in lang: the hiring
// company (ts's display name, or the integration's organisation) has its
// assessment run by the vendor, which processes the candidate's data.
func (s *Server) noticePage(w http.ResponseWriter, r *http.Request, lang string, ts *orders.TenantSettings, o *orders.Order) {
	var organization string
	if integ, err := s.store.FindIntegrationByID(r.Context(), o.IntegrationID); err == nil {
		organization = integ.OrganizationName
	}
	texts := pageTexts[lang]
	company, processing := ts.Company(organization), texts.notice.Processing
	if company == "" {
		processing = texts.notice.Unnamed
	}
	n := s.cfg.CandidateNotice
	s.writePage(w, http.StatusOK, pageView{Lang: lang, Title: texts.pages[pageNotice].Title,
		Message:    fmt.Sprintf(processing, company, n.Processor),
		Privacy:    fmt.Sprintf(texts.notice.Privacy, n.Processor),
		PrivacyURL: n.PrivacyURL, Continue: texts.notice.Continue, ContinueURL: "?continue=1"})
}
