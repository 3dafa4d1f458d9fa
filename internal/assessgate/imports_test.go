package assessgate

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/assessgate/assessgate/"

// allowedImports is what each package of the project may import of the
// project, outside its tests: the rule docs/architecture.md states. The
// domain depends on nothing of ours but Kombo's wire types; storage on the
// domain; jobs on storage; the HTTP surface on jobs; this package wires
// them all.
var allowedImports = map[string][]string{
	"kombo":                    {},
	"api":                      {},
	"client":                   {},
	"internal/apitest":         {"api"}, // tests only
	"kombo/kombotest":          {"kombo"},
	"internal/clock":           {},
	"internal/keyring":         {},
	"internal/orders":          {"kombo"},
	"internal/mail":            {},
	"internal/mail/catcher":    {},
	"internal/mail/mailtest":   {"internal/store/storetest", "internal/wait"}, // RequireInCI
	"internal/metrics":         {},
	"internal/proxy":           {},
	"internal/store":           {"kombo", "internal/orders", "internal/keyring", "internal/clock", "internal/store/stmtcache"},
	"internal/store/stmtcache": {},
	"internal/store/storetest": {"internal/store"},
	"internal/jobs":            {"kombo", "internal/orders", "internal/store", "internal/mail", "internal/clock"},
	"internal/jobs/vendortest": {"internal/apitest", "client"},
	"internal/admin":           {"kombo", "internal/orders", "internal/store", "internal/jobs", "internal/proxy"},
	"internal/server":          {"kombo", "internal/orders", "internal/store", "internal/jobs", "internal/metrics", "internal/proxy", "api"},
	"internal/loadgen":         {"kombo", "kombo/kombotest", "client"}, // a tool: never imported by the product
	"internal/wait":            {},                                     // tests only
	"internal/assessgate": {"kombo", "internal/orders", "internal/store", "internal/jobs", "internal/mail",
		"internal/metrics", "internal/server", "internal/admin", "internal/keyring", "internal/clock", "internal/proxy"},
}

// TestImports fails when a package imports a package of the project that
// the layering does not allow it, or when a package is not in the table
// (a new package says where it stands).
func TestImports(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "bench") {
			return nil // commands and tools may use anything
		}
		allowed, ok := allowedImports[pkg]
		if !ok {
			t.Errorf("package %s is not in allowedImports: say what it may import", pkg)
			allowedImports[pkg] = nil
		}
		seen[pkg] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s; the layering allows only %v (docs/architecture.md)", path, dep, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowedImports {
		if !seen[pkg] {
			t.Errorf("allowedImports names %s, which has no Go files", pkg)
		}
	}
}
