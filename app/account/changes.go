package account

import (
	"errors"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// updateProfile saves the signed-in user's name fields (the OIDC profile
// claims name, given_name and family_name). Not a sensitive change: it
// needs no confirmation.
func (h *Handler) updateProfile(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	name := strings.TrimSpace(c.FormValue("name"))
	given := strings.TrimSpace(c.FormValue("given_name"))
	family := strings.TrimSpace(c.FormValue("family_name"))
	for _, v := range []string{name, given, family} {
		if msg := checkName(v); msg != "" {
			return h.badForm(c, a, msg)
		}
	}
	a.u.Name, a.u.GivenName, a.u.FamilyName = name, given, family
	// The profile only: metadata left as the store has it (an
	// administrator may have changed it since this request read it).
	profile := *a.u
	profile.UserMetadata, profile.AppMetadata = "", ""
	if err := h.store.UpdateUserProfile(a.ctx, &profile); err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "profile.updated", "success", "")
	return web.Redirect(c, web.PathAccount+"?done=profile")
}

// checkName returns what is wrong with a name typed in a form, or "".
func checkName(name string) string {
	if len(name) > 200 {
		return "account.err_name_long"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "account.err_name_control"
		}
	}
	return ""
}

// validationMessage is the words of a validation error, for the form, in
// the page's language when the error has them.
func validationMessage(c echo.Context, err error) string {
	var v *tenants.ValidationError
	if errors.As(err, &v) {
		if v.Words != "" {
			return views.N(c.Request().Context(), v.Words, v.Count)
		}
		return v.Message
	}
	return "account.err_check"
}

// changePassword changes the signed-in user's password, given the current
// one (which is the confirmation). The change ends every session and token
// family of the account (other browsers sign in again) and, for this
// browser, starts a session under a new id (no session fixation) of the
// same sign-in, with what the old one proved.
func (h *Handler) changePassword(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if a.u.PasswordHash == "" {
		return h.badForm(c, a, `You sign in without a password. To set one, use "Forgot your password?" on the sign-in page.`)
	}
	if err := h.confirm(c, a, c.FormValue("current_password"), false); err != nil {
		return h.unconfirmed(c, a, err, "account.err_current_password")
	}
	next := c.FormValue("new_password")
	if err := a.t.CheckPassword(h.common, next, a.u.Email); err != nil {
		return h.badForm(c, a, validationMessage(c, err))
	}
	hash, err := h.hasher.Hash(a.ctx, next)
	if err != nil {
		return err
	}
	if err := h.store.ChangePassword(a.ctx, a.u.ID, hash); err != nil {
		return httperr.Internal(err)
	}
	if _, err := h.site.StartSession(c, a.t, tenants.Authentication{UserID: a.u.ID, AMR: a.sess.AMR, IDP: a.sess.IDP, ACR: a.sess.ACR}, a.sess.SignInID); err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "password.changed", "success", "")
	h.sendMail(a.ctx, a.t, a.u, a.u.Email, passwordChangedMail(h.mailLanguage(c, a.u), tenantLink(a.t, web.PathReset, nil)))
	return web.Redirect(c, web.PathAccount+"?done=password")
}

// revokeSession signs one of the user's other sessions out (this one signs
// out at /logout): a sensitive change, since a stolen session could sign
// its owner out everywhere.
func (h *Handler) revokeSession(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	sessions, err := h.store.ListSessions(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	handle := c.Param("session")
	for _, s := range sessions {
		if s.ID == a.sess.ID || h.sessionHandle(a.t, s.ID) != handle {
			continue
		}
		if err := h.confirmed(c, a); err != nil {
			return h.unconfirmed(c, a, err, errConfirm)
		}
		err := h.store.DeleteUserSession(a.ctx, a.u.ID, s.ID)
		if err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return httperr.Internal(err)
		}
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "session.revoked", "success", "by the user")
		return web.Redirect(c, web.PathAccount+"?done=session-revoked")
	}
	return httperr.NotFound()
}

// revokeApp removes an application's access: the user's consent to it and
// every token family it holds for the user (its refresh tokens stop
// working at once). Taking access away needs no confirmation.
func (h *Handler) revokeApp(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	clientID := c.Param("client")
	err = h.store.RevokeConsent(a.ctx, a.u.ID, clientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.NotFound()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "consent.revoked", "success", "client "+tenants.Truncate(clientID, 100))
	return web.Redirect(c, web.PathAccount+"?done=app-revoked")
}

// unlinkIdentity removes an upstream login from the signed-in user, after
// a confirmation, unless it is their last way in.
func (h *Handler) unlinkIdentity(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if h.fed == nil {
		return httperr.NotFound()
	}
	id := c.Param("identity")
	xs, err := h.fed.Identities(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	found := false
	for _, x := range xs {
		found = found || x.ID == id
	}
	if !found {
		return httperr.NotFound()
	}
	if err := h.confirmed(c, a); err != nil {
		return h.unconfirmed(c, a, err, errConfirm)
	}
	err = h.fed.Unlink(a.ctx, a.u.ID, id)
	switch {
	case errors.Is(err, federation.ErrLastLogin):
		return web.Redirect(c, web.PathAccount+"?error=last-login")
	case errors.Is(err, tenants.ErrNotFound):
		return httperr.NotFound()
	case err != nil:
		return httperr.Internal(err)
	}
	return web.Redirect(c, web.PathAccount+"?done=unlinked")
}
