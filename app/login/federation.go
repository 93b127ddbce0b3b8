package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

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
	res, err := h.fed.Callback(r.Context(), c.Param("connection"), c.QueryParam("state"), browser, r)
	if err != nil {
		return rejected(err)
	}
	// A redirect back always answers a login of ours; an unsolicited
	// result (res.Binding) would fail closed in Continue, given no binding.
	return h.finishFederated(c, t, res.Token)
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
	t, _, err := tenant(c)
	if err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	r := h.fedContext(c)
	connID := c.Param("connection")
	res, err := h.fed.Callback(r.Context(), connID, c.FormValue("RelayState"), "", r)
	if err != nil {
		return rejected(err)
	}
	if res.Binding != "" {
		setCookie(c, t, unsolicitedCookieName, res.Binding, int(federation.UnsolicitedTTL.Seconds()))
	}
	return c.Redirect(http.StatusSeeOther, "/federation/"+url.PathEscape(connID)+"/continue?token="+url.QueryEscape(res.Token))
}

// unsolicitedCookieName is the cookie that binds an unsolicited SAML
// answer's result to the browser that posted it, from the ACS to continue.
const unsolicitedCookieName = "gh_saml_unsolicited"

// federationContinue finishes a SAML login in the browser that started it
// (or, for an IdP-initiated login, that posted the answer).
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
	binding := ""
	if vs := cookieValues(c, cookieName(t, unsolicitedCookieName)); len(vs) > 0 {
		binding = secret.Hash(vs[0])
		setCookie(c, t, unsolicitedCookieName, "", -1)
	}
	conn, arID, ident, err := h.fed.Continue(ctx, token, secret.Hash(browserID(c, t)), binding)
	if errors.Is(err, tenants.ErrNotFound) {
		return expired()
	}
	if err != nil {
		return rejected(err)
	}
	var ar *tenants.AuthRequest
	if arID == "" {
		ar, err = h.idpInitiatedRequest(c, t)
	} else {
		ar, err = h.loadRequest(c, t, arID)
	}
	if err != nil {
		return err
	}
	browser := browserID(c, t)
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

// stateIDPInitiated begins the state of the auth request an IdP-initiated
// login completes (idpInitiatedRequest).
const stateIDPInitiated = "idp-initiated."

// idpInitiatedRequest makes the auth request that an IdP-initiated SAML
// login completes, in this browser. Such a login answers no authorization
// request: it signs the user in to the tenant's account pages, through the
// same authorization code flow of the internal account client that the
// account page starts (accountCallback ends it on /account; the code is not
// redeemed: the login made the session). So the login goes through the
// same steps as any other (MFA by the tenant's policy, account linking,
// establish's session and audit event) and lands on /account, a fixed
// address on the tenant's host. The IdP's RelayState is never used as the
// destination. Its state marks it, under a MAC (loginReason).
func (h *Handler) idpInitiatedRequest(c echo.Context, t *tenants.Tenant) (*tenants.AuthRequest, error) {
	ctx := c.Request().Context()
	if err := h.accountClient(c, t); err != nil {
		return nil, httperr.Internal(err)
	}
	browserHash := secret.Hash(ensureBrowser(c, t))
	form := url.Values{
		"client_id":     {accountClientID},
		"redirect_uri":  {t.Issuer + pathAccount + "/callback"},
		"response_type": {"code"},
		"scope":         {"openid"},
		"state":         {h.idpInitiatedState(t, browserHash)},
		// PKCE is required of every client; nobody keeps the verifier, as
		// nobody redeems the code.
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	return h.provider.Authorize(ctx, form, browserHash)
}

// idpInitiatedState is the state of the auth request of an IdP-initiated
// login in the browser whose cookie hashes to browserHash: a MAC, so that
// no authorization request sent from outside passes for one.
func (h *Handler) idpInitiatedState(t *tenants.Tenant, browserHash string) string {
	return stateIDPInitiated + secret.MAC(h.csrfKey, "idp-initiated", t.ID, browserHash)
}

// loginReason is the audit reason of a login that completes ar: an
// IdP-initiated SAML login says so; others have none.
func (h *Handler) loginReason(t *tenants.Tenant, ar *tenants.AuthRequest, ff firstFactor) string {
	if ff.idp != "" && ar.ClientID == accountClientID && strings.HasPrefix(ar.State, stateIDPInitiated) &&
		secret.Equal(ar.State, h.idpInitiatedState(t, ar.BrowserHash)) {
		return "IdP-initiated SAML login (unsolicited response) via " + ff.idp
	}
	return ""
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
