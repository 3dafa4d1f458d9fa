package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/assessgate/assessgate/internal/jobs"
	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/internal/store"
	"github.com/assessgate/assessgate/kombo"
)

// handleGetPackages answers GET /api/v1/packages with the catalogue.
func (s *Server) handleGetPackages(w http.ResponseWriter, r *http.Request) {
	pkgs := s.cfg.Catalogue.Packages()
	if pkgs == nil {
		pkgs = []orders.Package{}
	}
	writeJSON(w, http.StatusOK, packageList{Packages: pkgs})
}

// packageList is the catalogue as the API shows and takes it: Kombo's
// package list, each package with the tenants that may order it.
type packageList struct {
	Packages []orders.Package `json:"packages"`
}

// handlePutPackages answers PUT /api/v1/packages: it replaces the catalogue
// and, when it changed, pushes it to every active integration (each its
// tenant's packages).
func (s *Server) handlePutPackages(w http.ResponseWriter, r *http.Request) {
	var list packageList
	if err := decodeJSON(w, r, 1<<20, &list); err != nil {
		s.error(w, r, err)
		return
	}
	if list.Packages == nil {
		s.error(w, r, orders.Errorf(orders.EINVALID, "packages: is required"))
		return
	}
	if len(list.Packages) == 0 {
		// An empty catalogue would mean "every package accepted".
		s.error(w, r, orders.Errorf(orders.EINVALID, "packages: is empty; a catalogue needs at least one package"))
		return
	}
	if err := orders.ValidatePackages(list.Packages); err != nil {
		s.error(w, r, orders.Errorf(orders.EINVALID, "invalid package list: %v", err))
		return
	}
	changed, pushes, err := s.store.SetCatalogue(r.Context(), list.Packages)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.cfg.Catalogue.Set(list.Packages)
	s.logger.Info("package catalogue replaced", "packages", len(list.Packages), "changed", changed, "pushes", pushes)
	writeJSON(w, http.StatusAccepted, map[string]any{"packages": list.Packages, "changed": changed, "pushes": pushes})
}

type integrationJSON struct {
	ID               string   `json:"id"`
	TenantID         *string  `json:"tenant_id"`
	Tool             string   `json:"tool"`
	Category         string   `json:"category"`
	OrganizationName string   `json:"organization_name"`
	OriginID         *string  `json:"origin_id"`
	State            string   `json:"state"`
	SetupStatus      string   `json:"setup_status"`
	QAStatus         string   `json:"qa_status"`
	OpenOrders       int      `json:"open_orders"`
	LastOrderAt      *string  `json:"last_order_at"`
	DeadLetters      int      `json:"dead_letters"`
	ParkedWork       int      `json:"parked_work"`
	RelinkURL        *string  `json:"relink_url"`
	CreatedAt        string   `json:"created_at"`
	UpdatedAt        string   `json:"updated_at"`
	DeletedAt        *string  `json:"deleted_at"`
	PackagesPushedAt *string  `json:"packages_pushed_at"`
	PackagesCurrent  bool     `json:"packages_current"`
	PushWarnings     []string `json:"push_warnings"`
	PushError        string   `json:"push_error,omitempty"`
}

// handleListIntegrations answers GET /api/v1/integrations: the known
// integrations, grouped by tenant, with the filters tenant_id and state;
// each with its state, setup status, open orders, last order, dead letters,
// parked work and its last package push.
func (s *Server) handleListIntegrations(w http.ResponseWriter, r *http.Request) {
	var f store.IntegrationFilter
	q := r.URL.Query()
	if v := q.Get("tenant_id"); v != "" {
		f.TenantID = &v
	}
	if v := q.Get("state"); v != "" {
		v = strings.ToUpper(v)
		if !slices.Contains(integrationStates, v) {
			s.error(w, r, orders.Errorf(orders.EINVALID, "state %q: want one of %s", q.Get("state"), strings.Join(integrationStates, ", ")))
			return
		}
		f.State = &v
	}
	data, err := s.integrations(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// integrationStates are the states an integration can be in.
var integrationStates = []string{kombo.IntegrationStateActive, kombo.IntegrationStateInvalid, kombo.IntegrationStateInactive, orders.IntegrationDeleted}

// integrations returns the integrations f selects as the API shows them.
func (s *Server) integrations(ctx context.Context, f store.IntegrationFilter) ([]integrationJSON, error) {
	list, err := s.store.ListIntegrations(ctx, f)
	if err != nil {
		return nil, err
	}
	_, hash, err := s.store.FindCatalogue(ctx)
	if err != nil {
		return nil, err
	}
	deadLetters, err := jobs.DeadLettersByIntegration(ctx, s.store)
	if err != nil {
		return nil, err
	}
	parked, err := s.store.ParkedCountsByIntegration(ctx)
	if err != nil {
		return nil, err
	}
	data := make([]integrationJSON, 0, len(list))
	for _, i := range list {
		warnings := i.PushWarnings
		if warnings == nil {
			warnings = []string{}
		}
		data = append(data, integrationJSON{
			ID: i.ID, TenantID: i.OriginID, Tool: i.Tool, Category: i.Category, OrganizationName: i.OrganizationName, OriginID: i.OriginID,
			State: i.State, SetupStatus: i.SetupStatus, QAStatus: i.QAStatus,
			OpenOrders: i.OpenOrders, LastOrderAt: orders.FormatTimePtr(i.LastOrderAt), DeadLetters: deadLetters[i.ID], ParkedWork: parked[i.ID], RelinkURL: relinkURL(i),
			CreatedAt: orders.FormatTime(i.CreatedAt), UpdatedAt: orders.FormatTime(i.UpdatedAt), DeletedAt: orders.FormatTimePtr(i.DeletedAt),
			PackagesPushedAt: orders.FormatTimePtr(i.PackagesPushedAt), PackagesCurrent: hash != "" && i.PackagesHash == hash,
			PushWarnings: warnings, PushError: i.PushError,
		})
	}
	return data, nil
}

// relinkURL is the integration's reconnection link while it is INVALID.
func relinkURL(i *orders.Integration) *string {
	if i.State != kombo.IntegrationStateInvalid || i.RelinkURL == "" {
		return nil
	}
	return &i.RelinkURL
}
