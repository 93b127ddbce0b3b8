package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// mailAttempt is a request that sends mail about email from this address.
func mailAttempt(ctx context.Context, t *tenants.Tenant, action, email string) authn.Attempt {
	return authn.MailAttempt(action, t.ID, email, web.ClientIP(ctx), "")
}

// changeEmail starts a change (or, for an account without one, the
// addition) of the signed-in user's address, after a confirmation: a link
// goes to the new address, and the address changes when it is opened. The
// answer is the same whether the new address is free or taken (a taken one
// gets nothing), and when throttled.
func (h *Handler) changeEmail(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	email, ok := parseEmail(c.FormValue("email"))
	if !ok {
		return h.badForm(c, a, "account.err_email")
	}
	if tenants.NormalizeEmail(email) == tenants.NormalizeEmail(a.u.Email) {
		return h.badForm(c, a, "account.err_same_email")
	}
	if err := h.confirmed(c, a); err != nil {
		return h.unconfirmed(c, a, err, errConfirm)
	}
	attempt := mailAttempt(a.ctx, a.t, "verify", a.u.ID)
	// The request takes its turn on the locking counters before
	// anything is sent: a burst sends no more mail than requests one
	// after another.
	turn := h.throttle.Begin(a.ctx, attempt)
	if turn.Refuse {
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "email.change_throttled", "denied", "too many requests")
		return web.Redirect(c, web.PathAccount+"?done=email-sent")
	}
	turn.Failed(a.ctx)
	_, err = h.store.UserByEmail(a.ctx, email)
	switch {
	case err == nil:
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "email.change_requested", "denied", "address in use")
		return web.Redirect(c, web.PathAccount+"?done=email-sent")
	case !errors.Is(err, tenants.ErrNotFound):
		return httperr.Internal(err)
	}
	token, err := h.issueToken(a.ctx, a.u, tenants.TokenChangeEmail, email, changeEmailTTL)
	if err != nil {
		return httperr.Internal(err)
	}
	h.sendMail(a.ctx, a.t, a.u, email, changeEmailMail(h.mailLanguage(c, a.u), email, tenantLink(a.t, web.PathAccount+"/email/confirm", url.Values{"token": {token}})))
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "email.change_requested", "success", "")
	return web.Redirect(c, web.PathAccount+"?done=email-sent")
}

// confirmEmailChange ends a change of address with the link sent to the new
// one: the account takes the (now confirmed) address, and the old address
// is told.
func (h *Handler) confirmEmailChange(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
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
	h.site.Audit(ctx, u.ID, tok.Email, "email.changed", "success", "")
	h.sendMail(ctx, t, u, old, emailChangedMail(h.mailLanguage(c, u), tok.Email))
	return web.Render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: web.Meta(t, "notice.address_changed"),
		Heading: "notice.address_changed_heading", Message: web.T(c, "notice.address_changed_message", "Email", tok.Email),
		LinkURL: web.PathAccount, LinkText: "notice.to_account"}))
}

// resendOwnVerification sends the signed-in user a new link to confirm
// their address (if it needs one). The answer is always the same.
func (h *Handler) resendOwnVerification(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	if a.u.Email != "" {
		if err := h.resendVerification(c, a.t, a.u.Email); err != nil {
			return httperr.Internal(err)
		}
	}
	return web.Redirect(c, web.PathAccount+"?done=verify-sent")
}

// addressProven is called when a link sent to u's address was opened (a
// verification, a reset, a finished sign-up): identities linked while the
// address was unproven lose their link, and the owner is told.
func (h *Handler) addressProven(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	if h.fed == nil {
		return nil
	}
	names, err := h.fed.AddressProven(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		h.sendMail(ctx, t, u, u.Email, identitiesUnlinkedMail(userLanguage(ctx, u), names))
	}
	return nil
}

// linkExpired is the answer to a link that is unknown, used, expired or
// superseded: all look the same.
func linkExpired() error {
	return httperr.Page(http.StatusBadRequest, "This link has expired",
		"Links in our emails work once, for a limited time, and only the newest one works. Ask for a new one.")
}

// tokenParam returns a link token from a query or form, or "" when it
// cannot be one.
func tokenParam(s string) string {
	if s == "" || len(s) > 128 {
		return ""
	}
	return s
}

// emailUnavailable is the page of a flow that needs email when the service
// sends none.
func emailUnavailable() error {
	return httperr.Page(http.StatusNotFound, "Not available",
		"This service does not send email, so this cannot be done here. Ask your administrator.")
}
