package login

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// authorize is the authorization endpoint (RFC 6749 §3.1, OIDC Core
// §3.1.2), GET or POST. It validates the request and binds it to this
// browser (package oidc), then answers at once when the browser's session
// satisfies it and consent was given — one redirect back to the client,
// one database write — or stores it and sends the browser to the login or
// consent page. With prompt=none it never shows
// a page (OIDC Core §3.1.2.6): login_required without a usable session,
// interaction_required when the session must step up, consent_required.
func (h *Handler) authorize(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return web.BadForm()
	}
	if c.Request().Method == http.MethodPost {
		// An authorization request POSTed as a form carries its
		// parameters in the body only (OIDC Core §3.1.2.1).
		form = c.Request().PostForm
	}
	browser := web.EnsureBrowser(c, t)
	ar, err := h.provider.Authorize(ctx, form, secret.Hash(browser))
	if err != nil {
		return err
	}
	none := slices.Contains(ar.Prompt, authn.PromptNone)
	sess, err := h.site.Session(c)
	if err != nil {
		return httperr.Internal(err)
	}
	verdict, err := h.judge(c, t, sess, ar)
	if err != nil {
		return err
	}
	switch verdict {
	case authn.Satisfied:
	case authn.InteractionRequired:
		return h.provider.Fail(ctx, ar, httperr.InteractionRequired, "the session must be confirmed with a second factor")
	case authn.LoginRequired:
		return h.provider.Fail(ctx, ar, httperr.LoginRequired, "the user must sign in")
	default:
		if err := h.provider.Save(ctx, ar); err != nil {
			return err
		}
		return web.Redirect(c, web.PathLogin+"?id="+url.QueryEscape(ar.ID))
	}
	h.provider.SignedIn(ar, fromSession(sess))
	needed, err := h.scopesToConsent(ctx, ar)
	if err != nil {
		return err
	}
	if len(needed) > 0 {
		if none {
			return h.provider.Fail(ctx, ar, httperr.ConsentRequired, "the user must consent")
		}
		if err := h.provider.Save(ctx, ar); err != nil {
			return err
		}
		return web.Redirect(c, web.PathConsent+"?id="+url.QueryEscape(ar.ID))
	}
	// Signed in, consent given: the request is stored completed, with its
	// code, in one write, and the browser goes straight back.
	loc, err := h.provider.CompleteSignedIn(ctx, ar)
	if err != nil {
		return err
	}
	return web.Deliver(c, web.Meta(t, "autopost.title"), loc)
}
