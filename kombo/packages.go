package kombo

import "fmt"

// PackageType is the kind of test or check a package is.
type PackageType string

// The package types Kombo accepts.
const (
	PackageBehavioral      PackageType = "BEHAVIORAL"
	PackageVideoInterview  PackageType = "VIDEO_INTERVIEW"
	PackageSkillsTest      PackageType = "SKILLS_TEST"
	PackageBackgroundCheck PackageType = "BACKGROUND_CHECK"
	PackageReferenceCheck  PackageType = "REFERENCE_CHECK"
)

// Valid reports whether t is one of the package types Kombo accepts.
func (t PackageType) Valid() bool {
	switch t {
	case PackageBehavioral, PackageVideoInterview, PackageSkillsTest, PackageBackgroundCheck, PackageReferenceCheck:
		return true
	}
	return false
}

// Package is a test or check a vendor offers to a customer. ID is the
// vendor's stable id; orders name it as their package_id. Name is shown to
// recruiters; some ATSs also show Description, which Kombo requires but may be
// empty.
//
// In GET /assessment/packages, Type may be null; it then decodes as "".
// UpdatedAt is Kombo's, only in GET /assessment/packages (null or absent
// otherwise); SetPackages never sends it.
type Package struct {
	ID          string      `json:"id"`
	Type        PackageType `json:"type"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	UpdatedAt   *string     `json:"updated_at,omitempty"`
}

// PackageList is the body of PUT /assessment/packages: the complete list of
// packages of an integration. Packages left out are deleted; an empty, non-nil
// list removes them all.
type PackageList struct {
	Packages []Package `json:"packages"`
}

// Validate checks l before it is sent: Packages is not nil (which would encode
// as null), and every package has a unique, non-empty id, a known type and a
// non-empty name. It returns a *ValidationError naming the first wrong field,
// such as "packages[3].type".
func (l PackageList) Validate() error {
	if l.Packages == nil {
		return required("packages")
	}
	seen := make(map[string]int, len(l.Packages))
	for i, p := range l.Packages {
		prefix := fmt.Sprintf("packages[%d].", i)
		if err := firstMissing(prefix, "id", p.ID, "type", string(p.Type), "name", p.Name); err != nil {
			return err
		}
		if j, ok := seen[p.ID]; ok {
			return &ValidationError{prefix + "id", fmt.Sprintf("%q is also the id of packages[%d]", p.ID, j)}
		}
		seen[p.ID] = i
		if !p.Type.Valid() {
			return &ValidationError{prefix + "type", fmt.Sprintf("unknown type %q", p.Type)}
		}
	}
	return nil
}
