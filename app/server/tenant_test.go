package server

import (
	"net"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/config"
)

func TestRequestHostTrustsForwardedHostOnlyFromProxies(t *testing.T) {
	base, _ := config.ParseBaseURL("https://id.example.com")
	_, proxy, _ := net.ParseCIDR("10.0.0.0/8")
	s := &Server{cfg: &config.Config{BaseURL: base, TrustedProxies: []*net.IPNet{proxy}}}
	e := echo.New()
	for _, tc := range []struct {
		name, remote, host, forwarded, want string
	}{
		{"plain host, port stripped", "203.0.113.9:5000", "Acme.ID.example.com:443", "", "acme.id.example.com"},
		{"forwarded host from an untrusted peer is ignored", "203.0.113.9:5000", "acme.id.example.com", "evil.id.example.com", "acme.id.example.com"},
		{"forwarded host from the proxy", "10.1.2.3:5000", "internal:8080", "acme.id.example.com", "acme.id.example.com"},
		{"first forwarded host wins", "10.1.2.3:5000", "internal:8080", "acme.id.example.com, beta.id.example.com", "acme.id.example.com"},
		{"trailing dot", "203.0.113.9:5000", "acme.id.example.com.", "", "acme.id.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr, r.Host = tc.remote, tc.host
			if tc.forwarded != "" {
				r.Header.Set("X-Forwarded-Host", tc.forwarded)
			}
			if got := s.requestHost(e.NewContext(r, httptest.NewRecorder())); got != tc.want {
				t.Fatalf("host = %q, want %q", got, tc.want)
			}
		})
	}
}
