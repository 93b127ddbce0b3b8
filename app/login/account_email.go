package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// changeEmail starts a change of the signed-in user's address: after the
// password (or a code) is confirmed, a link goes to the new address, and
// the address changes when it is opened. The answer is the same whether
// the new address is free or taken (a taken one gets nothing), and when
// throttled ("verify", per account, address and tenant).
func (h *Handler) changeEmail(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	email, ok := parseEmail(c.FormValue("email"))
	if !ok {
		return h.badAccountForm(c, a, "Enter a valid email address.")
	}
	if tenants.NormalizeEmail(email) == tenants.NormalizeEmail(a.u.Email) {
		return h.badAccountForm(c, a, "That is already your address.")
	}
	if ok, err := h.confirmIdentity(c, a, c.FormValue("confirm"), true); err != nil || !ok {
		return h.unconfirmed(c, a, err, errWrongConfirm)
	}
	keys := keysFor(a.t, "verify", a.u.Email, c.RealIP())
	if h.throttled(a.ctx, keys) {
		h.auditLogin(c, a.u.ID, a.u.Email, "email.change_throttled", "denied", "too many requests")
		return redirect(c, pathAccount+"?done=email-sent")
	}
	h.failed(a.ctx, keys)
	_, err = h.store.UserByEmail(a.ctx, email)
	switch {
	case err == nil:
		h.auditLogin(c, a.u.ID, a.u.Email, "email.change_requested", "denied", "address in use")
		return redirect(c, pathAccount+"?done=email-sent")
	case !errors.Is(err, tenants.ErrNotFound):
		return httperr.Internal(err)
	}
	token, err := h.issueToken(a.ctx, a.u, tenants.TokenChangeEmail, email, changeEmailTTL)
	if err != nil {
		return httperr.Internal(err)
	}
	h.sendMail(a.ctx, a.t, email, changeEmailMail(a.t, tenantLink(a.t, pathAccount+"/email/confirm", url.Values{"token": {token}})))
	h.auditLogin(c, a.u.ID, a.u.Email, "email.change_requested", "success", "")
	return redirect(c, pathAccount+"?done=email-sent")
}

// confirmEmailChange ends a change of address with the link sent to the new
// one: the account takes the (now confirmed) address, and the old address
// is told.
func (h *Handler) confirmEmailChange(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	token := tokenParam(c.QueryParam("token"))
	if token == "" {
		return linkExpired()
	}
	tok, err := h.store.UseUserToken(ctx, secret.Hash(token), tenants.TokenChangeEmail)
	if errors.Is(err, tenants.ErrNotFound) {
		return linkExpired()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	u, err := h.store.UserByID(ctx, tok.UserID)
	if err != nil || u.DisabledAt != nil {
		return linkExpired()
	}
	old := u.Email
	err = h.store.SetEmail(ctx, u.ID, tok.Email, true)
	if errors.Is(err, tenants.ErrAlreadyExists) {
		return httperr.Page(http.StatusConflict, "This address is already in use",
			"Another account uses this address now, so yours was not changed.")
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, u.ID, tok.Email, "email.changed", "success", "")
	h.sendMail(ctx, t, old, emailChangedMail(t, tok.Email))
	return render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: meta(t, "Address changed"),
		Heading: "Your email address was changed", Message: "Your account's address is now " + tok.Email + ". Sign in with it from now on.",
		LinkURL: pathAccount, LinkText: "Go to your account"}))
}

// resendOwnVerification sends the signed-in user a new link to confirm
// their address (if it needs one). The answer is always the same.
func (h *Handler) resendOwnVerification(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	if err := h.resendVerification(c, a.t, a.u.Email); err != nil {
		return httperr.Internal(err)
	}
	return redirect(c, pathAccount+"?done=verify-sent")
}
