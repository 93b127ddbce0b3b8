package server

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// FuzzRequestHost sends arbitrary Host, X-Forwarded-Host and
// X-Forwarded-For headers from trusted and untrusted peers. The host that
// tenant resolution matches is lower-case ASCII (a DNS name or an IP
// literal, never a port, a list or a Unicode look-alike) with no trailing
// dot, believed from X-Forwarded-Host only behind a trusted proxy; the
// audit origin's address is an IP, the peer's own unless the peer is a
// trusted proxy.
func FuzzRequestHost(f *testing.F) {
	base, _ := config.ParseBaseURL("https://id.example.com")
	_, proxy, _ := net.ParseCIDR("10.0.0.0/8")
	s := &Server{cfg: &config.Config{BaseURL: base, TrustedProxies: []*net.IPNet{proxy}}}
	e := echo.New()
	e.IPExtractor = s.ipExtractor()
	for _, tc := range [][4]string{
		{"203.0.113.9", "acme.id.example.com", "", ""},
		{"203.0.113.9", "Acme.ID.example.com:443", "evil.id.example.com", "198.51.100.1"},
		{"10.1.2.3", "internal:8080", "acme.id.example.com", "198.51.100.1"},
		{"10.1.2.3", "internal:8080", "acme.id.example.com, beta.id.example.com", "198.51.100.1, 10.0.0.2"},
		{"10.1.2.3", "internal", "acme.id.example.com:8443", "not-an-ip"},
		{"10.1.2.3", "internal", "\u212Acme.id.example.com", ""},
		{"10.1.2.3", "internal", "ACME.ID.EXAMPLE.COM.", "2001:db8::1"},
		{"10.1.2.3", "internal", "[::1]:8080", "[2001:db8::1]:443"},
		{"10.1.2.3", "internal", "acme.id.example.com:443:443", ""},
		{"10.1.2.3", "internal", "acme.id.example.com/evil", ""},
		{"10.1.2.3", "internal", "acme.id.example.com\x00.evil", ""},
		{"10.1.2.3", "internal", " ,acme.id.example.com", ""},
		{"::1", "[::1]:8080", "", ""},
		{"203.0.113.9", "id.example.com.", "", ""},
		{"203.0.113.9", strings.Repeat("a.", 130) + "id.example.com", "", ""},
		// Custom domains: the same form, whatever the spelling.
		{"203.0.113.9", "LOGIN.Acme.com.:443", "", ""},
		{"10.1.2.3", "internal", "login.acme.com.", ""},
		{"10.1.2.3", "internal", "xn--lgin-acme-com.com", ""},
		{"10.1.2.3", "internal", "login.аcme.com", ""},
		{"10.1.2.3", "internal", "login.acme.com..", ""},
	} {
		f.Add(tc[0], tc[1], tc[2], tc[3])
	}
	f.Fuzz(func(t *testing.T, peer, host, fwdHost, fwdFor string) {
		ip, err := netip.ParseAddr(peer)
		if err != nil || ip.Zone() != "" {
			return // a listener's peer is an IP, zoned only on a link-local network
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Host = netip.AddrPortFrom(ip, 5000).String(), host
		if fwdHost != "" {
			r.Header.Set("X-Forwarded-Host", fwdHost)
		}
		if fwdFor != "" {
			r.Header.Set("X-Forwarded-For", fwdFor)
		}
		c := e.NewContext(r, httptest.NewRecorder())
		trusted := proxy.Contains(ip.AsSlice())

		got := s.requestHost(c)
		if got != "" {
			if len(got) > 253 || strings.HasSuffix(got, ".") {
				t.Fatalf("host %q (Host %q, X-Forwarded-Host %q)", got, host, fwdHost)
			}
			if strings.Contains(got, ":") {
				if a, err := netip.ParseAddr(got); err != nil || !a.Is6() {
					t.Fatalf("host %q keeps a port (Host %q, X-Forwarded-Host %q)", got, host, fwdHost)
				}
			} else if strings.ContainsFunc(got, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
			}) {
				t.Fatalf("host %q is not lower-case ASCII (Host %q, X-Forwarded-Host %q)", got, host, fwdHost)
			}
			from := host
			if trusted && fwdHost != "" {
				from = fwdHost
			}
			if !strings.Contains(asciiLower(from), got) {
				t.Fatalf("host %q does not come from %q", got, from)
			}
		}

		var origin tenants.Origin
		if err := requestID(func(c echo.Context) error {
			origin, _ = tenants.OriginFrom(c.Request().Context())
			return nil
		})(c); err != nil {
			t.Fatal(err)
		}
		if net.ParseIP(origin.IP) == nil {
			t.Fatalf("origin IP %q (peer %s, X-Forwarded-For %q)", origin.IP, peer, fwdFor)
		}
		if !trusted && origin.IP != net.IP(ip.AsSlice()).String() && origin.IP != ip.String() {
			t.Fatalf("untrusted peer %s reported as %q (X-Forwarded-For %q)", peer, origin.IP, fwdFor)
		}
		if origin.RequestID == "" || origin.RequestID != c.Response().Header().Get(echo.HeaderXRequestID) {
			t.Fatalf("request id %q", origin.RequestID)
		}
	})
}

// asciiLower lower-cases only A to Z, as DNS does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
