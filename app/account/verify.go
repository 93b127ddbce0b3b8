package account

import (
	"encoding/json"
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

// verifyEmail confirms an address with the single-use link sent to it. The
// link is good only while the account still has the address it was sent
// to. Whoever opened it proved the address: identities linked while it was
// unproven lose their link. A sign-up waiting for the link then gets its
// password, and, in the browser that signed up, the login it started goes
// on; anywhere else the owner chooses a password here.
func (h *Handler) verifyEmail(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	token := tokenParam(c.QueryParam("token"))
	if token == "" {
		return linkExpired()
	}
	tok, err := h.store.UseUserToken(ctx, secret.Hash(token), tenants.TokenVerifyEmail)
	if errors.Is(err, tenants.ErrNotFound) {
		return linkExpired()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	u, err := h.store.UserByID(ctx, tok.UserID)
	if err != nil || u.DisabledAt != nil || u.Email == "" || tenants.NormalizeEmail(u.Email) != tenants.NormalizeEmail(tok.Email) {
		return linkExpired()
	}
	if !u.EmailVerified {
		if err := h.store.SetEmail(ctx, u.ID, u.Email, true); err != nil {
			return httperr.Internal(err)
		}
		u.EmailVerified = true
		h.site.Audit(ctx, u.ID, u.Email, "email.verified", "success", "")
	}
	if err := h.addressProven(ctx, t, u); err != nil {
		return httperr.Internal(err)
	}
	if u.PasswordHash != "" {
		return web.Render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: web.Meta(t, "notice.confirmed"),
			Heading: "notice.confirmed_heading", Message: web.T(c, "notice.confirmed_message", "Email", u.Email),
			LinkURL: web.PathAccount, LinkText: "notice.to_account"}))
	}
	st, err := h.store.UseLoginStep(ctx, signupStepID(token))
	if err == nil && st.Purpose == stepSignup && st.UserID == u.ID && secret.Equal(st.BrowserHash, web.BrowserHash(c, t)) {
		var d signupData
		if json.Unmarshal([]byte(st.Data), &d) == nil && d.PasswordHash != "" {
			return h.finishSignup(c, t, u, st.AuthRequestID, d.PasswordHash)
		}
	}
	// Confirmed in another browser, or an account without a sign-up
	// step: the owner of the address chooses the password now.
	rt, err := h.issueToken(ctx, u, tenants.TokenResetPassword, u.Email, resetTTL)
	if err != nil {
		return httperr.Internal(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Redirect(c, web.PathResetConfirm+"?"+url.Values{"token": {rt}, "welcome": {"1"}}.Encode())
}

// finishSignup gives a confirmed sign-up the password chosen at sign-up
// and, when the login it started is still open in this browser, goes on
// with it: the password was typed here and the address just proved.
func (h *Handler) finishSignup(c echo.Context, t *tenants.Tenant, u *tenants.User, arID, hash string) error {
	ctx := c.Request().Context()
	if err := h.store.ChangePassword(ctx, u.ID, hash); err != nil {
		return httperr.Internal(err)
	}
	u.PasswordHash = hash
	h.site.Audit(ctx, u.ID, u.Email, "signup.completed", "success", "")
	if ar, err := h.request(c, t, arID); err == nil && h.login != nil {
		return h.login.Continue(c, t, ar, u, authn.Proof{AMR: []string{authn.AMRPassword}})
	}
	return web.Render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: web.Meta(t, "notice.ready"),
		Heading: "notice.ready_heading", Message: "notice.ready_message",
		LinkURL: web.PathAccount, LinkText: "signup.sign_in"}))
}

// showResend asks for an address to send a new verification link to.
func (h *Handler) showResend(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	return web.Render(c, http.StatusOK, views.ResendPage(views.ResendView{Meta: web.Meta(t, "resend.title"),
		RequestID: requestParam(c.QueryParam("id")), CSRF: h.site.CSRF(c, t)}))
}

// submitResend sends a new verification link to an account whose address
// is not confirmed. The answer is the same whether there is such an
// account or not, and when throttled.
func (h *Handler) submitResend(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	id := requestParam(c.FormValue("id"))
	email, ok := parseEmail(c.FormValue("email"))
	if !ok {
		return web.Render(c, http.StatusBadRequest, views.ResendPage(views.ResendView{Meta: web.Meta(t, "resend.title"),
			RequestID: id, CSRF: h.site.CSRF(c, t), Error: "account.err_email"}))
	}
	if err := h.resendVerification(c, t, email); err != nil {
		return httperr.Internal(err)
	}
	v := views.NoticeView{Meta: web.Meta(t, "notice.inbox"), Heading: "notice.inbox",
		Message: "resend.sent_message"}
	if id != "" {
		v.LinkURL, v.LinkText = web.PathLogin+"?id="+url.QueryEscape(id), "common.back_to_sign_in"
	}
	return web.Render(c, http.StatusOK, views.NoticePage(v))
}

// resendVerification sends a new link to confirm email to its account, if
// it exists and is not confirmed, unless throttled.
func (h *Handler) resendVerification(c echo.Context, t *tenants.Tenant, email string) error {
	ctx := c.Request().Context()
	attempt := mailAttempt(ctx, t, "verify", email)
	// The request takes its turn on the locking counters before
	// anything is sent: a burst sends no more mail than requests one
	// after another.
	turn := h.throttle.Begin(ctx, attempt)
	if turn.Refuse {
		h.site.Audit(ctx, "", email, "email.verification_throttled", "denied", "too many requests")
		return nil
	}
	turn.Failed(ctx)
	u, err := h.store.UserByEmail(ctx, email)
	if errors.Is(err, tenants.ErrNotFound) {
		h.site.Audit(ctx, "", email, "email.verification_requested", "failure", "unknown email")
		return nil
	}
	if err != nil {
		return err
	}
	if u.EmailVerified || u.DisabledAt != nil {
		h.site.Audit(ctx, u.ID, u.Email, "email.verification_requested", "failure", "nothing to verify")
		return nil
	}
	token, err := h.issueToken(ctx, u, tenants.TokenVerifyEmail, u.Email, verifyTTL)
	if err != nil {
		return err
	}
	h.sendMail(ctx, t, u, u.Email, verifyMail(h.mailLanguage(c, u), tenantLink(t, web.PathVerify, url.Values{"token": {token}})))
	h.site.Audit(ctx, u.ID, u.Email, "email.verification_requested", "success", "")
	return nil
}
