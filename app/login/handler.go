package login

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/mfa"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/views"
)

// Handler serves the sign-in pages of every tenant.
type Handler struct {
	cfg      Config
	site     *web.Site
	store    *tenants.Store
	provider *oidc.Provider
	fed      *federation.Service
	hasher   *password.Hasher
	throttle *authn.Throttle
	factors  *mfa.Factors
	passkeys *passkey.Passkeys
	logouts  LogoutFrames
}

// LogoutFrames returns the front-channel logout messages of a session that
// signs out, to be framed on the signed-out page (samlidp.Handler's SAML
// Single Logout); nil for none.
type LogoutFrames func(ctx context.Context, t *tenants.Tenant, sess *tenants.Session) ([]views.LogoutFrame, error)

// Config configures a Handler.
type Config struct {
	// EmailEnabled says the service sends email, so that the login page
	// may link to sign-up and password reset.
	EmailEnabled bool
}

// Deps are what a Handler is built from.
type Deps struct {
	Site       *web.Site
	Provider   *oidc.Provider
	Federation *federation.Service
	Hasher     *password.Hasher
	Throttle   *authn.Throttle
	Factors    *mfa.Factors
	Passkeys   *passkey.Passkeys
	// Logouts, when set, gives the applications of a session that signs
	// out their logout messages.
	Logouts LogoutFrames
}

// New returns a Handler.
func New(cfg Config, d Deps) *Handler {
	return &Handler{cfg: cfg, site: d.Site, store: d.Site.Store(), provider: d.Provider, fed: d.Federation, hasher: d.Hasher,
		throttle: d.Throttle, factors: d.Factors, passkeys: d.Passkeys, logouts: d.Logouts}
}

// routes lists the sign-in pages and endpoints: Register mounts them, and
// tests walk every one (CSRF, same origin, another tenant's ids).
func (h *Handler) routes() []web.Route {
	fed := federation.PathPrefix + ":connection"
	return []web.Route{
		// The authorization endpoint: a relying party may POST its request
		// (OIDC Core §3.1.2.1).
		{Method: http.MethodGet, Path: oidc.PathAuthorize, Handler: h.authorize, Costly: true},
		{Method: http.MethodPost, Path: oidc.PathAuthorize, Handler: h.authorize, CrossSite: true, Costly: true},
		{Method: http.MethodGet, Path: web.PathLogin, Handler: h.showLogin},
		{Method: http.MethodPost, Path: web.PathLogin, Handler: h.submitLogin, Costly: true},
		{Method: http.MethodPost, Path: web.PathLoginFederated, Handler: h.startFederated, Costly: true},
		{Method: http.MethodGet, Path: web.PathMFA, Handler: h.showMFA},
		{Method: http.MethodPost, Path: web.PathMFA, Handler: h.submitMFA},
		{Method: http.MethodGet, Path: web.PathEnrol, Handler: h.showEnrol},
		{Method: http.MethodPost, Path: web.PathEnrol, Handler: h.submitEnrol},
		{Method: http.MethodGet, Path: web.PathMFAWebAuthn + web.OptionsSuffix, Handler: h.mfaWebAuthnOptions, SameSiteOnly: true},
		{Method: http.MethodPost, Path: web.PathMFAWebAuthn, Handler: h.submitMFAWebAuthn},
		{Method: http.MethodGet, Path: web.PathPasskey + web.OptionsSuffix, Handler: h.passkeyOptions, SameSiteOnly: true, Costly: true},
		{Method: http.MethodPost, Path: web.PathPasskey, Handler: h.submitPasskey, Costly: true},
		{Method: http.MethodGet, Path: web.PathEnrolWebAuthn + web.OptionsSuffix, Handler: h.enrolWebAuthnOptions, SameSiteOnly: true},
		{Method: http.MethodPost, Path: web.PathEnrolWebAuthn, Handler: h.submitEnrolWebAuthn},
		{Method: http.MethodGet, Path: web.PathConsent, Handler: h.showConsent},
		{Method: http.MethodPost, Path: web.PathConsent, Handler: h.submitConsent},
		{Method: http.MethodPost, Path: web.PathConsentSwitch, Handler: h.switchAccount},
		// The device authorization grant's verification URI (RFC 8628
		// §3.3): the code is entered, and the request answered, here.
		{Method: http.MethodGet, Path: oidc.PathDevice, Handler: h.showDevice},
		{Method: http.MethodPost, Path: oidc.PathDevice, Handler: h.submitDeviceCode, Costly: true},
		{Method: http.MethodPost, Path: web.PathDeviceConsent, Handler: h.submitDeviceConsent},
		// RP-Initiated Logout 1.0 lets a relying party send the browser
		// here by GET or POST; the user confirms on a form of ours.
		{Method: http.MethodGet, Path: web.PathLogout, Handler: h.endSession},
		{Method: http.MethodPost, Path: web.PathLogout, Handler: h.endSession, CrossSite: true},
		{Method: http.MethodPost, Path: web.PathLogoutConfirm, Handler: h.confirmLogout},
		{Method: http.MethodGet, Path: web.PathBranding, Handler: h.branding},
		// Upstream answers: a redirect back (OAuth, OIDC), an IdP's
		// cross-site POST (SAML), and the same-site request that finishes
		// a SAML login in the browser.
		{Method: http.MethodGet, Path: fed + federation.PathCallback, Handler: h.federationCallback},
		// Sign in with Apple answers by response_mode=form_post: a
		// cross-site POST, checked as the SAML ACS's is.
		{Method: http.MethodPost, Path: fed + federation.PathCallback, Handler: h.federationFormPost, CrossSite: true, Costly: true},
		{Method: http.MethodPost, Path: fed + federation.PathACS, Handler: h.samlACS, CrossSite: true, Costly: true},
		{Method: http.MethodGet, Path: fed + federation.PathContinue, Handler: h.federationContinue},
		{Method: http.MethodGet, Path: fed + federation.PathMetadata, Handler: h.samlMetadata},
	}
}

// Routes lists the routes of the pages, without their handlers, for tests
// that must cover every one of them.
func Routes() []web.Route {
	rs := (&Handler{}).routes()
	for i := range rs {
		rs[i].Handler = nil
	}
	return rs
}

// Register adds the pages to e behind mw, which must resolve the tenant.
func (h *Handler) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	h.site.Mount(e, append(h.routes(), h.site.LanguageRoutes()...), mw...)
}
