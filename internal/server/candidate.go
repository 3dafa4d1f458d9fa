package server

import (
	"html/template"
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
		s.candidatePage(w, http.StatusNotFound, pageUnknown)
		return
	}
	open, err := s.store.OpenLink(r.Context(), HashToken(token), r.Method == http.MethodGet)
	switch {
	case orders.ErrorCode(err) == orders.ENOTFOUND:
		s.logger.Info("candidate link unknown")
		s.candidatePage(w, http.StatusNotFound, pageUnknown)
		return
	case err != nil:
		s.logger.Error("candidate link failed", "err", err)
		s.candidatePage(w, http.StatusServiceUnavailable, pageUnavailable)
		return
	}
	o := open.Order
	log := s.logger.With("order_id", o.ID, "state", string(o.State))
	switch {
	case open.Expired:
		log.Info("candidate link expired")
		s.candidatePage(w, http.StatusGone, pageExpired)
	case o.State == orders.StateCancelled:
		log.Info("candidate link of a cancelled order")
		s.candidatePage(w, http.StatusGone, pageCancelled)
	case o.State == orders.StateCompleted:
		log.Info("candidate link of a completed order")
		s.candidatePage(w, http.StatusGone, pageCompleted)
	default:
		log.Info("candidate link opened", "first", open.Started)
		http.Redirect(w, r, s.assessmentURL(o, token), http.StatusFound)
	}
}

// handleInvite answers POST /api/v1/orders/{id}/invite: the invitation is
// sent again, with a new link and a new expiry, within seconds. 202 when it
// is queued, 404 for an unknown order, 409 for a final one or when
// assessgate does not e-mail invitations.
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.RequestInvite(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.Info("invitation requested", "order_id", o.ID)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "queued", "order_id": o.ID})
}

// page is what a candidate sees instead of the assessment.
type page struct {
	Title   string
	Message string
}

var (
	pageUnknown = page{"This link does not work",
		"We could not find an assessment for this link. Please check that you copied the whole link from your e-mail, or ask the company that invited you for a new one."}
	pageExpired = page{"This invitation has expired",
		"The time to take this assessment has run out. If you would still like to take it, please contact the company that invited you."}
	pageCancelled = page{"This assessment was cancelled",
		"The company that invited you no longer needs this assessment. There is nothing more for you to do."}
	pageCompleted = page{"You have completed this assessment",
		"Your results have been recorded. Thank you! There is nothing more for you to do."}
	pageUnavailable = page{"Please try again in a moment",
		"Something went wrong on our side. Please open the link again in a few minutes."}
)

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; padding: 0 1em; line-height: 1.5; color: #222;">
<h1 style="font-size: 1.4em;">{{.Title}}</h1>
<p>{{.Message}}</p>
</body>
</html>
`))

func (s *Server) candidatePage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil {
		s.logger.Warn("candidate page not written", "err", err)
	}
}
