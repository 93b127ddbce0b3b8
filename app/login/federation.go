package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// connectionButtons lists the tenant's enabled connections for the login page.
func (h *Handler) connectionButtons(c echo.Context) []views.ConnectionButton {
	if h.fed == nil {
		return nil
	}
	cs, err := h.fed.Enabled(c.Request().Context())
	if err != nil {
		return nil
	}
	out := make([]views.ConnectionButton, len(cs))
	for i, conn := range cs {
		out[i] = views.ConnectionButton{ID: conn.ID, Name: conn.Name, Logo: providerLogo(conn.Type, conn.Issuer)}
	}
	return out
}

// logoIssuers are the OpenID providers whose logo a generic OpenID
// Connect connection gets, by its issuer's host.
var logoIssuers = map[string]string{
	"appleid.apple.com":         views.LogoApple,
	"accounts.google.com":       views.LogoGoogle,
	"login.microsoftonline.com": views.LogoMicrosoft,
	"github.com":                views.LogoGitHub,
}

// providerLogo is the logo of a connection's button: its type's, or for
// an OpenID Connect connection its issuer's when that is a provider with
// a logo ("" for none).
func providerLogo(typ, issuer string) string {
	switch typ {
	case tenants.ConnectionGoogle:
		return views.LogoGoogle
	case tenants.ConnectionGitHub:
		return views.LogoGitHub
	case tenants.ConnectionMicrosoft:
		return views.LogoMicrosoft
	case tenants.ConnectionApple:
		return views.LogoApple
	case tenants.ConnectionOIDC:
		if u, err := url.Parse(issuer); err == nil && u.Scheme == "https" {
			return logoIssuers[strings.ToLower(u.Hostname())]
		}
	}
	return ""
}

// startFederated sends the browser to an upstream provider ("Continue with
// <name>"), for the auth request in the form.
func (h *Handler) startFederated(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	ar, err := h.request(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	return h.goUpstream(c, t, ar, c.FormValue("connection"), "")
}

// goUpstream starts a login at connection connID for ar.
func (h *Handler) goUpstream(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, connID, loginHint string) error {
	step, err := h.fed.Start(c.Request().Context(), connID, ar.ID, web.BrowserHash(c, t), loginHint)
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.Page(http.StatusBadRequest, "Sign-in option not available", "This sign-in option does not exist or is switched off.")
	}
	if err != nil {
		return upstreamDown(err)
	}
	if step.PostURL != "" {
		return web.Render(c, http.StatusOK, views.AutoPost(views.AutoPostView{Meta: web.Meta(t, "autopost.title"), Action: step.PostURL, Fields: step.PostFields}))
	}
	return web.Redirect(c, step.RedirectURL)
}

func upstreamDown(err error) error {
	return httperr.Page(http.StatusBadGateway, "The sign-in provider cannot be reached",
		"Try again in a moment, or sign in another way.").WithCause(err)
}

// federationCallback is where an OAuth/OpenID upstream redirects back.
func (h *Handler) federationCallback(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	browser := web.BrowserHash(c, t)
	if browser == "" {
		// A redirect back always answers a login started in a browser
		// with our cookie; one without it answers none of ours.
		browser = secret.Hash("no browser cookie")
	}
	res, err := h.fed.Callback(ctx, c.Param("connection"), c.QueryParam("state"), browser, c.Request())
	if err != nil {
		return rejected(err)
	}
	return h.finishFederated(c, t, c.Param("connection"), res.Token)
}

// federationFormPost is where an upstream that answers with
// response_mode=form_post (Sign in with Apple) posts back. Like the SAML
// ACS's, the cross-site POST carries none of our SameSite=Lax cookies: the
// state is checked here (single use, this connection's, unexpired) and
// the browser on the same-site redirect that follows, which must be the
// one the state was bound to.
func (h *Handler) federationFormPost(c echo.Context) error {
	_, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	connID := c.Param("connection")
	res, err := h.fed.Callback(ctx, connID, c.FormValue("state"), "", c.Request())
	if err != nil {
		return rejected(err)
	}
	if res.Binding != "" {
		// Only SAML takes unsolicited answers; none comes here.
		return httperr.Internal(errors.New("login: an unsolicited answer at a form_post callback"))
	}
	return c.Redirect(http.StatusSeeOther, federation.PathPrefix+url.PathEscape(connID)+federation.PathContinue+"?token="+url.QueryEscape(res.Token))
}

// samlACS is the SAML assertion consumer service (HTTP-POST binding). The
// IdP's cross-site POST carries none of our SameSite cookies: the answer is
// checked here, and the browser is checked on the same-site redirect that
// follows.
//
// An unsolicited answer (IdP-initiated login, when the connection allows
// it) started in no browser of ours: its result is bound instead to the
// browser that posts it, by a short-lived cookie set on this response (a
// cookie may be set on the response to a cross-site top-level POST; it is
// only not sent with one), and checked on the same redirect. Its
// RelayState is ignored: it is never a place to send the browser (an open
// redirect, and a way to aim a signed-in browser anywhere).
func (h *Handler) samlACS(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	connID := c.Param("connection")
	res, err := h.fed.Callback(ctx, connID, c.FormValue("RelayState"), "", c.Request())
	if err != nil {
		return rejected(err)
	}
	if res.Binding != "" {
		web.SetCookie(c, t, web.UnsolicitedCookie, res.Binding, int(federation.UnsolicitedTTL.Seconds()))
	}
	return c.Redirect(http.StatusSeeOther, federation.PathPrefix+url.PathEscape(connID)+federation.PathContinue+"?token="+url.QueryEscape(res.Token))
}

// federationContinue finishes a SAML login in the browser that started it
// (or, for an IdP-initiated login, that posted the answer).
func (h *Handler) federationContinue(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	return h.finishFederated(c, t, c.Param("connection"), c.QueryParam("token"))
}

// finishFederated turns a checked upstream answer into a sign-in: the
// identity's user signs in (provisioned on first login when the
// connection may create users), or, when a vouched-for address matches an
// account that must prove itself first, the login page asks for that.
func (h *Handler) finishFederated(c echo.Context, t *tenants.Tenant, connID, token string) error {
	ctx := c.Request().Context()
	binding := ""
	if vs := web.CookieValues(c, t, web.UnsolicitedCookie); len(vs) > 0 {
		binding = secret.Hash(vs[0])
		web.SetCookie(c, t, web.UnsolicitedCookie, "", -1)
	}
	conn, arID, ident, err := h.fed.Continue(ctx, connID, token, web.BrowserHash(c, t), binding)
	if errors.Is(err, federation.ErrExpired) {
		return expired()
	}
	if err != nil {
		return rejected(err)
	}
	var ar *tenants.AuthRequest
	if arID == "" {
		// An IdP-initiated login answers no request: it signs the user
		// in to the tenant's account pages, a fixed place on the
		// tenant's host, through the same steps as any sign-in.
		ar, err = h.provider.Begin(ctx, oidc.Intent{Kind: tenants.IntentIdPInitiated, ReturnTo: web.PathAccount},
			secret.Hash(web.EnsureBrowser(c, t)))
	} else {
		ar, err = h.request(c, t, arID)
	}
	if err != nil {
		return err
	}
	out, err := h.fed.Resolve(ctx, conn, ident, web.BrowserHash(c, t))
	switch {
	case errors.Is(err, federation.ErrDisabled):
		return httperr.Page(http.StatusForbidden, "Account disabled", "This account is disabled. Contact your administrator.")
	case errors.Is(err, federation.ErrNoAccount):
		return httperr.Page(http.StatusForbidden, "No account for this sign-in",
			"There is no account here for your %s sign-in, and new accounts cannot be created with it. Ask your administrator for access, or sign in another way.", conn.Name)
	case err != nil:
		return rejected(err)
	}
	if out.LinkTo != nil {
		v, err := h.loginView(c, t, ar)
		if err != nil {
			return err
		}
		v.Email, v.LinkToken = out.LinkTo.Email, out.LinkToken
		v.Notice = web.T(c, "login.link_notice", "Connection", conn.Name)
		return web.Render(c, http.StatusOK, views.LoginPage(v))
	}
	return h.Continue(c, t, ar, out.User, authn.Proof{AMR: []string{authn.AMRFederated}, IDP: conn.Name})
}

// rejected shows a refused upstream answer as a clear page.
func rejected(err error) error {
	var rej *federation.Rejection
	if errors.As(err, &rej) {
		return httperr.Page(http.StatusBadRequest, "Sign-in failed", "The sign-in provider's answer was refused: %s. Go back to the application and try again.", rej.Reason).WithCause(err)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		// A connection of another tenant answers as one that never existed.
		return httperr.Page(http.StatusNotFound, "Sign-in option not available", "This sign-in option does not exist.")
	}
	return httperr.Internal(err)
}

// samlMetadata publishes the SAML service provider's metadata of a
// connection, for the IdP's admin.
func (h *Handler) samlMetadata(c echo.Context) error {
	_, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	b, err := h.fed.Metadata(ctx, c.Param("connection"))
	if err != nil {
		if errors.Is(err, tenants.ErrNotFound) {
			return httperr.NotFound()
		}
		return httperr.Internal(err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/samlmetadata+xml", b)
}
