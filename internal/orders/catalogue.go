package orders

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/assessgate/assessgate/kombo"
)

// Package is an entry of the vendor's catalogue: Kombo's package, and the
// tenants that may order it (the origin ids of their integrations). Nil or
// empty Tenants offers it to every tenant. Tenants is assessgate's alone:
// Kombo is sent the package only (KomboPackages).
type Package struct {
	kombo.Package
	Tenants []string `json:"tenants,omitempty"`
}

// KomboPackages returns the packages as Kombo takes them, without tenants.
func KomboPackages(pkgs []Package) []kombo.Package {
	out := make([]kombo.Package, len(pkgs))
	for i, p := range pkgs {
		out[i] = p.Package
	}
	return out
}

// For returns the packages offered to tenant: those without tenants, and
// those that name it. An integration without a tenant (nil) is offered only
// the packages open to every tenant.
func For(pkgs []Package, tenant *string) []Package {
	var out []Package
	for _, p := range pkgs {
		if p.OfferedTo(tenant) {
			out = append(out, p)
		}
	}
	return out
}

// OfferedTo reports whether tenant may order p.
func (p Package) OfferedTo(tenant *string) bool {
	return len(p.Tenants) == 0 || tenant != nil && slices.Contains(p.Tenants, *tenant)
}

// ValidatePackages checks a catalogue as Kombo's PackageList.Validate does,
// and that tenants, where given, are non-empty ids.
func ValidatePackages(pkgs []Package) error {
	if err := (kombo.PackageList{Packages: KomboPackages(pkgs)}).Validate(); err != nil {
		return err
	}
	for i, p := range pkgs {
		for j, t := range p.Tenants {
			if strings.TrimSpace(t) == "" {
				return fmt.Errorf("packages[%d].tenants[%d]: must be a tenant id, not empty", i, j)
			}
		}
	}
	return nil
}

// Catalogue is the vendor's package list, as pushed to every integration
// (each its tenant's part). A nil or empty catalogue accepts orders for any
// package. It is safe for concurrent use.
type Catalogue struct {
	mu       sync.RWMutex
	packages []Package
	byID     map[string]Package
}

// NewCatalogue returns a catalogue of pkgs, which must be valid.
func NewCatalogue(pkgs []Package) *Catalogue {
	c := &Catalogue{}
	c.Set(pkgs)
	return c
}

// Set replaces the packages.
func (c *Catalogue) Set(pkgs []Package) {
	byID := make(map[string]Package, len(pkgs))
	for _, p := range pkgs {
		byID[p.ID] = p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.packages = append([]Package(nil), pkgs...)
	c.byID = byID
}

// Packages returns a copy of the packages.
func (c *Catalogue) Packages() []Package {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]Package(nil), c.packages...)
}

// Configured reports whether any package is configured.
func (c *Catalogue) Configured() bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.packages) > 0
}

// Accepts reports whether an order for packageID is taken from some
// tenant: the package is in the catalogue, or no catalogue is configured.
// Whether the order's tenant may order it is Tenants'.
func (c *Catalogue) Accepts(packageID string) bool {
	if c == nil {
		return true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.byID[packageID]
	return len(c.packages) == 0 || ok
}

// Tenants returns the tenants that may order packageID, or nil when every
// tenant may.
func (c *Catalogue) Tenants(packageID string) []string {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byID[packageID].Tenants
}

// OfferedTo reports whether tenant (nil: an integration without one) may
// order packageID: the package names no tenants, or names tenant.
func (c *Catalogue) OfferedTo(packageID string, tenant *string) bool {
	tenants := c.Tenants(packageID)
	return len(tenants) == 0 || Package{Tenants: tenants}.OfferedTo(tenant)
}

// Find returns the package with id, if the catalogue has it.
func (c *Catalogue) Find(id string) (kombo.Package, bool) {
	if c == nil {
		return kombo.Package{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.byID[id]
	return p.Package, ok
}
