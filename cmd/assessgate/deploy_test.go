package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/server"
	"github.com/assessgate/assessgate/internal/wait"
)

// TestDeploy_Nginx checks the shipped nginx against assessgate: it lets
// through the largest request assessgate accepts (so that assessgate, not
// nginx, answers one too large, in its JSON shape); its access log names
// no query string, referrer or candidate link token; it overwrites
// X-Forwarded-For; and compose.yaml trusts exactly its address.
func TestDeploy_Nginx(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	conf, compose := read("nginx.conf"), read("compose.yaml")

	m := regexp.MustCompile(`(?m)^\s*client_max_body_size\s+(\d+)m;`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatal("nginx.conf sets no client_max_body_size in MiB")
	}
	mib, _ := strconv.Atoi(m[1])
	if limit := int64(mib) << 20; limit < server.MaxResultBytes || limit > server.MaxResultBytes+4<<20 {
		t.Errorf("client_max_body_size %dm; want just above assessgate's largest request, %d bytes", mib, server.MaxResultBytes)
	}

	format := regexp.MustCompile(`(?s)log_format\s+assessgate\s+(.*?);`).FindStringSubmatch(conf)
	if format == nil || !regexp.MustCompile(`(?m)^\s*access_log\s+\S+\s+assessgate;`).MatchString(conf) {
		t.Fatal("nginx.conf has no access_log with its own log_format assessgate")
	}
	for _, leak := range []string{"$request ", "$request\"", "$request_uri", "$args", "$query_string", "$is_args", "$http_referer", "$arg_", "$uri"} {
		if strings.Contains(format[1], leak) {
			t.Errorf("log_format assessgate logs %s: query strings, referrers or link tokens would land in the access log", leak)
		}
	}
	if !strings.Contains(conf, `~^/a/   "/a/{token}";`) {
		t.Errorf("nginx.conf does not hide candidate link tokens from its access log")
	}
	if !regexp.MustCompile(`proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;`).MatchString(conf) {
		t.Errorf("nginx.conf does not set X-Forwarded-For to the address it sees: a client could write its own")
	}

	trusted := regexp.MustCompile(`ASSESSGATE_TRUSTED_PROXIES:\s*(\S+)`).FindStringSubmatch(compose)
	lb := regexp.MustCompile(`ipv4_address:\s*(\S+)`).FindStringSubmatch(compose)
	if trusted == nil || lb == nil || trusted[1] != lb[1] {
		t.Fatalf("compose.yaml trusts %v, nginx is at %v; want nginx's fixed address trusted", trusted, lb)
	}
	if _, err := proxy.ParseTrusted(trusted[1]); err != nil {
		t.Errorf("compose.yaml's ASSESSGATE_TRUSTED_PROXIES: %v", err)
	}
}

var metricNameRE = regexp.MustCompile(`\bassessgate_[a-z0-9_]+`)

// The alert rules and the dashboard in deploy/ load, and every assessgate
// metric they name is exported by a running assessgate (a real scrape of
// GET /metrics). Prometheus's own metrics (up, …) are not checked.
func TestDeploy_MetricsExported(t *testing.T) {
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("deploy/prometheus/alerts.yaml: %v", err)
	}
	var exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert rule %+v: want alert, expr, a severity label and a summary", r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
				}
			}
			exprs = append(exprs, r.Expr)
		}
	}
	alertNames := metricNameRE.FindAllString(join(exprs), -1)
	// What the alerts must watch: refused webhooks, stuck orders, dead
	// letters, readiness, the job queue's age.
	for _, want := range []string{"assessgate_webhooks_refused_total", "assessgate_stuck_orders", "assessgate_jobs", "assessgate_ready", "assessgate_job_queue_oldest_seconds"} {
		if !slices.Contains(alertNames, want) {
			t.Errorf("deploy/prometheus/alerts.yaml has no alert on %s", want)
		}
	}

	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	b, err = os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "assessgate.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/assessgate.json: %v", err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	names := metricNameRE.FindAllString(join(exprs), -1)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 10 {
		t.Fatalf("deploy/ names %d assessgate metrics (%v); want the dozen it exports", len(names), names)
	}

	// A running assessgate that took orders, wrote a result back to Kombo
	// and so ran jobs: every series has values.
	a, fake := startWithKombo(t, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	placeOrder(t, a, fake, "order-d")
	putResult(t, a, "order-d", fixture(t, "request-put-order-result-completed.json"))
	wait.For(t, 10*time.Second, "the write-back job completed", func() bool {
		return a.count("river_job", "kind = 'writeback' AND state = 'completed'") == 1
	})
	status, body := a.do("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer " + testToken})
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d", status)
	}
	for _, name := range names {
		if !regexp.MustCompile(`(?m)^` + name + `[ {]`).Match(body) {
			t.Errorf("deploy/ names %s, which GET /metrics does not export", name)
		}
	}
}

func join(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}
