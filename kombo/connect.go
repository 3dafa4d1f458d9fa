package kombo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The link types of Kombo Connect: EMBEDDED links open Kombo's connection
// flow inside the vendor's app and are valid for an hour; MAGIC_LINK links
// are sent to the customer and are valid for a year.
const (
	LinkTypeEmbedded  = "EMBEDDED"
	LinkTypeMagicLink = "MAGIC_LINK"
)

// CategoryAssessment is the integration category of assessment vendors.
const CategoryAssessment = "ASSESSMENT"

// The setup statuses of an integration: INCOMPLETE while the customer has
// not finished the connection flow's steps, FINAL_SYNC_PENDING while
// Kombo's first sync runs, COMPLETED when it is ready to use.
const (
	SetupIncomplete       = "INCOMPLETE"
	SetupFinalSyncPending = "FINAL_SYNC_PENDING"
	SetupCompleted        = "COMPLETED"
)

// connectLanguages are the languages of Kombo Connect's UI.
var connectLanguages = []string{"en", "de", "fr", "it", "es"}

// ConnectLinkRequest asks for a Kombo Connect link, through which a
// customer connects its ATS. EndUserOriginID is the vendor's own id of the
// customer (its tenant); Kombo returns it as end_user.origin_id on the
// integration and in every integration webhook. IntegrationTool, if set,
// preselects a tool (such as "greenhouse" or "sandbox"); Language is one of
// en, de, fr, it, es; LinkType is LinkTypeEmbedded (Kombo's default) or
// LinkTypeMagicLink. The integration category is always ASSESSMENT.
type ConnectLinkRequest struct {
	EndUserEmail            string
	EndUserOrganizationName string
	EndUserOriginID         string
	IntegrationTool         string
	Language                string
	LinkType                string
}

// connectLinkBody is the wire form of ConnectLinkRequest.
type connectLinkBody struct {
	EndUserEmail            string  `json:"end_user_email"`
	EndUserOrganizationName string  `json:"end_user_organization_name"`
	EndUserOriginID         *string `json:"end_user_origin_id,omitempty"`
	IntegrationCategory     string  `json:"integration_category"`
	IntegrationTool         *string `json:"integration_tool,omitempty"`
	Language                *string `json:"language,omitempty"`
	LinkType                *string `json:"link_type,omitempty"`
}

// Validate checks r before it is sent: an e-mail address and an
// organisation name, and a known language and link type if set. It returns a
// *ValidationError naming the first wrong field by its wire name.
func (r *ConnectLinkRequest) Validate() error {
	if err := firstMissing("", "end_user_email", r.EndUserEmail, "end_user_organization_name", r.EndUserOrganizationName); err != nil {
		return err
	}
	if at := strings.LastIndexByte(r.EndUserEmail, '@'); at < 1 || at == len(r.EndUserEmail)-1 || strings.ContainsAny(r.EndUserEmail, " \t\r\n<>") {
		return &ValidationError{"end_user_email", fmt.Sprintf("%q is not an e-mail address", r.EndUserEmail)}
	}
	return validateLinkOptions(r.Language, r.LinkType)
}

func validateLinkOptions(language, linkType string) error {
	if language != "" && !oneOf(language, connectLanguages...) {
		return &ValidationError{"language", fmt.Sprintf("%q: want one of %s", language, strings.Join(connectLanguages, ", "))}
	}
	if linkType != "" && !oneOf(linkType, LinkTypeEmbedded, LinkTypeMagicLink) {
		return &ValidationError{"link_type", fmt.Sprintf("%q: want %s or %s", linkType, LinkTypeEmbedded, LinkTypeMagicLink)}
	}
	return nil
}

// nonEmpty is nil for "", else a pointer to s.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateConnectLink returns a Kombo Connect link (POST /connect/create-link)
// for a customer to connect its ATS as an ASSESSMENT integration. Kombo does
// not de-duplicate integrations created this way: to let a customer renew its
// credentials, use Relink. r is checked with Validate first.
func (c *Client) CreateConnectLink(ctx context.Context, r *ConnectLinkRequest) (string, error) {
	if err := r.Validate(); err != nil {
		return "", fmt.Errorf("kombo: CreateConnectLink: %w", err)
	}
	body := connectLinkBody{
		EndUserEmail:            r.EndUserEmail,
		EndUserOrganizationName: r.EndUserOrganizationName,
		EndUserOriginID:         nonEmpty(r.EndUserOriginID),
		IntegrationCategory:     CategoryAssessment,
		IntegrationTool:         nonEmpty(r.IntegrationTool),
		Language:                nonEmpty(r.Language),
		LinkType:                nonEmpty(r.LinkType),
	}
	return c.link(ctx, "/connect/create-link", body)
}

// RelinkRequest asks for a reconnection link. Both fields are optional, as
// in ConnectLinkRequest.
type RelinkRequest struct {
	Language string
	LinkType string
}

// Relink returns a link through which the customer reconnects an
// integration (POST /integrations/{id}/relink), for one whose credentials
// became INVALID.
func (c *Client) Relink(ctx context.Context, integrationID string, r RelinkRequest) (string, error) {
	if integrationID == "" {
		return "", errors.New("kombo: Relink: empty integration id")
	}
	if err := validateLinkOptions(r.Language, r.LinkType); err != nil {
		return "", fmt.Errorf("kombo: Relink: %w", err)
	}
	body := struct {
		Language *string `json:"language,omitempty"`
		LinkType *string `json:"link_type,omitempty"`
	}{nonEmpty(r.Language), nonEmpty(r.LinkType)}
	return c.link(ctx, "/integrations/"+url.PathEscape(integrationID)+"/relink", body)
}

// link posts body to path and returns the data.link of the answer.
func (c *Client) link(ctx context.Context, path string, body any) (string, error) {
	var resp struct {
		Data struct {
			Link string `json:"link"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, path, "", nil, body, &resp); err != nil {
		return "", err
	}
	if resp.Data.Link == "" {
		return "", fmt.Errorf("kombo: POST %s: the answer has no link", path)
	}
	return resp.Data.Link, nil
}

// ConnectedIntegration is what GET /connect/integration-by-token/{token}
// says of the integration a customer just created in the embedded flow.
// EndUserOriginID is the tenant given to CreateConnectLink.
type ConnectedIntegration struct {
	ID                      string  `json:"id"`
	Tool                    string  `json:"tool"`
	EndUserOriginID         *string `json:"end_user_origin_id"`
	EndUserOrganizationName string  `json:"end_user_organization_name"`
	EndUserEmail            *string `json:"end_user_email"`
	SetupStatus             string  `json:"setup_status"`
}

// IntegrationByToken exchanges the token the embedded Kombo Connect flow
// returned for the integration it created. Only the token, never an
// integration id from the browser, should be trusted to name the
// integration.
func (c *Client) IntegrationByToken(ctx context.Context, token string) (*ConnectedIntegration, error) {
	if token == "" {
		return nil, fmt.Errorf("kombo: IntegrationByToken: %w", required("token"))
	}
	var resp struct {
		Data ConnectedIntegration `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/connect/integration-by-token/"+url.PathEscape(token), "", nil, nil, &resp); err != nil {
		return nil, err
	}
	if resp.Data.ID == "" {
		return nil, errors.New("kombo: GET /connect/integration-by-token: the answer has no integration id")
	}
	return &resp.Data, nil
}
