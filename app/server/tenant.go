package server

import (
	"errors"
	"net"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

type hostKind int

const (
	hostUnknown hostKind = iota
	hostApex
	hostTenant
)

const hostKindKey = "gatehouse.host"

// resolveHost is the first middleware: it matches the request's host (port
// stripped, lower-cased) exactly against the apex and the tenant table. A
// tenant's request gets the tenant and its issuer in its context; an
// unknown host is answered 404 before anything else runs. The Host header
// is the only source, except behind a configured trusted proxy, whose
// X-Forwarded-Host is believed.
func (s *Server) resolveHost(next echo.HandlerFunc) echo.HandlerFunc {
	apex := strings.ToLower(s.cfg.BaseURL.Hostname())
	return func(c echo.Context) error {
		host := s.requestHost(c)
		if host == apex {
			c.Set(hostKindKey, hostApex)
			return next(c)
		}
		if host == "" || !strings.HasSuffix(host, "."+apex) && !s.customHosts() {
			return httperr.NotFound()
		}
		ctx := c.Request().Context()
		t, err := s.cache.TenantByHost(ctx, host)
		if errors.Is(err, tenants.ErrNotFound) {
			return httperr.NotFound()
		}
		if err != nil {
			return httperr.Internal(err)
		}
		ctx = tenants.WithTenant(ctx, t)
		c.SetRequest(c.Request().WithContext(ctx))
		c.Set(hostKindKey, hostTenant)
		return next(c)
	}
}

// customHosts reports whether tenants may live outside the apex domain.
// Not yet: every tenant is <slug>.<apex>.
func (s *Server) customHosts() bool { return false }

func (s *Server) requestHost(c echo.Context) string {
	r := c.Request()
	host := r.Host
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" && s.fromTrustedProxy(r.RemoteAddr) {
		host, _, _ = strings.Cut(fwd, ",")
		host = strings.TrimSpace(host)
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if len(host) > 253 || !validHost(host) {
		return ""
	}
	return strings.ToLower(host)
}

// validHost reports whether host (port stripped) is a DNS name of ASCII
// letters, digits, dots, hyphens and underscores without empty labels,
// or an IPv6 literal.
// Anything else (a second port, a path, NUL, a Unicode look-alike such as
// the Kelvin sign, which strings.ToLower folds to "k") names no tenant:
// net/http refuses such a Host header, but X-Forwarded-Host is unchecked.
func validHost(host string) bool {
	if strings.Contains(host, ":") {
		ip := net.ParseIP(host)
		return ip != nil && ip.To4() == nil
	}
	if strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return false // an empty label
	}
	for i := 0; i < len(host); i++ {
		b := host[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

func (s *Server) fromTrustedProxy(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.cfg.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func kind(c echo.Context) hostKind {
	k, _ := c.Get(hostKindKey).(hostKind)
	return k
}

// onTenant restricts a route to tenant hosts; elsewhere it does not exist.
func onTenant(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if kind(c) != hostTenant {
			return httperr.NotFound()
		}
		return next(c)
	}
}

// onApex restricts a route to the apex host.
func onApex(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if kind(c) != hostApex {
			return httperr.NotFound()
		}
		return next(c)
	}
}
