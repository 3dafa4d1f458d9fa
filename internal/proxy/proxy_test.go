package proxy_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/assessgate/assessgate/internal/proxy"
)

func TestParseTrusted(t *testing.T) {
	tr, err := proxy.ParseTrusted(" 10.0.0.0/8, 127.0.0.1 ,, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tr.String(), "10.0.0.0/8,127.0.0.1/32,fd00::/8"; got != want {
		t.Errorf("ParseTrusted = %q; want %q", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "nginx", "10.0.0.1:80"} {
		if _, err := proxy.ParseTrusted(bad); err == nil {
			t.Errorf("ParseTrusted(%q) = nil error; want one", bad)
		}
	}
	if tr, err := proxy.ParseTrusted(""); err != nil || len(tr) != 0 {
		t.Errorf("ParseTrusted(\"\") = %v, %v; want no one trusted", tr, err)
	}
}

// TestHandler: X-Forwarded-* from an untrusted address is ignored; from a
// trusted one it names the client and the scheme, and a client cannot
// choose its address by writing X-Forwarded-For itself.
func TestHandler(t *testing.T) {
	tr, err := proxy.ParseTrusted("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, remote, xff, proto string
		tls                      bool
		wantIP                   string
		wantHTTPS                bool
	}{
		{"Direct", "203.0.113.7:5000", "", "", false, "203.0.113.7", false},
		{"DirectTLS", "203.0.113.7:5000", "", "", true, "203.0.113.7", true},
		{"UntrustedForwarded", "203.0.113.7:5000", "198.51.100.1", "https", false, "203.0.113.7", false},
		{"TrustedForwarded", "10.1.2.3:5000", "198.51.100.1", "https", false, "198.51.100.1", true},
		{"TrustedPlainHTTP", "10.1.2.3:5000", "198.51.100.1", "http", false, "198.51.100.1", false},
		{"ClientWritesForwarded", "10.1.2.3:5000", "1.1.1.1, 198.51.100.1", "https", false, "198.51.100.1", true},
		{"TwoProxies", "10.1.2.3:5000", "198.51.100.1, 10.9.9.9", "https", false, "198.51.100.1", true},
		{"Garbage", "10.1.2.3:5000", "x, 198.51.100.1", "", false, "198.51.100.1", false},
		{"TrustedWithoutHeaders", "10.1.2.3:5000", "", "", false, "10.1.2.3", false},
		{"IPv6Client", "10.1.2.3:5000", "2001:db8::1", "https", false, "2001:db8::1", true},
		{"WithPort", "10.1.2.3:5000", "198.51.100.1:6000, [2001:db8::2]:7000", "", false, "2001:db8::2", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			var ip string
			var https bool
			tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ip, https = proxy.ClientIP(r), proxy.HTTPS(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if ip != tt.wantIP || https != tt.wantHTTPS {
				t.Errorf("ClientIP, HTTPS = %s, %v; want %s, %v", ip, https, tt.wantIP, tt.wantHTTPS)
			}
		})
	}
}
