package server

import (
	"net/http"

	"github.com/assessgate/assessgate/internal/orders"
	"github.com/assessgate/assessgate/kombo"
)

// handleGetPackages answers GET /api/v1/packages with the catalogue.
func (s *Server) handleGetPackages(w http.ResponseWriter, r *http.Request) {
	pkgs := s.cfg.Catalogue.Packages()
	if pkgs == nil {
		pkgs = []kombo.Package{}
	}
	writeJSON(w, http.StatusOK, kombo.PackageList{Packages: pkgs})
}

// handlePutPackages answers PUT /api/v1/packages: it replaces the catalogue
// and, when it changed, pushes it to every active integration.
func (s *Server) handlePutPackages(w http.ResponseWriter, r *http.Request) {
	var list kombo.PackageList
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
	if err := list.Validate(); err != nil {
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
	Tool             string   `json:"tool"`
	Category         string   `json:"category"`
	OrganizationName string   `json:"organization_name"`
	OriginID         *string  `json:"origin_id"`
	State            string   `json:"state"`
	SetupStatus      string   `json:"setup_status"`
	QAStatus         string   `json:"qa_status"`
	CreatedAt        string   `json:"created_at"`
	UpdatedAt        string   `json:"updated_at"`
	DeletedAt        *string  `json:"deleted_at"`
	PackagesPushedAt *string  `json:"packages_pushed_at"`
	PackagesCurrent  bool     `json:"packages_current"`
	PushWarnings     []string `json:"push_warnings"`
	PushError        string   `json:"push_error,omitempty"`
}

// handleListIntegrations answers GET /api/v1/integrations: every known
// integration with its state and its last package push.
func (s *Server) handleListIntegrations(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.FindIntegrations(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, hash, err := s.store.FindCatalogue(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	data := make([]integrationJSON, 0, len(list))
	for _, i := range list {
		warnings := i.PushWarnings
		if warnings == nil {
			warnings = []string{}
		}
		data = append(data, integrationJSON{
			ID: i.ID, Tool: i.Tool, Category: i.Category, OrganizationName: i.OrganizationName, OriginID: i.OriginID,
			State: i.State, SetupStatus: i.SetupStatus, QAStatus: i.QAStatus,
			CreatedAt: orders.FormatTime(i.CreatedAt), UpdatedAt: orders.FormatTime(i.UpdatedAt), DeletedAt: orders.FormatTimePtr(i.DeletedAt),
			PackagesPushedAt: orders.FormatTimePtr(i.PackagesPushedAt), PackagesCurrent: hash != "" && i.PackagesHash == hash,
			PushWarnings: warnings, PushError: i.PushError,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}
