package login

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// endSession is RP-Initiated Logout 1.0 (GET or POST). With an
// id_token_hint for the signed-in user the session ends at once; otherwise
// the user confirms with a CSRF-protected form. Afterwards the browser goes
// to post_logout_redirect_uri (with state) if the client registered it
// exactly, or sees a signed-out page.
func (h *Handler) endSession(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return badForm()
	}
	hintToken, clientID := form.Get("id_token_hint"), form.Get("client_id")
	postLogout, state := form.Get("post_logout_redirect_uri"), form.Get("state")
	hintSubject := ""
	if hintToken != "" {
		hint, err := h.provider.VerifyIDTokenHint(ctx, hintToken)
		if err != nil {
			return logoutError("The id_token_hint is not valid for %s.", t.DisplayName)
		}
		if clientID != "" && hint.AuthorizedParty != "" && clientID != hint.AuthorizedParty {
			return logoutError("client_id does not match the id_token_hint.")
		}
		if clientID == "" {
			clientID = hint.AuthorizedParty
		}
		hintSubject = hint.Subject
	}
	target := ""
	if postLogout != "" {
		if clientID == "" {
			return logoutError("post_logout_redirect_uri needs client_id or id_token_hint.")
		}
		cl, err := h.provider.Client(ctx, clientID)
		if err != nil || !slices.Contains(cl.PostLogoutRedirectURIs, postLogout) {
			return logoutError("The post_logout_redirect_uri is not registered for this application.")
		}
		target = postLogout
		if state != "" {
			if target, err = httperr.Location(postLogout, map[string][]string{"state": {state}}); err != nil {
				return httperr.Internal(err)
			}
		}
	}

	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	confirmed := c.Request().Method == http.MethodPost && c.FormValue("confirm") == "yes"
	if confirmed {
		if err := h.checkCSRF(c, t, sessionID(sess)); err != nil {
			return err
		}
	}
	if sess != nil && !confirmed && (hintSubject == "" || hintSubject != sess.UserID) {
		user, err := h.store.UserByID(ctx, sess.UserID)
		if err != nil {
			return httperr.Internal(err)
		}
		return render(c, http.StatusOK, views.LogoutPage(views.LogoutView{
			Meta:                  meta(t, "Sign out"),
			CSRF:                  h.csrfToken(t, ensureBrowser(c, t), sess.ID),
			UserEmail:             user.Email,
			ClientID:              clientID,
			PostLogoutRedirectURI: postLogout,
			State:                 state,
		}))
	}
	if err := h.endSessions(c, ctx, t); err != nil {
		return httperr.Internal(err)
	}
	if target != "" {
		return redirect(c, target)
	}
	return render(c, http.StatusOK, views.SignedOutPage(views.SignedOutView{Meta: meta(t, "Signed out")}))
}

func logoutError(format string, args ...any) error {
	return httperr.Page(http.StatusBadRequest, "This sign-out request is not valid", format, args...)
}
