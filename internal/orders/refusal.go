package orders

import (
	"errors"
	"strings"

	"github.com/assessgate/assessgate/kombo"
)

// RefusalReason returns what a recruiter reads when an order is refused
// because its content is wrong (err holds a *kombo.ValidationError): what
// is wrong, in words, with the field's name, and what to do. It names no
// value that may be personal data.
func RefusalReason(err error) string {
	var v *kombo.ValidationError
	if !errors.As(err, &v) {
		return "The order cannot be taken: " + err.Error() + "."
	}
	field := strings.TrimPrefix(v.Field, "data.")
	what := "The order's field " + field
	switch {
	case field == "candidate.email":
		what = "The candidate's e-mail address"
	case field == "status":
		what = "The order's status"
	case field == "package_id":
		what = "The assessment package"
	case strings.HasPrefix(field, "candidate."):
		what = "The candidate's " + strings.ReplaceAll(strings.TrimPrefix(field, "candidate."), "_", " ")
	case strings.HasPrefix(field, "job."):
		what = "The job's " + strings.ReplaceAll(strings.TrimPrefix(field, "job."), "_", " ")
	}
	verb := "is not valid"
	if v.Problem == "is required" {
		verb = "is missing"
	}
	return what + " " + verb + " (" + v.Error() + "). Please correct it in the ATS and send the assessment again."
}

// PackageRefusal is the reason given for an order of a package that is not
// in the catalogue.
func PackageRefusal(packageID string) string {
	return "The assessment package '" + packageID + "' is not offered by this vendor. Please choose another package."
}

// TenantRefusal is the message for the recruiter when an order's package
// is offered to some tenants only, and not to the order's.
func TenantRefusal(packageID string) string {
	return "The assessment package '" + packageID + "' is not part of your organisation's plan with this vendor. " +
		"Please choose another package, or ask the vendor to add it to your plan."
}
