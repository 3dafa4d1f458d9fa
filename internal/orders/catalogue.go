package orders

import (
	"sync"

	"github.com/assessgate/assessgate/kombo"
)

// Catalogue is the vendor's package list, as pushed to every integration.
// A nil or empty catalogue accepts orders for any package. It is safe for
// concurrent use.
type Catalogue struct {
	mu       sync.RWMutex
	packages []kombo.Package
	ids      map[string]bool
}

// NewCatalogue returns a catalogue of pkgs, which must be valid.
func NewCatalogue(pkgs []kombo.Package) *Catalogue {
	c := &Catalogue{}
	c.Set(pkgs)
	return c
}

// Set replaces the packages.
func (c *Catalogue) Set(pkgs []kombo.Package) {
	ids := make(map[string]bool, len(pkgs))
	for _, p := range pkgs {
		ids[p.ID] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.packages = append([]kombo.Package(nil), pkgs...)
	c.ids = ids
}

// Packages returns a copy of the packages.
func (c *Catalogue) Packages() []kombo.Package {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]kombo.Package(nil), c.packages...)
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

// Accepts reports whether an order for packageID is taken: the package is
// in the catalogue, or no catalogue is configured.
func (c *Catalogue) Accepts(packageID string) bool {
	if c == nil {
		return true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.packages) == 0 || c.ids[packageID]
}

// Find returns the package with id, if the catalogue has it.
func (c *Catalogue) Find(id string) (kombo.Package, bool) {
	if c == nil {
		return kombo.Package{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, p := range c.packages {
		if p.ID == id {
			return p, true
		}
	}
	return kombo.Package{}, false
}
