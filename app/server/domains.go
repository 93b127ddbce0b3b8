package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// PathDomainAsk is the apex endpoint a TLS proxy asks before it obtains a
// certificate on demand (Caddy's on_demand_tls ask): may it for ?domain=?
const PathDomainAsk = "/tls/ask"

// maxAskDomain bounds the domain asked about (a DNS name is at most 253).
const maxAskDomain = 256

// domainAsk answers 200 when the asked host is one Gatehouse serves — the
// apex, a tenant's host or a verified custom domain — and 404 otherwise,
// with no body either way: unauthenticated, it tells nothing a request to
// that host would not. The host is matched as resolveHost matches a
// request's (case and one trailing dot folded, nothing else).
func (s *Server) domainAsk(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	host := c.QueryParam("domain")
	if host == "" || len(host) > maxAskDomain || !validHost(strings.TrimSuffix(host, ".")) {
		return c.NoContent(http.StatusNotFound)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	apex := strings.ToLower(s.cfg.BaseURL.Hostname())
	if host == apex {
		return c.NoContent(http.StatusOK)
	}
	_, err := s.tenantAt(c.Request().Context(), host, apex)
	switch {
	case err == nil:
		return c.NoContent(http.StatusOK)
	case errors.Is(err, tenants.ErrNotFound):
		return c.NoContent(http.StatusNotFound)
	}
	return httperr.Internal(err)
}
