package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// The onboarding API: a vendor connects its customers (tenants) to their
// ATSs through Kombo Connect, and reconnects those whose credentials broke.

// kombo returns the Kombo client, or an EUNAVAILABLE error that says why
// there is none.
func (s *Server) kombo() (*kombo.Client, error) {
	if s.cfg.Kombo == nil {
		return nil, orders.Errorf(orders.EUNAVAILABLE, "KOMBO_API_KEY is not set: assessgate cannot call Kombo")
	}
	return s.cfg.Kombo, nil
}

// komboError turns what went wrong calling Kombo for what into the error
// the API answers: 400 for input Kombo's client refuses before sending it,
// 422 when Kombo refuses the request, 503 at Kombo's rate limit, 502 when
// Kombo refuses assessgate's key, fails or cannot be reached. Kombo's
// message and log link are kept; they help support.
func komboError(what string, err error) error {
	var verr *kombo.ValidationError
	if errors.As(err, &verr) {
		return orders.Errorf(orders.EINVALID, "%s", verr.Error())
	}
	var kerr *kombo.Error
	if !errors.As(err, &kerr) {
		return orders.Errorf(orders.EBADGATEWAY, "Kombo could not be reached to %s: %v", what, err)
	}
	switch {
	case kerr.StatusCode == http.StatusUnauthorized || kerr.StatusCode == http.StatusForbidden:
		return orders.Errorf(orders.EBADGATEWAY, "Kombo refused assessgate's API key (KOMBO_API_KEY) to %s: %v", what, kerr)
	case kerr.StatusCode == http.StatusTooManyRequests:
		return orders.Errorf(orders.EUNAVAILABLE, "Kombo's rate limit was reached to %s; try again later: %v", what, kerr)
	case kerr.StatusCode >= 400 && kerr.StatusCode < 500:
		return orders.Errorf(orders.EUNPROCESSABLE, "Kombo refused to %s: %v", what, kerr)
	}
	return orders.Errorf(orders.EBADGATEWAY, "Kombo failed to %s: %v", what, kerr)
}

// connectLinkRequest is the body of POST /api/v1/connect/links.
type connectLinkRequest struct {
	TenantID         string `json:"tenant_id"`
	OrganizationName string `json:"organization_name"`
	Email            string `json:"email"`
	Tool             string `json:"tool"`
	Language         string `json:"language"`
	LinkType         string `json:"link_type"`
}

// handleConnectLink answers POST /api/v1/connect/links: a Kombo Connect
// link through which the tenant's admin connects its ATS, as an ASSESSMENT
// integration that Kombo then reports with the tenant as end_user.origin_id.
// An EMBEDDED link (the default; valid an hour) is for the vendor's
// frontend, a MAGIC_LINK (valid a year) to send out.
func (s *Server) handleConnectLink(w http.ResponseWriter, r *http.Request) {
	var body connectLinkRequest
	if err := decodeJSON(w, r, 1<<16, &body); err != nil {
		s.error(w, r, err)
		return
	}
	body.LinkType = strings.ToUpper(body.LinkType)
	for _, f := range []struct{ name, value string }{{"tenant_id", body.TenantID}, {"organization_name", body.OrganizationName}, {"email", body.Email}} {
		if strings.TrimSpace(f.value) == "" {
			s.error(w, r, orders.Errorf(orders.EINVALID, "%s: is required", f.name))
			return
		}
	}
	req := &kombo.ConnectLinkRequest{
		EndUserEmail: body.Email, EndUserOrganizationName: body.OrganizationName, EndUserOriginID: body.TenantID,
		IntegrationTool: body.Tool, Language: body.Language, LinkType: body.LinkType,
	}
	if err := req.Validate(); err != nil {
		// Name the fields as this API calls them.
		msg := strings.NewReplacer("end_user_email", "email", "end_user_organization_name", "organization_name").Replace(err.Error())
		s.error(w, r, orders.Errorf(orders.EINVALID, "%s", msg))
		return
	}
	c, err := s.kombo()
	if err != nil {
		s.error(w, r, err)
		return
	}
	link, err := c.CreateConnectLink(r.Context(), req)
	if err != nil {
		s.error(w, r, komboError("create a Connect link", err))
		return
	}
	if body.LinkType == "" {
		body.LinkType = kombo.LinkTypeEmbedded
	}
	s.logger.Info("connect link created", "tenant_id", body.TenantID, "link_type", body.LinkType)
	writeJSON(w, http.StatusOK, map[string]any{"link": link, "link_type": body.LinkType, "tenant_id": body.TenantID})
}

// handleConnectToken answers POST /api/v1/connect/tokens: it completes the
// embedded flow. The token the vendor's frontend got from Kombo Connect is
// exchanged with Kombo for the integration it created, which is stored with
// its tenant; its tenant's packages are pushed at once. It answers 201 with
// the integration.
func (s *Server) handleConnectToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(w, r, 1<<16, &body); err != nil {
		s.error(w, r, err)
		return
	}
	if strings.TrimSpace(body.Token) == "" {
		s.error(w, r, orders.Errorf(orders.EINVALID, "token: is required"))
		return
	}
	c, err := s.kombo()
	if err != nil {
		s.error(w, r, err)
		return
	}
	got, err := c.IntegrationByToken(r.Context(), body.Token)
	if err != nil {
		s.error(w, r, komboError("exchange the Connect token (it may have expired; Connect again)", err))
		return
	}
	in := &orders.Integration{
		ID: got.ID, Tool: got.Tool, Category: kombo.CategoryAssessment, OrganizationName: got.EndUserOrganizationName,
		OriginID: got.EndUserOriginID, CreatorEmail: got.EndUserEmail, State: kombo.IntegrationStateActive, SetupStatus: got.SetupStatus,
	}
	if err := s.store.ConnectIntegration(r.Context(), in); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.Info("integration connected", "integration_id", got.ID, "tenant_id", deref(got.EndUserOriginID), "setup_status", got.SetupStatus)
	s.writeIntegration(w, r, http.StatusCreated, got.ID)
}

// handleGetIntegration answers GET /api/v1/integrations/{id}.
func (s *Server) handleGetIntegration(w http.ResponseWriter, r *http.Request) {
	s.writeIntegration(w, r, http.StatusOK, r.PathValue("id"))
}

func (s *Server) writeIntegration(w http.ResponseWriter, r *http.Request, status int, id string) {
	list, err := s.integrations(r.Context(), store.IntegrationFilter{ID: &id})
	if err == nil && len(list) == 0 {
		err = orders.Errorf(orders.ENOTFOUND, "integration %q not found", id)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, status, list[0])
}

// handleRelink answers POST /api/v1/integrations/{id}/relink (body
// optional: language, link_type) with a link through which the customer
// reconnects the integration, for one whose credentials became INVALID.
func (s *Server) handleRelink(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Language string `json:"language"`
		LinkType string `json:"link_type"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, 1<<16, &body); err != nil {
			s.error(w, r, err)
			return
		}
	}
	id := r.PathValue("id")
	if _, err := s.store.FindIntegrationByID(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.kombo()
	if err != nil {
		s.error(w, r, err)
		return
	}
	link, err := c.Relink(r.Context(), id, kombo.RelinkRequest{Language: body.Language, LinkType: strings.ToUpper(body.LinkType)})
	if err != nil {
		s.error(w, r, komboError("create a reconnection link", err))
		return
	}
	s.logger.Info("relink link created", "integration_id", id)
	writeJSON(w, http.StatusOK, map[string]any{"link": link, "integration_id": id})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
