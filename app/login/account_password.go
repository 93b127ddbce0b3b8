package login

import (
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// changePassword changes the signed-in user's password, given the current
// one. The change ends every session and token family of the account
// (other browsers sign in again) and, for this browser, starts a session
// under a new id (no session fixation) with what the old one proved.
func (h *Handler) changePassword(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	if a.u.PasswordHash == "" {
		return h.badAccountForm(c, a, `You sign in without a password. To set one, use "Forgot your password?" on the sign-in page.`)
	}
	if ok, err := h.confirmIdentity(c, a, c.FormValue("current_password"), false); err != nil || !ok {
		return h.unconfirmed(c, a, err, errWrongCurrent)
	}
	next := c.FormValue("new_password")
	if err := a.t.CheckPassword(h.common, next, a.u.Email); err != nil {
		return h.badAccountForm(c, a, validationMessage(err))
	}
	hash, err := h.hasher.Hash(a.ctx, next)
	if err != nil {
		return err
	}
	if err := h.store.ChangePassword(a.ctx, a.u.ID, hash); err != nil {
		return httperr.Internal(err)
	}
	if _, err := h.startSession(c, a.ctx, a.t, a.u, firstFactor{amr: a.sess.AMR, idp: a.sess.IDP, acr: a.sess.ACR}); err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, a.u.ID, a.u.Email, "password.changed", "success", "")
	h.sendMail(a.ctx, a.t, a.u.Email, passwordChangedMail(a.t, tenantLink(a.t, pathReset, nil)))
	return redirect(c, pathAccount+"?done=password")
}
