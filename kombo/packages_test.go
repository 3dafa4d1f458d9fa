package kombo_test

import (
	"encoding/json"
	"testing"

	"github.com/assessgate/assessgate/kombo"
)

func TestPackageList_Validate(t *testing.T) {
	var example kombo.PackageList
	if err := json.Unmarshal(readFile(t, "request-put-assessment-packages.json"), &example); err != nil {
		t.Fatal(err)
	}
	if err := example.Validate(); err != nil {
		t.Errorf("Validate(example) = %v; want nil", err)
	}

	pkg := func(id string, typ kombo.PackageType, name string) kombo.Package {
		return kombo.Package{ID: id, Type: typ, Name: name, Description: "about " + id}
	}
	tests := []struct {
		name  string
		pkgs  []kombo.Package
		field string // "" if valid
	}{
		{"empty list", []kombo.Package{}, ""},
		{"every type", []kombo.Package{
			pkg("a", kombo.PackageBehavioral, "A"), pkg("b", kombo.PackageVideoInterview, "B"),
			pkg("c", kombo.PackageSkillsTest, "C"), pkg("d", kombo.PackageBackgroundCheck, "D"),
			pkg("e", kombo.PackageReferenceCheck, "E"),
		}, ""},
		{"empty description", []kombo.Package{{ID: "a", Type: kombo.PackageSkillsTest, Name: "A"}}, ""},
		{"nil list", nil, "packages"},
		{"missing id", []kombo.Package{pkg("a", kombo.PackageSkillsTest, "A"), pkg("", kombo.PackageSkillsTest, "B")}, "packages[1].id"},
		{"duplicate id", []kombo.Package{pkg("a", kombo.PackageSkillsTest, "A"), pkg("a", kombo.PackageBehavioral, "B")}, "packages[1].id"},
		{"missing type", []kombo.Package{pkg("a", "", "A")}, "packages[0].type"},
		{"unknown type", []kombo.Package{pkg("a", kombo.PackageSkillsTest, "A"), pkg("b", kombo.PackageSkillsTest, "B"),
			pkg("c", kombo.PackageSkillsTest, "C"), pkg("d", "ASSESSMENT", "D")}, "packages[3].type"},
		{"missing name", []kombo.Package{pkg("a", kombo.PackageSkillsTest, "")}, "packages[0].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, "Validate()", kombo.PackageList{Packages: tt.pkgs}.Validate(), tt.field)
		})
	}
}
