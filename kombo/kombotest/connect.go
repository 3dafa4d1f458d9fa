package kombotest

import (
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"

	"github.com/assessgate/assessgate/kombo"
)

// ConnectLink is a link the fake made for POST /connect/create-link or
// POST /integrations/{id}/relink, with what it was asked for. Relink links
// have IntegrationID set.
type ConnectLink struct {
	URL                     string
	Token                   string
	IntegrationID           string // relink only
	EndUserEmail            string
	EndUserOrganizationName string
	EndUserOriginID         *string
	IntegrationCategory     string
	IntegrationTool         *string
	Language                *string
	LinkType                string
}

// connected is an integration made by Connect, by its token.
type connected struct {
	data kombo.ConnectedIntegration
}

// Links returns the links the fake made, oldest first.
func (s *Server) Links() []ConnectLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.links)
}

// Connect plays the customer who follows a link made by POST
// /connect/create-link to its end: it creates an integration of tool (the
// link's preselected tool if tool is empty) for the link's end user, as GET
// /integrations/{id} then reports it, and returns the integration's id and
// the token that GET /connect/integration-by-token/{token} exchanges for it.
// It panics if the fake made no such link.
func (s *Server) Connect(link, tool string) (integrationID, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.links, func(l ConnectLink) bool { return l.URL == link && l.IntegrationID == "" })
	if i < 0 {
		panic("kombotest: Connect: no link " + link)
	}
	l := s.links[i]
	if tool == "" && l.IntegrationTool != nil {
		tool = *l.IntegrationTool
	}
	if tool == "" {
		tool = "sandbox"
	}
	integrationID = tool + ":" + NewID()
	in := s.integration(integrationID)
	in.info.Category = l.IntegrationCategory
	in.info.EndUser = kombo.EndUser{OrganizationName: l.EndUserOrganizationName, CreatorEmail: &l.EndUserEmail, OriginID: l.EndUserOriginID}
	token = NewID()
	s.tokens[token] = &connected{kombo.ConnectedIntegration{
		ID: integrationID, Tool: tool, EndUserOriginID: l.EndUserOriginID,
		EndUserOrganizationName: l.EndUserOrganizationName, EndUserEmail: &l.EndUserEmail,
		SetupStatus: in.info.SetupStatus,
	}}
	return integrationID, token
}

// SetIntegrationState changes the status and setup status of an integration
// as GET /integrations/{id} reports them; empty arguments leave them.
func (s *Server) SetIntegrationState(integrationID, status, setupStatus string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integration(integrationID)
	if status != "" {
		in.info.Status = status
	}
	if setupStatus != "" {
		in.info.SetupStatus = setupStatus
	}
}

// newLink records a link and returns its URL. s.mu must be held.
func (s *Server) newLink(l ConnectLink) string {
	l.Token = NewID()
	l.URL = "https://connect.kombo.dev/v1?token=" + url.QueryEscape(l.Token)
	s.links = append(s.links, l)
	return l.URL
}

// linkOptions checks the optional language and link type of a link request
// and returns the link type, EMBEDDED by default.
func linkOptions(w http.ResponseWriter, language *string, linkType string) (string, bool) {
	if language != nil && !slices.Contains([]string{"en", "de", "fr", "it", "es"}, *language) {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, fmt.Sprintf("Invalid request body: language %q is not supported.", *language))
		return "", false
	}
	switch linkType {
	case "":
		return kombo.LinkTypeEmbedded, true
	case kombo.LinkTypeEmbedded, kombo.LinkTypeMagicLink:
		return linkType, true
	}
	writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, fmt.Sprintf("Invalid request body: link_type %q is not supported.", linkType))
	return "", false
}

func (s *Server) createLink(w http.ResponseWriter, r *http.Request) {
	var body struct {
		EndUserEmail            string  `json:"end_user_email"`
		EndUserOrganizationName string  `json:"end_user_organization_name"`
		EndUserOriginID         *string `json:"end_user_origin_id"`
		IntegrationCategory     string  `json:"integration_category"`
		IntegrationTool         *string `json:"integration_tool"`
		Language                *string `json:"language"`
		LinkType                string  `json:"link_type"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if _, err := mail.ParseAddress(body.EndUserEmail); err != nil {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid request body: end_user_email must be an e-mail address.")
		return
	}
	if body.EndUserOrganizationName == "" {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid request body: end_user_organization_name is required.")
		return
	}
	if body.EndUserOriginID != nil && *body.EndUserOriginID == "" {
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, "Invalid request body: end_user_origin_id must not be empty.")
		return
	}
	switch body.IntegrationCategory {
	case "":
		body.IntegrationCategory = "HRIS" // Kombo's default
	case "HRIS", "ATS", kombo.CategoryAssessment, "LMS":
	default:
		writeError(w, http.StatusBadRequest, kombo.CodeInputInvalid, fmt.Sprintf("Invalid request body: integration_category %q is not supported.", body.IntegrationCategory))
		return
	}
	linkType, ok := linkOptions(w, body.Language, body.LinkType)
	if !ok {
		return
	}
	s.mu.Lock()
	link := s.newLink(ConnectLink{
		EndUserEmail: body.EndUserEmail, EndUserOrganizationName: body.EndUserOrganizationName,
		EndUserOriginID: body.EndUserOriginID, IntegrationCategory: body.IntegrationCategory,
		IntegrationTool: body.IntegrationTool, Language: body.Language, LinkType: linkType,
	})
	s.mu.Unlock()
	writeSuccess(w, map[string]string{"link": link}, false)
}

func (s *Server) integrationByToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.tokens[r.PathValue("token")]
	var data kombo.ConnectedIntegration
	if c != nil {
		data = c.data
		if in := s.integrations[data.ID]; in != nil {
			data.SetupStatus = in.info.SetupStatus
		}
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, kombo.CodeInputInvalid, "No integration was created with this token.")
		return
	}
	writeSuccess(w, data, false)
}

func (s *Server) relink(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Language *string `json:"language"`
		LinkType string  `json:"link_type"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	linkType, ok := linkOptions(w, body.Language, body.LinkType)
	if !ok {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	in := s.integrations[id]
	var link string
	if in != nil {
		link = s.newLink(ConnectLink{
			IntegrationID: id, EndUserOrganizationName: in.info.EndUser.OrganizationName,
			EndUserOriginID: in.info.EndUser.OriginID, IntegrationCategory: in.info.Category,
			IntegrationTool: &in.info.Tool.ID, Language: body.Language, LinkType: linkType,
		})
	}
	s.mu.Unlock()
	if in == nil {
		writeError(w, http.StatusNotFound, kombo.CodeIntegrationNotFound, fmt.Sprintf("Integration %s not found.", id))
		return
	}
	writeSuccess(w, map[string]string{"link": link}, false)
}
