package server

import (
	"github.com/a-h/templ"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/gatehouse-id/gatehouse/admin/api"
	"github.com/gatehouse-id/gatehouse/admin/console"
	"github.com/gatehouse-id/gatehouse/app/account"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/login"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/register"
	"github.com/gatehouse-id/gatehouse/app/samlidp"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// maxBody caps request bodies: OAuth forms and login posts are small.
const maxBody = "64K"

func (s *Server) routes(signin *login.Handler, acct *account.Handler, idp *samlidp.Handler, con *console.Handler, mgmt *api.Handler) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = s.ipExtractor()

	e.Use(s.tracing.Middleware)
	e.Use(requestID)
	e.Use(s.observe)
	e.Use(s.accessLog)
	e.Use(middleware.Recover())
	e.Use(s.securityHeaders)
	// The management API's streamed uploads (a user import) are read as
	// they come, with their own bounds per line.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxBody, Skipper: mgmt.Streams}))
	e.Use(s.resolveHost)
	e.Use(refuseBadText)
	e.Use(s.site.Localize)

	static, _ := fs.Sub(views.Static, "static")
	e.GET("/static/*", echo.WrapHandler(cacheFor(time.Hour, http.StripPrefix("/static/", http.FileServerFS(static)))))

	// Apex: health, and (later) the console and management API.
	e.GET("/healthz", s.healthz, onApex)
	e.GET("/livez", s.livez, onApex)
	e.GET("/readyz", s.readyz, onApex)
	e.GET(PathDomainAsk, s.domainAsk, onApex)
	e.GET("/", s.home)

	// Tenant hosts: the protocol endpoints and the pages people see. The
	// restriction is per route (not a group middleware, whose catch-all
	// route would turn 405 into 404).
	p := s.provider
	e.GET(oidc.PathDiscovery, publicEndpoint(p.Discovery), onTenant, corsOpen)
	e.GET(oidc.PathJWKS, publicEndpoint(p.JWKS), onTenant, corsOpen)
	e.POST(oidc.PathToken, oauthEndpoint(p.Token), onTenant, corsOpen)
	// Anyone who knows a public client's id can make a device
	// authorization, which is stored until it expires: the per-address
	// rate limit of the anonymous pages guards it too.
	e.POST(oidc.PathDeviceAuthorization, oauthEndpoint(p.DeviceAuthorization), append([]echo.MiddlewareFunc{onTenant}, s.anonymous...)...)
	e.POST(oidc.PathIntrospect, oauthEndpoint(p.Introspect), onTenant)
	e.POST(oidc.PathRevoke, oauthEndpoint(p.Revoke), onTenant, corsOpen)
	e.POST(oidc.PathPAR, oauthEndpoint(p.PushAuthorization), onTenant, corsOpen)
	e.GET(oidc.PathUserinfo, oauthEndpoint(p.UserInfo), onTenant, corsOpen)
	e.POST(oidc.PathUserinfo, oauthEndpoint(p.UserInfo), onTenant, corsOpen)
	for _, p := range []string{oidc.PathDiscovery, oidc.PathJWKS, oidc.PathToken, oidc.PathRevoke, oidc.PathPAR, oidc.PathUserinfo} {
		e.OPTIONS(p, func(echo.Context) error { return nil }, onTenant, corsOpen)
	}
	// RFC 8414's name for the same document.
	e.GET(oidc.PathAuthorizationServer, publicEndpoint(p.Discovery), onTenant, corsOpen)
	e.OPTIONS(oidc.PathAuthorizationServer, func(echo.Context) error { return nil }, onTenant, corsOpen)
	// Dynamic client registration (RFC 7591/7592), when the tenant takes
	// it; open registrations are throttled per address by the handler.
	register.New(s.admin, register.OpenRate).Register(e, onTenant)
	signin.Register(e, onTenant)
	acct.Register(e, onTenant)
	idp.Register(e, onTenant)

	// Apex: the console and the management API.
	con.Register(e, onApex)
	mgmt.Register(e, onApex)
	return e
}

// home answers / on the apex and on tenant hosts.
func (s *Server) home(c echo.Context) error {
	ctx := c.Request().Context()
	if t, ok := tenants.FromContext(ctx); ok {
		return render(c, views.TenantHomePage(views.TenantHomeView{Meta: views.Meta{Title: "home.title", TenantName: t.DisplayName}, Issuer: t.Issuer}))
	}
	v := views.HomeView{Meta: views.Meta{Title: "Gatehouse", TenantName: "Gatehouse"}, Development: s.cfg.Mode == config.ModeDevelopment}
	if v.Development {
		ts, err := s.store.ListTenants(ctx)
		if err != nil {
			return httperr.Internal(err)
		}
		for _, t := range ts {
			v.Tenants = append(v.Tenants, views.HomeTenant{Name: t.DisplayName, Slug: t.Slug, Issuer: t.Issuer})
		}
	}
	return render(c, views.HomePage(v))
}

func render(c echo.Context, page templ.Component) error {
	return views.Render(c.Request().Context(), c.Response(), http.StatusOK, page)
}

func (s *Server) healthz(c echo.Context) error {
	if err := s.store.Ping(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	v := "public, max-age=" + itoa(int(d.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		h.ServeHTTP(w, r)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// requestID gives every request a fresh id, in the X-Request-ID answer
// header, the logs and error pages, and puts it in the request's context
// with the client's address and user agent, for the audit log. An id sent
// by the client is not taken: it could be anything.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := secret.Token(9)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		r := c.Request()
		c.SetRequest(r.WithContext(tenants.WithOrigin(r.Context(), tenants.Origin{IP: c.RealIP(), UserAgent: r.UserAgent(), RequestID: id})))
		return next(c)
	}
}

// observe measures every request by its route pattern (never its path),
// method and final status, for the metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		s.metrics.Request(c.Path(), c.Request().Method, c.Response().Status, time.Since(start))
		return err
	}
}

// accessLog logs one line per request: never the query string, which can
// carry codes and state. The logger adds the request id and tenant from
// the request's context.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		attrs := []any{
			"method", req.Method, "host", req.Host, "path", req.URL.Path,
			"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(),
		}
		s.log.DebugContext(req.Context(), "http request", attrs...)
		return nil
	}
}
