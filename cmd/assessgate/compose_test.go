package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/assessgate/assessgate/kombo"
)

// serveVariables returns every environment variable "assessgate serve"
// reads, from its flags' definitions.
func serveVariables(t *testing.T) []string {
	t.Helper()
	f := newEnvFlags("serve", func(string) string { return "" }, io.Discard)
	if _, err := serveConfig(f, []string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve -h = %v; want the flags defined, then ErrHelp", err)
	}
	var vars []string
	for _, env := range f.envOf {
		if env != "" {
			vars = append(vars, env)
		}
	}
	slices.Sort(vars)
	return vars
}

// TestCompose: deploy/compose.yaml sets only variables assessgate knows
// (a misspelt one would be ignored in silence), and runs the product as the
// README describes: mail through its mailpit, the admin pages on, the
// example catalogue mounted, candidate links to a page that nginx serves.
func TestCompose(t *testing.T) {
	known := serveVariables(t)
	if len(known) < 30 || !slices.Contains(known, "KOMBO_WEBHOOK_SECRET") || !slices.Contains(known, "ASSESSGATE_SMTP_URL") {
		t.Fatalf("serve's variables = %v; want all of them", known)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	var replicas int
	for name, svc := range compose.Services {
		for v := range svc.Environment {
			if (strings.HasPrefix(v, "ASSESSGATE_") || strings.HasPrefix(v, "KOMBO_")) && !slices.Contains(known, v) {
				t.Errorf("service %s sets %s, which assessgate does not read", name, v)
			}
		}
		if svc.Image != "assessgate:local" || slices.Contains(svc.Command, "migrate") {
			continue
		}
		replicas++
		env := svc.Environment
		if _, ok := compose.Services["mailpit"]; !ok || env["ASSESSGATE_SMTP_URL"] != "smtp://mailpit:1025" || env["ASSESSGATE_MAIL_FROM"] == "" {
			t.Errorf("%s: SMTP %q, from %q; want mail through the mailpit service", name, env["ASSESSGATE_SMTP_URL"], env["ASSESSGATE_MAIL_FROM"])
		}
		if !strings.Contains(env["ASSESSGATE_ADMIN_PASSWORD"], "${ASSESSGATE_ADMIN_PASSWORD") {
			t.Errorf("%s: ASSESSGATE_ADMIN_PASSWORD %q; want it taken from the environment", name, env["ASSESSGATE_ADMIN_PASSWORD"])
		}
		if env["ASSESSGATE_PUBLIC_URL"] != "http://localhost:8080" {
			t.Errorf("%s: ASSESSGATE_PUBLIC_URL %q; want the load balancer's address", name, env["ASSESSGATE_PUBLIC_URL"])
		}
		// The catalogue file is mounted where the variable says.
		mounted := false
		for _, v := range svc.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == env["ASSESSGATE_PACKAGES_FILE"] {
				mounted = true
				checkCatalogue(t, filepath.Join("..", "..", "deploy", parts[0]))
			}
		}
		if !mounted {
			t.Errorf("%s: ASSESSGATE_PACKAGES_FILE %q is not mounted (volumes %v)", name, env["ASSESSGATE_PACKAGES_FILE"], svc.Volumes)
		}
		// Candidate links lead to a path nginx serves itself.
		link := env["ASSESSGATE_ASSESSMENT_URL"]
		path := regexp.MustCompile(`^http://localhost:8080(/[a-z]+/)`).FindStringSubmatch(link)
		nginx, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx.conf"))
		if err != nil {
			t.Fatal(err)
		}
		if path == nil || !regexp.MustCompile(`location `+regexp.QuoteMeta(path[1])+` \{[^}]*return 200 `).Match(nginx) {
			t.Errorf("%s: candidate links go to %q, which deploy/nginx.conf does not serve", name, link)
		}
	}
	if replicas != 2 {
		t.Errorf("compose runs %d assessgate replicas; want 2", replicas)
	}
}

// checkCatalogue checks that path is a package catalogue serve accepts.
func checkCatalogue(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list kombo.PackageList
	if err := json.Unmarshal(b, &list); err != nil || list.Validate() != nil || len(list.Packages) == 0 {
		t.Errorf("%s: %v, %v; want a package catalogue", path, err, list.Validate())
	}
}

// Every variable serve reads is documented in docs/configuration.md, the
// reference the README points to.
func TestConfigurationDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range serveVariables(t) {
		if !strings.Contains(string(b), "`"+v+"`") {
			t.Errorf("docs/configuration.md does not document %s", v)
		}
	}
}
