package login

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Handler serves the end-user pages of every tenant.
type Handler struct {
	box      *secret.Box
	mail     mail.Sender
	common   *password.Common
	provider *oidc.Provider
	fed      *federation.Service
	store    *tenants.Store
	hasher   *password.Hasher
	csrfKey  []byte
	now      func() time.Time
	limit    echo.MiddlewareFunc
	// passkeys holds each tenant's WebAuthn relying party.
	passkeys *relyingParties
}

// Config configures a Handler.
type Config struct {
	// CSRFKey keys the anti-CSRF tokens; the same on every node.
	CSRFKey []byte
	// Box seals TOTP secrets.
	Box *secret.Box
	// Mail sends email; nil means email is not configured.
	Mail mail.Sender
	// Common is the list of common passwords new passwords are checked
	// against.
	Common *password.Common
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limit guards the routes an anonymous client can make costly (see
	// costly); nil means none.
	Limit echo.MiddlewareFunc
}

// New returns a Handler.
func New(cfg Config, provider *oidc.Provider, fed *federation.Service, store *tenants.Store, hasher *password.Hasher) *Handler {
	h := &Handler{box: cfg.Box, mail: cfg.Mail, common: cfg.Common, provider: provider, fed: fed, store: store, hasher: hasher, csrfKey: cfg.CSRFKey, now: cfg.Now,
		limit: cfg.Limit, passkeys: newRelyingParties()}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Register adds the pages to e behind mw, which must resolve the tenant.
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	e.GET(oidc.PathAuthorize, h.authorize, h.costly(mw)...)
	e.POST(oidc.PathAuthorize, h.authorize, h.costly(mw)...)
	e.GET(oidc.PathLogin, h.showLogin, mw...)
	e.POST(oidc.PathLogin, h.submitLogin, h.costly(mw)...)
	e.GET(pathConsent, h.showConsent, mw...)
	e.POST(pathConsent, h.submitConsent, mw...)
	e.GET(oidc.PathEndSession, h.endSession, mw...)
	e.GET(BrandingPath, h.branding, mw...)
	e.POST(pathFederated, h.startFederated, h.costly(mw)...)
	e.GET(pathMFA, h.showMFA, mw...)
	e.POST(pathMFA, h.submitMFA, mw...)
	e.GET(pathEnrol, h.showEnrol, mw...)
	e.POST(pathEnrol, h.submitEnrol, mw...)
	e.GET(pathAccount, h.account, mw...)
	e.GET(pathAccount+"/callback", h.accountCallback, mw...)
	e.POST(pathAccount+"/identities/:identity/unlink", h.unlinkIdentity, mw...)
	e.GET("/federation/:connection/callback", h.federationCallback, mw...)
	e.POST("/federation/:connection/saml/acs", h.samlACS, h.costly(mw)...)
	e.GET("/federation/:connection/continue", h.federationContinue, mw...)
	e.GET("/federation/:connection/saml/metadata", h.samlMetadata, mw...)
	e.POST(oidc.PathEndSession, h.endSession, mw...)
	h.registerWebAuthn(e, mw...)
	h.registerSelfService(e, mw...)
}

// costly returns mw and the Limit, for the routes an anonymous client can
// make cost this node a password hash (sign-in, sign-up, a new password), a
// stored row (an authorization request, an upstream login or a passkey
// ceremony begun, an IdP-initiated SAML login) or an email (sign-up,
// reset, resend).
func (h *Handler) costly(mw []echo.MiddlewareFunc) []echo.MiddlewareFunc {
	if h.limit == nil {
		return mw
	}
	return append(slices.Clip(mw), h.limit)
}

const pathConsent = "/consent"

// tenant returns the tenant of the request, resolved by the server.
func tenant(c echo.Context) (*tenants.Tenant, context.Context, error) {
	ctx := c.Request().Context()
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, nil, httperr.NotFound()
	}
	return t, ctx, nil
}

func meta(t *tenants.Tenant, title string) views.Meta {
	m := views.Meta{Title: title, TenantName: t.DisplayName, LogoURL: t.LogoURL}
	if t.AccentColor != "" {
		m.BrandingCSS = BrandingPath + "?v=" + strconv.FormatInt(t.Revision, 10)
	}
	return m
}

// BrandingPath serves a tenant's stylesheet: its accent colour. A
// stylesheet, not a style attribute, so that the pages' CSP can forbid
// inline styles.
const BrandingPath = "/branding.css"

// branding serves the tenant's stylesheet.
func (h *Handler) branding(c echo.Context) error {
	t, _, err := tenant(c)
	if err != nil {
		return err
	}
	css := ""
	if accentColor.MatchString(t.AccentColor) {
		css = ":root { --accent: " + t.AccentColor + "; }\n"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// accentColor is the only form an accent colour may take in a stylesheet.
var accentColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// render writes a page.
func render(c echo.Context, status int, page templ.Component) error {
	return views.Render(c.Request().Context(), c.Response(), status, page)
}

// redirect sends the browser on: 303 after a form POST (never 307, which
// would re-post the password), 302 otherwise.
func redirect(c echo.Context, to string) error {
	status := http.StatusFound
	if c.Request().Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	return c.Redirect(status, to)
}

// webauthnEnabled reports whether passkeys and security keys are offered:
// whenever the handler has its WebAuthn relying parties (New makes them).
func (h *Handler) webauthnEnabled() bool { return h.passkeys != nil }
