package server

import (
	"context"
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
// stripped, lower-cased) exactly against the apex, the tenant table and
// the tenants' verified custom domains. A tenant's request gets the tenant
// and its issuer in its context — at a custom domain, the tenant as served
// there (tenants.Tenant.ServedAt: that host, that host's issuer); an
// unknown host, or a domain not verified, is answered 404 before anything
// else runs. The Host header is the only source, except behind a
// configured trusted proxy, whose X-Forwarded-Host is believed.
func (s *Server) resolveHost(next echo.HandlerFunc) echo.HandlerFunc {
	apex := strings.ToLower(s.cfg.BaseURL.Hostname())
	return func(c echo.Context) error {
		host := s.requestHost(c)
		if host == apex {
			c.Set(hostKindKey, hostApex)
			return next(c)
		}
		t, err := s.tenantAt(c.Request().Context(), host, apex)
		if errors.Is(err, tenants.ErrNotFound) {
			return httperr.NotFound()
		}
		if err != nil {
			return httperr.Internal(err)
		}
		c.SetRequest(c.Request().WithContext(tenants.WithTenant(c.Request().Context(), t)))
		c.Set(hostKindKey, hostTenant)
		return next(c)
	}
}

// tenantAt returns the tenant served at host (requestHost's form, not the
// apex): a host under the apex is a tenant's own, any other DNS name may be
// a verified custom domain; an IP literal or "" is nobody's.
func (s *Server) tenantAt(ctx context.Context, host, apex string) (*tenants.Tenant, error) {
	switch {
	case host == "" || strings.Contains(host, ":"):
		return nil, tenants.ErrNotFound
	case strings.HasSuffix(host, "."+apex):
		return s.cache.TenantByHost(ctx, host)
	}
	// A host that could never be stored as a domain is not looked up.
	if h, err := tenants.CheckDomain(host, apex); err != nil || h != host {
		return nil, tenants.ErrNotFound
	}
	t, err := s.cache.TenantByDomain(ctx, host)
	if err != nil {
		return nil, err
	}
	return t.ServedAt(host, tenants.DomainIssuer(s.cfg.BaseURL, host)), nil
}

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
