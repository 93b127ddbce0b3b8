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

// Password reset (NIST 800-63B §6.1.2.3, OWASP Forgot Password): the
// answer to a request never says whether the account exists; the link is
// single-use, valid for 30 minutes, stored as a hash, and dies when used,
// when a newer link is sent, when the password changes (by anyone) and
// when the account's address changes.

// loginLink is the login page of auth request id, or "" without one.
func loginLink(id string) string {
	if id == "" {
		return ""
	}
	return web.PathLogin + "?id=" + url.QueryEscape(id)
}

// showReset asks for the address of the account.
func (h *Handler) showReset(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if !h.emailEnabled() {
		return resetUnavailable()
	}
	return h.renderReset(c, t, requestParam(c.QueryParam("id")), "", http.StatusOK)
}

func (h *Handler) renderReset(c echo.Context, t *tenants.Tenant, id, msg string, status int) error {
	here := web.PathReset
	if id != "" {
		// The page of a sign-in speaks its ui_locales, as the login did.
		if ar, err := h.request(c, t, id); err == nil {
			h.site.Speak(c, ar, nil)
		}
		here += "?id=" + url.QueryEscape(id)
	}
	v := views.ResetView{Meta: web.Meta(t, "reset.title"), RequestID: id, CSRF: h.site.CSRF(c, t), Error: msg, LoginURL: loginLink(id)}
	v.Here = here
	return web.Render(c, status, views.ResetPage(v))
}

func resetUnavailable() error {
	return httperr.Page(http.StatusNotFound, "Password reset is not available",
		"This service does not send email, so a password cannot be reset here. Ask your administrator to reset it.")
}

// submitReset sends a reset link to the account with the address typed, if
// there is one. The answer (status, page) is the same for an unknown
// address, a disabled account and a throttled request; the email goes out
// after the answer.
func (h *Handler) submitReset(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if !h.emailEnabled() {
		return resetUnavailable()
	}
	id := requestParam(c.FormValue("id"))
	email, ok := parseEmail(c.FormValue("email"))
	if !ok {
		return h.renderReset(c, t, id, "account.err_email", http.StatusBadRequest)
	}
	if err := h.requestReset(c, t, email, id); err != nil {
		return httperr.Internal(err)
	}
	return web.Render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: web.Meta(t, "notice.inbox"), Heading: "notice.inbox",
		Message: "reset.sent_message",
		Detail:  "reset.sent_detail",
		LinkURL: loginLink(id), LinkText: "common.back_to_sign_in"}))
}

// requestReset makes and sends a reset link for email's account, unless
// throttled or there is no such (enabled) account.
func (h *Handler) requestReset(c echo.Context, t *tenants.Tenant, email, id string) error {
	ctx := c.Request().Context()
	// A browser that signed in to the account before asks by its own
	// count: requests for the address from elsewhere never lock its
	// owner out of a reset.
	attempt := authn.MailAttempt("reset", t.ID, email, web.ClientIP(ctx), h.site.Device(c, t, web.DeviceCookie, email))
	// The request takes its turn on the locking counters before
	// anything is sent: a burst sends no more mail than requests one
	// after another.
	turn := h.throttle.Begin(ctx, attempt)
	if turn.Refuse {
		h.site.Audit(ctx, "", email, "password.reset_throttled", "denied", "too many requests")
		return nil
	}
	turn.Failed(ctx)
	u, err := h.store.UserByEmail(ctx, email)
	if errors.Is(err, tenants.ErrNotFound) {
		h.site.Audit(ctx, "", email, "password.reset_requested", "failure", "unknown email")
		return nil
	}
	if err != nil {
		return err
	}
	if u.DisabledAt != nil {
		h.site.Audit(ctx, u.ID, u.Email, "password.reset_requested", "failure", "account disabled")
		return nil
	}
	token, err := h.issueToken(ctx, u, tenants.TokenResetPassword, u.Email, resetTTL)
	if err != nil {
		return err
	}
	q := url.Values{"token": {token}}
	if id != "" {
		q.Set("id", id)
	}
	h.sendMail(ctx, t, u, u.Email, resetMail(h.mailLanguage(c, u), tenantLink(t, web.PathResetConfirm, q)))
	h.site.Audit(ctx, u.ID, u.Email, "password.reset_requested", "success", "")
	return nil
}

// resetAccount returns the account a valid, unspent reset token opens:
// enabled and still at the address the link was sent to.
func (h *Handler) resetAccount(c echo.Context, token string) (*tenants.User, error) {
	ctx := c.Request().Context()
	if token == "" {
		return nil, linkExpired()
	}
	tok, err := h.store.UserTokenValid(ctx, secret.Hash(token), tenants.TokenResetPassword)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, linkExpired()
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	u, err := h.store.UserByID(ctx, tok.UserID)
	if err != nil || u.DisabledAt != nil || u.Email == "" || tenants.NormalizeEmail(u.Email) != tenants.NormalizeEmail(tok.Email) {
		return nil, linkExpired()
	}
	return u, nil
}

// showResetConfirm shows the form a reset link opens. Opening it spends
// nothing (mail scanners open links).
func (h *Handler) showResetConfirm(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	token := tokenParam(c.QueryParam("token"))
	u, err := h.resetAccount(c, token)
	if err != nil {
		return err
	}
	return h.renderNewPassword(c, t, u, token, requestParam(c.QueryParam("id")), c.QueryParam("welcome") != "", "", http.StatusOK)
}

func (h *Handler) renderNewPassword(c echo.Context, t *tenants.Tenant, u *tenants.User, token, id string, welcome bool, msg string, status int) error {
	heading := "reset.choose_title"
	if welcome {
		heading = "reset.welcome_title"
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, status, views.NewPasswordPage(views.NewPasswordView{Meta: web.Meta(t, heading), Heading: heading, Token: token, RequestID: id,
		CSRF: h.site.CSRF(c, t), Email: u.Email, MinLength: t.MinPasswordLength(), Error: msg, Welcome: welcome}))
}

// submitResetConfirm sets the new password: the policy applies, the link
// is spent, every session and token of the account ends (this browser's
// too), and the owner signs in again. Having opened the link proves the
// address: identities linked while it was unproven lose their link.
func (h *Handler) submitResetConfirm(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	token, id, welcome := tokenParam(c.FormValue("token")), requestParam(c.FormValue("id")), c.FormValue("welcome") != ""
	u, err := h.resetAccount(c, token)
	if err != nil {
		return err
	}
	pw := c.FormValue("password")
	if err := t.CheckPassword(h.common, pw, u.Email); err != nil {
		return h.renderNewPassword(c, t, u, token, id, welcome, validationMessage(c, err), http.StatusBadRequest)
	}
	hash, err := h.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if _, err := h.store.UseUserToken(ctx, secret.Hash(token), tenants.TokenResetPassword); err != nil {
		if errors.Is(err, tenants.ErrNotFound) {
			return linkExpired()
		}
		return httperr.Internal(err)
	}
	if err := h.store.ChangePassword(ctx, u.ID, hash); err != nil {
		return httperr.Internal(err)
	}
	if !u.EmailVerified {
		if err := h.store.SetEmail(ctx, u.ID, u.Email, true); err != nil {
			return httperr.Internal(err)
		}
		h.site.Audit(ctx, u.ID, u.Email, "email.verified", "success", "by password reset link")
	}
	if err := h.addressProven(ctx, t, u); err != nil {
		return httperr.Internal(err)
	}
	if err := h.site.EndSessions(c, t); err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(ctx, u.ID, u.Email, "password.reset", "success", "")
	h.sendMail(ctx, t, u, u.Email, passwordChangedMail(h.mailLanguage(c, u), tenantLink(t, web.PathReset, nil)))
	v := views.NoticeView{Meta: web.Meta(t, "reset.done_title"), Heading: "reset.done_heading", Message: "reset.done_message",
		Detail:  "reset.done_detail",
		LinkURL: web.PathAccount, LinkText: "signup.sign_in"}
	if welcome {
		v.Meta.Title, v.Heading, v.Message, v.Detail = "notice.ready", "notice.ready_heading", "notice.ready_new_password", ""
	}
	if id != "" {
		if _, err := h.request(c, t, id); err == nil {
			v.LinkURL = loginLink(id)
		}
	}
	return web.Render(c, http.StatusOK, views.NoticePage(v))
}

// SendReset emails u, a user of t, a password reset link, as the reset
// page does for an address typed into it: an administrator's "send a
// reset email" (admin.Service.SendPasswordReset). The mail goes in the
// background.
func (h *Handler) SendReset(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	if h.mail == nil {
		return tenants.Invalid("user", "this deployment sends no email")
	}
	token, err := h.issueToken(ctx, u, tenants.TokenResetPassword, u.Email, resetTTL)
	if err != nil {
		return err
	}
	h.sendMail(ctx, t, u, u.Email, resetMail(userLanguage(ctx, u), tenantLink(t, web.PathResetConfirm, url.Values{"token": {token}})))
	return nil
}

// SendInvitation emails u, a new user of t an administrator invited, a
// link to choose their password: a reset link that lasts inviteTTL, so
// the reset page sets the password and, the link having reached the
// address, marks it verified (admin.Service.InviteUser).
func (h *Handler) SendInvitation(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	if h.mail == nil {
		return tenants.Invalid("user", "this deployment sends no email")
	}
	token, err := h.issueToken(ctx, u, tenants.TokenResetPassword, u.Email, inviteTTL)
	if err != nil {
		return err
	}
	h.sendMail(ctx, t, u, u.Email, inviteMail(userLanguage(ctx, u), tenantLink(t, web.PathResetConfirm, url.Values{"token": {token}})))
	return nil
}

// SendVerification emails u, a user of t, a link that confirms their
// address, as the resend page does: an administrator's "send a
// verification email" (admin.Service.SendVerification).
func (h *Handler) SendVerification(ctx context.Context, t *tenants.Tenant, u *tenants.User) error {
	if h.mail == nil {
		return tenants.Invalid("user", "this deployment sends no email")
	}
	token, err := h.issueToken(ctx, u, tenants.TokenVerifyEmail, u.Email, verifyTTL)
	if err != nil {
		return err
	}
	h.sendMail(ctx, t, u, u.Email, verifyMail(userLanguage(ctx, u), tenantLink(t, web.PathVerify, url.Values{"token": {token}})))
	return nil
}
