package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/proxy"
	"github.com/assessgate/assessgate/internal/server"
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
