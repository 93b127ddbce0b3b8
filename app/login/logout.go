package login

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// logoutRequest is an RP-Initiated Logout 1.0 request, checked.
type logoutRequest struct {
	clientID, postLogout, state string
	// target is where the browser goes afterwards, "" for the signed-out
	// page.
	target string
	// hintSubject is the subject of a valid id_token_hint, "".
	hintSubject string
}

// parseLogout checks the parameters of a logout request: an id_token_hint
// must be one this tenant issued, and post_logout_redirect_uri one the
// client registered exactly.
func (h *Handler) parseLogout(c echo.Context, t *tenants.Tenant) (*logoutRequest, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, web.BadForm()
	}
	ctx := c.Request().Context()
	lr := &logoutRequest{clientID: form.Get("client_id"), postLogout: form.Get("post_logout_redirect_uri"), state: form.Get("state")}
	if hint := form.Get("id_token_hint"); hint != "" {
		claims, err := h.provider.VerifyIDTokenHint(ctx, hint)
		if err != nil {
			return nil, logoutError("The id_token_hint is not valid for %s.", t.DisplayName)
		}
		if lr.clientID != "" && claims.AuthorizedParty != "" && lr.clientID != claims.AuthorizedParty {
			return nil, logoutError("client_id does not match the id_token_hint.")
		}
		if lr.clientID == "" {
			lr.clientID = claims.AuthorizedParty
		}
		lr.hintSubject = claims.Subject
	}
	if lr.postLogout != "" {
		if lr.clientID == "" {
			return nil, logoutError("post_logout_redirect_uri needs client_id or id_token_hint.")
		}
		cl, err := h.provider.Client(ctx, lr.clientID)
		if err != nil || !slices.Contains(cl.PostLogoutRedirectURIs, lr.postLogout) {
			return nil, logoutError("The post_logout_redirect_uri is not registered for this application.")
		}
		lr.target = lr.postLogout
		if lr.state != "" {
			if lr.target, err = httperr.Location(lr.postLogout, map[string][]string{"state": {lr.state}}); err != nil {
				return nil, httperr.Internal(err)
			}
		}
	}
	return lr, nil
}

// endSession is RP-Initiated Logout 1.0 (GET or POST, which other sites
// send). With an id_token_hint for the signed-in user the session ends at
// once; otherwise the user confirms on a form of ours (confirmLogout).
// Afterwards the browser goes to post_logout_redirect_uri (with state) if
// the client registered it exactly, or sees a signed-out page.
func (h *Handler) endSession(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	lr, err := h.parseLogout(c, t)
	if err != nil {
		return err
	}
	sess, err := h.site.Session(c)
	if err != nil {
		return httperr.Internal(err)
	}
	if sess != nil && (lr.hintSubject == "" || lr.hintSubject != sess.UserID) {
		user, err := h.store.UserByID(ctx, sess.UserID)
		if err != nil {
			return httperr.Internal(err)
		}
		return web.Render(c, http.StatusOK, views.LogoutPage(views.LogoutView{
			Meta:                  web.Meta(t, "logout.title"),
			CSRF:                  h.site.CSRF(c, t),
			UserEmail:             displayName(user),
			ClientID:              lr.clientID,
			PostLogoutRedirectURI: lr.postLogout,
			State:                 lr.state,
		}))
	}
	return h.signOut(c, t, lr)
}

// confirmLogout ends the session after the user confirmed on the logout
// page (the route table checked its anti-CSRF token).
func (h *Handler) confirmLogout(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	lr, err := h.parseLogout(c, t)
	if err != nil {
		return err
	}
	return h.signOut(c, t, lr)
}

// signOut ends the browser's session. The applications it signed in to
// that take part in front-channel logout (SAML Single Logout) get their
// logout messages in frames of the signed-out page, which then offers the
// way on to post_logout_redirect_uri instead of redirecting at once.
func (h *Handler) signOut(c echo.Context, t *tenants.Tenant, lr *logoutRequest) error {
	var frames []views.LogoutFrame
	if h.logouts != nil {
		sess, err := h.site.Session(c)
		if err != nil {
			return httperr.Internal(err)
		}
		if sess != nil {
			if frames, err = h.logouts(c.Request().Context(), t, sess); err != nil {
				return httperr.Internal(err)
			}
		}
	}
	if err := h.site.SignOut(c, t); err != nil {
		return httperr.Internal(err)
	}
	if lr.target != "" && len(frames) == 0 {
		return web.Redirect(c, lr.target)
	}
	if len(frames) > 0 {
		var uris []string
		for _, f := range frames {
			uris = append(uris, f.URL+f.Action)
		}
		web.AllowFrames(c, uris)
	}
	return web.Render(c, http.StatusOK, views.SignedOutPage(views.SignedOutView{Meta: web.Meta(t, "logout.done_title"), Frames: frames, Continue: lr.target}))
}

func logoutError(format string, args ...any) error {
	return httperr.Page(http.StatusBadRequest, "This sign-out request is not valid", format, args...)
}
