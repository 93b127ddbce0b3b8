package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

const pathFederated = "/login/federated"

// amrFederated says the user authenticated at an upstream provider; the ID
// token's idp claim names the connection.
const amrFederated = "fed"

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
		out[i] = views.ConnectionButton{ID: conn.ID, Name: conn.Name}
	}
	return out
}

func (h *Handler) fedContext(c echo.Context) *http.Request {
	r := c.Request()
	return r.WithContext(federation.WithRequestMeta(r.Context(), federation.RequestMeta{
		IP: c.RealIP(), UserAgent: r.UserAgent(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}))
}

// startFederated sends the browser to an upstream provider ("Continue with
// <name>"), for the auth request in the form.
func (h *Handler) startFederated(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.checkCSRF(c, t, sessionID(sess)); err != nil {
		return err
	}
	ar, err := h.loadRequest(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	return h.goUpstream(c, t, ar, c.FormValue("connection"), "")
}

// goUpstream starts a login at connection connID for ar.
func (h *Handler) goUpstream(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, connID, loginHint string) error {
	r := h.fedContext(c)
	step, err := h.fed.Start(r.Context(), connID, ar.ID, secret.Hash(browserID(c, t)), loginHint)
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.Page(http.StatusBadRequest, "Sign-in option not available", "This sign-in option does not exist or is switched off.")
	}
	if err != nil {
		return upstreamDown(err)
	}
	if step.PostURL != "" {
		return render(c, http.StatusOK, views.AutoPost(views.AutoPostView{Meta: meta(t, "Continue"), Action: step.PostURL, Fields: step.PostFields}))
	}
	return redirect(c, step.RedirectURL)
}

func upstreamDown(err error) error {
	return httperr.Page(http.StatusBadGateway, "The sign-in provider cannot be reached",
		"Try again in a moment, or sign in another way.").WithCause(err)
}

// federationCallback is where an OAuth/OpenID upstream redirects back.
func (h *Handler) federationCallback(c echo.Context) error {
	t, _, err := tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	r := h.fedContext(c)
	browser := secret.Hash(browserID(c, t))
	token, err := h.fed.Callback(r.Context(), c.Param("connection"), c.QueryParam("state"), browser, r)
	if err != nil {
		return rejected(err)
	}
	return h.finishFederated(c, t, token)
}

// samlACS is the SAML assertion consumer service (HTTP-POST binding). The
// IdP's cross-site POST carries none of our SameSite cookies: the answer is
// checked here, and the browser is checked on the same-site redirect that
// follows.
func (h *Handler) samlACS(c echo.Context) error {
	if _, _, err := tenant(c); err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	r := h.fedContext(c)
	connID := c.Param("connection")
	token, err := h.fed.Callback(r.Context(), connID, c.FormValue("RelayState"), "", r)
	if err != nil {
		return rejected(err)
	}
	return c.Redirect(http.StatusSeeOther, "/federation/"+url.PathEscape(connID)+"/continue?token="+url.QueryEscape(token))
}

// federationContinue finishes a SAML login in the browser that started it.
func (h *Handler) federationContinue(c echo.Context) error {
	t, _, err := tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	return h.finishFederated(c, t, c.QueryParam("token"))
}

// finishFederated turns a checked upstream answer into a session: the
// identity's user logs in (provisioned on first login), or, when it matches
// an account that must prove itself first, the login page asks for that.
func (h *Handler) finishFederated(c echo.Context, t *tenants.Tenant, token string) error {
	r := h.fedContext(c)
	ctx := r.Context()
	browser := browserID(c, t)
	conn, arID, ident, err := h.fed.Continue(ctx, token, secret.Hash(browser))
	if errors.Is(err, tenants.ErrNotFound) {
		return expired()
	}
	if err != nil {
		return rejected(err)
	}
	ar, err := h.loadRequest(c, t, arID)
	if err != nil {
		return err
	}
	out, err := h.fed.Resolve(ctx, conn, ident, secret.Hash(browser))
	if errors.Is(err, federation.ErrDisabled) {
		return httperr.Page(http.StatusForbidden, "Account disabled", "This account is disabled. Contact your administrator.")
	}
	if err != nil {
		return rejected(err)
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if out.LinkTo != nil {
		cl, err := h.provider.Client(ctx, ar.ClientID)
		if err != nil {
			return httperr.Internal(err)
		}
		return render(c, http.StatusOK, views.LoginPage(views.LoginView{
			Meta: meta(t, "Sign in"), RequestID: ar.ID, CSRF: h.csrfToken(t, ensureBrowser(c, t), sessionID(sess)),
			AppName: cl.Name, Email: out.LinkTo.Email, LinkToken: out.LinkToken,
			Notice: "An account with this email address already exists. Sign in to it to link your " + conn.Name + " login.",
		}))
	}
	return h.completeLogin(c, t, ar, out.User, firstFactor{amr: []string{amrFederated}, idp: conn.Name})
}

// rejected shows a refused upstream answer as a clear page.
func rejected(err error) error {
	var rej *federation.Rejection
	if errors.As(err, &rej) {
		return httperr.Page(http.StatusBadRequest, "Sign-in failed", "The sign-in provider's answer was refused: %s. Go back to the application and try again.", rej.Reason).WithCause(err)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.Page(http.StatusBadRequest, "Sign-in option not available", "This sign-in option does not exist.")
	}
	return httperr.Internal(err)
}

// samlMetadata publishes the SAML service provider's metadata of a
// connection, for the IdP's admin.
func (h *Handler) samlMetadata(c echo.Context) error {
	_, ctx, err := tenant(c)
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
