package login

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The account pages let a signed-in user see their account. Signing in to
// them is a real authorization code flow of the tenant's internal
// "account" client, so it goes through the same login page, protections
// and session as any application.
const (
	pathAccount     = "/account"
	accountClientID = "gatehouse-account"
)

// accountClient returns the tenant's internal account client, making it on
// first use.
func (h *Handler) accountClient(c echo.Context, t *tenants.Tenant) error {
	ctx := c.Request().Context()
	_, err := h.store.ClientByClientID(ctx, accountClientID)
	if !errors.Is(err, tenants.ErrNotFound) {
		return err
	}
	cl := &tenants.Client{ClientID: accountClientID, Name: "Your account", ApplicationType: tenants.AppTypeWeb,
		TokenEndpointAuthMethod: tenants.AuthMethodNone, RedirectURIs: tenants.Strings{t.Issuer + pathAccount + "/callback"},
		GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}, Internal: true}
	if err := h.store.CreateClient(ctx, cl, nil); err != nil && !errors.Is(err, tenants.ErrAlreadyExists) {
		return err
	}
	return nil
}

// account shows the account page, or starts a sign-in when there is no
// session.
func (h *Handler) account(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if sess == nil {
		if err := h.accountClient(c, t); err != nil {
			return httperr.Internal(err)
		}
		cfg := oauth2.Config{ClientID: accountClientID, RedirectURL: t.Issuer + pathAccount + "/callback",
			Endpoint: oauth2.Endpoint{AuthURL: t.Issuer + "/authorize"}, Scopes: []string{"openid"}}
		return redirect(c, cfg.AuthCodeURL("account", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return httperr.Internal(err)
	}
	return h.renderAccount(c, t, sess, u, accountFlash[c.QueryParam("done")], accountFlash[c.QueryParam("error")], http.StatusOK)
}

var accountFlash = map[string]string{
	"unlinked":        "The sign-in method was unlinked.",
	"last-login":      "This is the only way you can sign in: it cannot be unlinked.",
	"profile":         "Your profile was saved.",
	"password":        "Your password was changed. Your other sessions were signed out.",
	"email-sent":      "We sent a confirmation link to the new address. Your address changes when you open it.",
	"verify-sent":     "If your address still needs confirming, we sent a new link to it.",
	"mfa-added":       "The authenticator app was added.",
	accountPasskeyOK:  "The passkey was added.",
	accountPasskeyNo:  "The passkey could not be added. Try again.",
	accountConfirmNo:  "The password or code was not right. Nothing was changed.",
	"mfa-removed":     "The method was removed.",
	"mfa-removed-req": "The method was removed. You will be asked to set up another one at your next sign-in.",
	"session-revoked": "That session was signed out.",
	"app-revoked":     "The application no longer has access to your account.",
}

// accountCallback ends the account page's sign-in: the login already made
// the session, so the code is not needed.
func (h *Handler) accountCallback(c echo.Context) error {
	if e := c.QueryParam("error"); e != "" {
		return httperr.Page(http.StatusBadRequest, "Sign-in did not complete", "Sign-in to your account did not complete (%s).", e)
	}
	return c.Redirect(http.StatusFound, pathAccount)
}

// unlinkIdentity removes an upstream login from the signed-in user.
func (h *Handler) unlinkIdentity(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if sess == nil {
		return redirect(c, pathAccount)
	}
	if err := h.checkCSRF(c, t, sess.ID); err != nil {
		return err
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	err = h.fed.Unlink(h.fedContext(c).Context(), sess.UserID, c.Param("identity"))
	switch {
	case errors.Is(err, federation.ErrLastLogin):
		return redirect(c, pathAccount+"?error=last-login")
	case errors.Is(err, tenants.ErrNotFound):
		return httperr.NotFound()
	case err != nil:
		return httperr.Internal(err)
	}
	return redirect(c, pathAccount+"?done=unlinked")
}
