package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	vc "github.com/gatehouse-id/gatehouse/views/console"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Config configures the console.
type Config struct {
	// BaseURL is the apex URL; the console is at BaseURL + /admin.
	BaseURL *url.URL
	// ConsoleSecret is the console's client secret at the system tenant.
	ConsoleSecret string
	// TrySecret returns the client secret of a tenant's Try it client
	// (admin.TrySecret), by tenant id.
	TrySecret func(tenantID string) string
	// CSRFKey keys the console's anti-CSRF tokens.
	CSRFKey []byte
	// SystemTenant returns the system tenant (fresh: its keys may rotate).
	SystemTenant func(ctx context.Context) (*tenants.Tenant, error)
	// Transport reaches the system tenant's endpoints in-process: the
	// console's code exchange and discovery go through the same handler
	// as any relying party's, without a network round trip.
	Transport http.RoundTripper
	// Sealer seals a secret shown once (a new client secret) in a cookie
	// across the redirect after the POST that made it.
	Sealer *secret.Box
	// SessionTTL is how long a console session lasts (default 8 hours).
	SessionTTL time.Duration
	// Outbox shows operators the development outbox (development mode
	// without SMTP).
	Outbox bool
}

// Handler serves the console.
type Handler struct {
	cfg   Config
	svc   *admin.Service
	store *tenants.Store
	now   func() time.Time
}

// New returns the console.
func New(cfg Config, svc *admin.Service, store *tenants.Store) *Handler {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	return &Handler{cfg: cfg, svc: svc, store: store, now: store.Now}
}

// Register adds the console's routes to e behind mw (which must restrict
// them to the apex host).
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	g := e.Group(admin.ConsolePath)
	// Signing in and out, and the first operator's setup: no session.
	g.GET("/login", h.login, mw...)
	g.GET("/callback", h.callback, mw...)
	g.POST("/logout", h.logout, mw...)
	g.GET("/signed-out", h.signedOut, mw...)
	g.GET("/setup", h.showSetup, mw...)
	g.POST("/setup", h.submitSetup, mw...)

	auth := append(append([]echo.MiddlewareFunc{}, mw...), h.requireAdmin, h.keepNavigation)
	e.GET(admin.ConsolePath, h.home, auth...)
	g.GET("/", h.home, auth...)
	for _, r := range h.pages() {
		g.Add(r.method, r.path, r.handler, auth...)
	}
	// A path the console has nothing at is its "not found" page, for a
	// signed-in administrator with the console's navigation.
	nothing := func(echo.Context) error { return notFound() }
	g.Any("/t/:slug/*", nothing, auth...)
	g.Any("/*", nothing, auth...)
}

// keepNavigation answers a signed-in page's "not found" (an unknown path,
// an id of nothing or of another tenant's) inside the console's frame,
// its navigation kept, rather than as the bare error page: same status,
// same words. The tenant's menu is shown only for a tenant the
// administrator may open.
func (h *Handler) keepNavigation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		e := httperr.As(err)
		if e == nil && errors.Is(err, tenants.ErrNotFound) {
			e = httperr.NotFound()
		}
		if e == nil || e.Status != http.StatusNotFound || e.Redirect != nil || c.Response().Committed {
			return err
		}
		var tenant *tenants.Tenant
		if c.Param("slug") != "" {
			if _, t, terr := h.tenant(c); terr == nil {
				tenant = t
			}
		}
		pg, perr := h.page(c, e.Title, "", tenant)
		if perr != nil {
			return err
		}
		return render(c, http.StatusNotFound, vc.NotFound(vc.NotFoundView{Page: pg, Text: e.Description,
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}))
	}
}

// route is one console page.
type route struct {
	method, path string
	handler      echo.HandlerFunc
}

// Route is a signed-in route of the console, relative to /admin, in Echo's
// syntax (/t/:slug/users/:user).
type Route struct {
	Method string
	Path   string
}

// Routes lists the console's signed-in routes, for tests that must cover
// every one of them (cross-tenant access, CSRF, sign-in).
func Routes() []Route {
	var out []Route
	for _, r := range (&Handler{}).pages() {
		out = append(out, Route{Method: r.method, Path: r.path})
	}
	return out
}
