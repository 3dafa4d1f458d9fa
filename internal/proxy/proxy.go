// Package proxy tells who is really asking when assessgate runs behind
// reverse proxies: X-Forwarded-For and X-Forwarded-Proto are believed only
// from the addresses of ASSESSGATE_TRUSTED_PROXIES, and ignored from anyone
// else, who could write anything in them.
package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of proxies whose X-Forwarded-* headers are believed.
// The zero value trusts no one: the client is the connection's peer.
type Trusted []netip.Prefix

// ParseTrusted parses a comma-separated list of CIDRs ("10.0.0.0/8") or
// single addresses ("127.0.0.1"). An empty list trusts no one.
func ParseTrusted(s string) (Trusted, error) {
	var t Trusted
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(f, "/") {
			p, err = netip.ParsePrefix(f)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(f); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an IP address", f)
		}
		t = append(t, p.Masked())
	}
	return t, nil
}

// Contains reports whether a is a trusted proxy's address.
func (t Trusted) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// String is the list as ParseTrusted takes it.
func (t Trusted) String() string {
	s := make([]string, len(t))
	for i, p := range t {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

type key struct{}

// client is what Handler found out about a request.
type client struct {
	addr  netip.Addr
	https bool
}

// Handler finds each request's client and scheme and passes the request on
// to next, where ClientIP and HTTPS tell them:
//
//   - the connection's peer is the client, and TLS on the connection means
//     https, unless the peer is a trusted proxy;
//   - from a trusted proxy, the client is the last address of
//     X-Forwarded-For that is not itself a trusted proxy (addresses further
//     left were written by the client, and could be anything), and
//     X-Forwarded-Proto's last value says whether the client used https.
func (t Trusted) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := t.client(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, c)))
	})
}

func (t Trusted) client(r *http.Request) client {
	peer := peerAddr(r)
	c := client{addr: peer, https: r.TLS != nil}
	if !peer.IsValid() || !t.Contains(peer) {
		return c
	}
	if xff := forwardedFor(r.Header.Values("X-Forwarded-For")); len(xff) > 0 {
		c.addr = xff[0] // all proxies: the first is as far as the chain goes
		for i := len(xff) - 1; i >= 0; i-- {
			if !t.Contains(xff[i]) {
				c.addr = xff[i]
				break
			}
		}
	}
	if v := r.Header.Values("X-Forwarded-Proto"); len(v) > 0 {
		list := strings.Split(v[len(v)-1], ",")
		c.https = strings.EqualFold(strings.TrimSpace(list[len(list)-1]), "https")
	}
	return c
}

// forwardedFor parses X-Forwarded-For's addresses, in order; one that does
// not parse ends the list there (what is left of it cannot be trusted).
func forwardedFor(values []string) []netip.Addr {
	var list []netip.Addr
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			a, err := netip.ParseAddr(f)
			if err != nil { // some proxies add the port: 1.2.3.4:5678, [2001:db8::1]:5678
				var ap netip.AddrPort
				ap, err = netip.ParseAddrPort(f)
				a = ap.Addr()
			}
			if err != nil {
				list = list[:0] // only what follows the garbage was written by proxies
				continue
			}
			list = append(list, a.Unmap())
		}
	}
	return list
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func fromContext(r *http.Request) (client, bool) {
	c, ok := r.Context().Value(key{}).(client)
	return c, ok
}

// ClientIP is the address of the request's client, without a port: as
// Handler found it, or the connection's peer for a request that did not
// pass through Handler.
func ClientIP(r *http.Request) string {
	c, ok := fromContext(r)
	if !ok {
		c.addr = peerAddr(r)
	}
	if !c.addr.IsValid() {
		return r.RemoteAddr
	}
	return c.addr.String()
}

// HTTPS reports whether the client used https: TLS on the connection, or a
// trusted proxy's X-Forwarded-Proto.
func HTTPS(r *http.Request) bool {
	if c, ok := fromContext(r); ok {
		return c.https
	}
	return r.TLS != nil
}
