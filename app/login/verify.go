package login

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/oidc"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

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

// verifyEmail confirms an address with the single-use link sent to it. The
// link is good only while the account still has the address it was sent
// to. A sign-up waiting for the link then gets its password, and, in the
// browser that signed up, the login it started goes on; anywhere else the
// owner chooses a password here.
func (h *Handler) verifyEmail(c echo.Context) error {
	t, ctx, err := tenant(c)
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
	if err != nil || u.DisabledAt != nil || tenants.NormalizeEmail(u.Email) != tenants.NormalizeEmail(tok.Email) {
		return linkExpired()
	}
	if !u.EmailVerified {
		if err := h.store.SetEmail(ctx, u.ID, u.Email, true); err != nil {
			return httperr.Internal(err)
		}
		u.EmailVerified = true
		h.auditLogin(c, u.ID, u.Email, "email.verified", "success", "")
	}
	if u.PasswordHash != "" {
		return render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: meta(t, "Address confirmed"),
			Heading: "Your email address is confirmed", Message: "Thank you: " + u.Email + " is confirmed.",
			LinkURL: pathAccount, LinkText: "Go to your account"}))
	}
	st, err := h.store.UseLoginStep(ctx, signupStepID(token))
	if err == nil && st.Purpose == stepSignup && st.UserID == u.ID && secret.Equal(st.BrowserHash, secret.Hash(browserID(c, t))) {
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
	return redirect(c, pathResetConfirm+"?"+url.Values{"token": {rt}, "welcome": {"1"}}.Encode())
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
	h.auditLogin(c, u.ID, u.Email, "signup.completed", "success", "")
	if ar, err := h.loadRequest(c, t, arID); err == nil {
		return h.completeLogin(c, t, ar, u, firstFactor{amr: []string{amrPassword}})
	}
	return render(c, http.StatusOK, views.NoticePage(views.NoticeView{Meta: meta(t, "Account ready"),
		Heading: "Your account is ready", Message: "Your address is confirmed. Sign in with your email address and password.",
		LinkURL: pathAccount, LinkText: "Sign in"}))
}

// showResend asks for an address to send a new verification link to.
func (h *Handler) showResend(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	return render(c, http.StatusOK, views.ResendPage(views.ResendView{Meta: meta(t, "Send a new link"),
		RequestID: requestParam(c.QueryParam("id")), CSRF: h.csrfToken(t, ensureBrowser(c, t), sessionID(sess))}))
}

// submitResend sends a new verification link to an account whose address
// is not confirmed. The answer is the same whether there is such an
// account or not, and when throttled.
func (h *Handler) submitResend(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	if !h.emailEnabled() {
		return emailUnavailable()
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.checkCSRF(c, t, sessionID(sess)); err != nil {
		return err
	}
	id := requestParam(c.FormValue("id"))
	email, ok := parseEmail(c.FormValue("email"))
	if !ok {
		return render(c, http.StatusBadRequest, views.ResendPage(views.ResendView{Meta: meta(t, "Send a new link"),
			RequestID: id, CSRF: h.csrfToken(t, ensureBrowser(c, t), sessionID(sess)), Error: "Enter a valid email address."}))
	}
	if err := h.resendVerification(c, t, email); err != nil {
		return httperr.Internal(err)
	}
	v := views.NoticeView{Meta: meta(t, "Check your inbox"), Heading: "Check your inbox",
		Message: "If an account with that address still needs confirming, we sent it a new link. Only the newest link works."}
	if id != "" {
		v.LinkURL, v.LinkText = oidc.PathLogin+"?id="+url.QueryEscape(id), "Back to sign in"
	}
	return render(c, http.StatusOK, views.NoticePage(v))
}

// resendVerification sends a new link to confirm email to its account, if
// it exists and is not confirmed, unless throttled ("verify": per account,
// address and tenant).
func (h *Handler) resendVerification(c echo.Context, t *tenants.Tenant, email string) error {
	ctx := c.Request().Context()
	keys := keysFor(t, "verify", email, c.RealIP())
	if h.throttled(ctx, keys) {
		h.auditLogin(c, "", email, "email.verification_throttled", "denied", "too many requests")
		return nil
	}
	h.failed(ctx, keys)
	u, err := h.store.UserByEmail(ctx, email)
	if errors.Is(err, tenants.ErrNotFound) {
		h.auditLogin(c, "", email, "email.verification_requested", "failure", "unknown email")
		return nil
	}
	if err != nil {
		return err
	}
	if u.EmailVerified || u.DisabledAt != nil {
		h.auditLogin(c, u.ID, u.Email, "email.verification_requested", "failure", "nothing to verify")
		return nil
	}
	token, err := h.issueToken(ctx, u, tenants.TokenVerifyEmail, u.Email, verifyTTL)
	if err != nil {
		return err
	}
	h.sendMail(ctx, t, u.Email, verifyMail(t, tenantLink(t, pathVerify, url.Values{"token": {token}})))
	h.auditLogin(c, u.ID, u.Email, "email.verification_requested", "success", "")
	return nil
}

// emailUnavailable is the page of a flow that needs email when the service
// sends none.
func emailUnavailable() error {
	return httperr.Page(http.StatusNotFound, "Not available",
		"This service does not send email, so this cannot be done here. Ask your administrator.")
}
