package account

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/mfa"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/mail"
	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// SignIn goes on with a sign-in whose first factor these pages proved (a
// sign-up confirmed in the browser that started it): package login's.
type SignIn interface {
	Continue(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, first authn.Proof) error
}

// Handler serves the account pages of every tenant.
type Handler struct {
	site     *web.Site
	store    *tenants.Store
	provider *oidc.Provider
	fed      *federation.Service
	hasher   *password.Hasher
	common   *password.Common
	mail     mail.Sender
	throttle *authn.Throttle
	factors  *mfa.Factors
	passkeys *passkey.Passkeys
	login    SignIn
}

// Deps are what a Handler is built from. Mail nil means the service sends
// no email: sign-up, verification, reset and a change of address are then
// unavailable.
type Deps struct {
	Site       *web.Site
	Provider   *oidc.Provider
	Federation *federation.Service
	Hasher     *password.Hasher
	Common     *password.Common
	Mail       mail.Sender
	Throttle   *authn.Throttle
	Factors    *mfa.Factors
	Passkeys   *passkey.Passkeys
	SignIn     SignIn
}

// New returns a Handler.
func New(d Deps) *Handler {
	return &Handler{site: d.Site, store: d.Site.Store(), provider: d.Provider, fed: d.Federation, hasher: d.Hasher, common: d.Common,
		mail: d.Mail, throttle: d.Throttle, factors: d.Factors, passkeys: d.Passkeys, login: d.SignIn}
}

// routes lists the account pages and endpoints: Register mounts them, and
// tests walk every one (CSRF, same origin, another tenant's ids). Every
// POST is a form of these pages.
func (h *Handler) routes() []web.Route {
	a := web.PathAccount
	return []web.Route{
		{Method: http.MethodGet, Path: a, Handler: h.account},
		{Method: http.MethodPost, Path: web.PathAccountReauth, Handler: h.reauthenticate},
		{Method: http.MethodPost, Path: a + "/profile", Handler: h.updateProfile},
		{Method: http.MethodPost, Path: a + "/metadata", Handler: h.updateMetadata},
		{Method: http.MethodPost, Path: web.PathAccountLanguage, Handler: h.changeLanguage},
		{Method: http.MethodPost, Path: a + "/password", Handler: h.changePassword},
		{Method: http.MethodPost, Path: a + "/email", Handler: h.changeEmail},
		{Method: http.MethodPost, Path: a + "/email/verify", Handler: h.resendOwnVerification},
		{Method: http.MethodGet, Path: a + "/email/confirm", Handler: h.confirmEmailChange},
		{Method: http.MethodGet, Path: web.PathAccountTOTP, Handler: h.showTOTP},
		{Method: http.MethodPost, Path: web.PathAccountTOTP, Handler: h.submitTOTP},
		{Method: http.MethodPost, Path: a + "/mfa/recovery", Handler: h.regenerateRecoveryCodes},
		{Method: http.MethodPost, Path: a + "/mfa/:factor/remove", Handler: h.removeFactor},
		{Method: http.MethodGet, Path: web.PathAccountWebAuthn + web.OptionsSuffix, Handler: h.webAuthnOptions, SameSiteOnly: true},
		{Method: http.MethodPost, Path: web.PathAccountWebAuthn, Handler: h.submitWebAuthn},
		{Method: http.MethodPost, Path: a + "/sessions/:session/revoke", Handler: h.revokeSession},
		{Method: http.MethodPost, Path: a + "/apps/:client/revoke", Handler: h.revokeApp},
		{Method: http.MethodPost, Path: a + "/identities/:identity/unlink", Handler: h.unlinkIdentity},

		{Method: http.MethodGet, Path: web.PathSignup, Handler: h.showSignup},
		{Method: http.MethodPost, Path: web.PathSignup, Handler: h.submitSignup, Costly: true},
		{Method: http.MethodGet, Path: web.PathVerify, Handler: h.verifyEmail},
		{Method: http.MethodGet, Path: web.PathResend, Handler: h.showResend},
		{Method: http.MethodPost, Path: web.PathResend, Handler: h.submitResend, Costly: true},
		{Method: http.MethodGet, Path: web.PathReset, Handler: h.showReset},
		{Method: http.MethodPost, Path: web.PathReset, Handler: h.submitReset, Costly: true},
		{Method: http.MethodGet, Path: web.PathResetConfirm, Handler: h.showResetConfirm},
		{Method: http.MethodPost, Path: web.PathResetConfirm, Handler: h.submitResetConfirm, Costly: true},
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
	h.site.Mount(e, h.routes(), mw...)
}
