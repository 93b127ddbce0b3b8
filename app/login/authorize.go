package login

import (
	"errors"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// authorize is the authorization endpoint (RFC 6749 §3.1, OIDC Core
// §3.1.2), GET or POST. It validates the request, binds it to this browser
// and sends the browser to the login page; with prompt=none it answers at
// once from the session.
func (h *Handler) authorize(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return badForm()
	}
	if c.Request().Method == "POST" {
		// An authorization request POSTed as a form carries its
		// parameters in the body only (OIDC Core §3.1.2.1).
		form = c.Request().PostForm
	}
	browser := ensureBrowser(c, t)
	ar, err := h.provider.Authorize(ctx, form, secret.Hash(browser))
	if err != nil {
		return err
	}
	if !slices.Contains(ar.Prompt, oidc.PromptNone) {
		return redirect(c, oidc.PathLogin+"?id="+url.QueryEscape(ar.ID))
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if !satisfies(sess, ar, h.now()) {
		return h.provider.Fail(ctx, ar, httperr.LoginRequired, "the user must sign in")
	}
	if err := h.store.SetAuthenticated(ctx, ar.ID, fromSession(sess)); err != nil {
		return httperr.Internal(err)
	}
	ar.UserID = sess.UserID
	needed, err := h.scopesToConsent(ctx, ar)
	if err != nil {
		return err
	}
	if len(needed) > 0 {
		return h.provider.Fail(ctx, ar, httperr.ConsentRequired, "the user must consent")
	}
	loc, err := h.provider.Complete(ctx, ar)
	if err != nil {
		return err
	}
	return redirect(c, loc)
}

func badForm() error {
	return httperr.Page(400, "This request is not valid", "The request could not be read.")
}

// loadRequest returns the auth request named by the form's id, refusing it
// to any browser but the one that started it.
func (h *Handler) loadRequest(c echo.Context, t *tenants.Tenant, id string) (*tenants.AuthRequest, error) {
	ctx := c.Request().Context()
	if id == "" || len(id) > 64 {
		return nil, expired()
	}
	ar, err := h.store.AuthRequestByID(ctx, id)
	if err != nil {
		if errors.Is(err, tenants.ErrNotFound) {
			return nil, expired()
		}
		return nil, httperr.Internal(err)
	}
	browser := browserID(c, t)
	if browser == "" || !secret.Equal(secret.Hash(browser), ar.BrowserHash) {
		return nil, httperr.Page(400, "Sign-in started in another browser",
			"This sign-in link belongs to another browser or window. Go back to the application and sign in again from here.")
	}
	if ar.CodeHash != nil {
		return nil, httperr.Page(400, "This sign-in was already completed", "Go back to the application and sign in again.")
	}
	return ar, nil
}

func expired() error {
	return httperr.Page(400, "This sign-in has expired", "Sign-in requests are valid for a few minutes. Go back to the application and sign in again.")
}
