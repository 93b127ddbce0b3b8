package account

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/mfa"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

const errWrongCode = "mfa.wrong_code"

// showTOTP shows the QR code of a new authenticator app for the signed-in
// user. Its secret is useless until confirmed by submitTOTP, which needs
// a recent re-authentication.
func (h *Handler) showTOTP(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if a.t.MFA() == tenants.MFAOff {
		return httperr.NotFound()
	}
	return h.renderTOTP(c, a, "", http.StatusOK)
}

func (h *Handler) renderTOTP(c echo.Context, a *accountRequest, msg string, status int) error {
	if a.sess.SignInID == "" {
		// A session from before sign-ins were recorded: a pending secret
		// belongs to a sign-in, so this one signs in again first.
		return h.badForm(c, a, "account.err_reauth_totp")
	}
	_, key, err := h.factors.Pending(a.ctx, a.t, a.u, a.sess.SignInID)
	if err != nil {
		return httperr.Internal(err)
	}
	qr, err := mfa.QR(key)
	if err != nil {
		return httperr.Internal(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, status, views.EnrolPage(views.EnrolView{Meta: web.Meta(a.t, "enrol.title"), Action: web.PathAccountTOTP,
		CSRF: h.site.CSRF(c, a.t), QR: qr, Secret: key.Secret(), Error: msg,
		Confirm: !authn.Recent(a.sess, h.store.Now()), HasPassword: a.u.PasswordHash != "", ReauthURL: web.PathAccountReauth}))
}

// submitTOTP turns the new authenticator on with its first code, after a
// confirmation (a recent sign-in, the password, or a code of a factor not
// added in this sign-in). The new factor belongs to this sign-in: it never
// confirms a change of it. A user's first factor comes with recovery
// codes, shown once.
func (h *Handler) submitTOTP(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if a.t.MFA() == tenants.MFAOff {
		return httperr.NotFound()
	}
	if err := h.confirmed(c, a); err != nil {
		if !errors.Is(err, errUnconfirmed) {
			return err
		}
		return h.renderTOTP(c, a, errConfirm, http.StatusForbidden)
	}
	if a.sess.SignInID == "" {
		return h.renderTOTP(c, a, "", http.StatusBadRequest)
	}
	attempt := authn.SecondFactorAttempt(a.t.ID, a.u.ID, web.ClientIP(a.ctx), h.site.Device(c, a.t, web.TrustedDeviceCookie, a.u.ID))
	f, _, err := h.factors.Pending(a.ctx, a.t, a.u, a.sess.SignInID)
	if err != nil {
		return httperr.Internal(err)
	}
	// The attempt takes its turn on the locking counters before the code
	// is checked: codes sent at once get no more guesses than codes sent
	// one after another.
	turn := h.throttle.Begin(a.ctx, attempt)
	if turn.Refuse {
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.enrol_failed", "denied", "throttled")
		return h.renderTOTP(c, a, errWrongCode, http.StatusUnauthorized)
	}
	turn.Wait(a.ctx)
	if !h.factors.CheckTOTP(a.ctx, f, c.FormValue("code")) {
		turn.Failed(a.ctx)
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.enrol_failed", "failure", "wrong code")
		return h.renderTOTP(c, a, errWrongCode, http.StatusUnauthorized)
	}
	turn.Succeeded(a.ctx)
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.enrolled", "success", tenants.FactorTOTP)
	h.sendMail(a.ctx, a.t, a.u, a.u.Email, methodAddedMail(h.mailLanguage(c, a.u), tenants.FactorTOTP, tenantLink(a.t, web.PathReset, nil)))
	return h.afterFirstFactor(c, a, "mfa-added")
}

// afterFirstFactor ends the addition of a factor: the user's first comes
// with recovery codes, shown once; otherwise back to the account page.
func (h *Handler) afterFirstFactor(c echo.Context, a *accountRequest, done string) error {
	n, err := h.store.CountRecoveryCodes(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	if n > 0 {
		return web.Redirect(c, web.PathAccount+"?done="+done)
	}
	return h.showRecoveryCodes(c, a, web.PathAccount+"?done="+done)
}

// showRecoveryCodes replaces the user's recovery codes and shows the new
// ones, once.
func (h *Handler) showRecoveryCodes(c echo.Context, a *accountRequest, next string) error {
	codes, err := h.factors.NewRecoveryCodes(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.recovery_codes_created", "success", "")
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Meta: web.Meta(a.t, "recovery.title"), Codes: codes, Continue: next}))
}

// regenerateRecoveryCodes makes new recovery codes (the old ones stop
// working), after a confirmation.
func (h *Handler) regenerateRecoveryCodes(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	factors, err := h.factors.Confirmed(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	if len(factors) == 0 {
		return h.badForm(c, a, "account.err_recovery_needs_mfa")
	}
	if err := h.confirmed(c, a); err != nil {
		return h.unconfirmed(c, a, err, errConfirm)
	}
	return h.showRecoveryCodes(c, a, web.PathAccount)
}

// removeFactor removes one of the signed-in user's second factors, after a
// confirmation. With the last one go the recovery codes.
func (h *Handler) removeFactor(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	id := c.Param("factor")
	factors, err := h.factors.Confirmed(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	var target *tenants.MFAFactor
	for i := range factors {
		if factors[i].ID == id {
			target = &factors[i]
		}
	}
	if target == nil {
		return httperr.NotFound()
	}
	if err := h.confirmed(c, a); err != nil {
		return h.unconfirmed(c, a, err, errConfirm)
	}
	err = h.store.DeleteFactor(a.ctx, a.u.ID, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.NotFound()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.removed", "success", target.Type)
	done := "mfa-removed"
	if len(factors) == 1 {
		if err := h.store.ReplaceRecoveryCodes(a.ctx, a.u.ID, nil); err != nil {
			return httperr.Internal(err)
		}
		if a.t.MFA() == tenants.MFARequired {
			done = "mfa-removed-req"
		}
	}
	return web.Redirect(c, web.PathAccount+"?done="+done)
}

// webAuthnOptions begins the registration of a passkey or security key by
// the signed-in user, from the account page.
func (h *Handler) webAuthnOptions(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil {
		return err
	}
	if a == nil {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "login_required", "error_description": "Sign in again."})
	}
	if h.passkeys == nil || !passkey.Offered(a.t) || a.t.MFA() == tenants.MFAOff {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "Passkeys are not available here."})
	}
	b := passkey.Binding{Kind: passkey.KindAccount, UserID: a.u.ID, SessionID: a.sess.ID}
	opts, err := h.passkeys.BeginRegistration(a.ctx, a.t, b, web.BrowserHash(c, a.t), a.u)
	if err != nil {
		return httperr.Internal(err)
	}
	return c.JSON(http.StatusOK, opts)
}

// submitWebAuthn registers a passkey or security key for the signed-in
// user, after a confirmation: a stolen session must not add a lasting way
// in. The first second factor of a user comes with recovery codes, shown
// once.
func (h *Handler) submitWebAuthn(c echo.Context) error {
	a, err := h.signedIn(c)
	if err != nil || a == nil {
		return h.toAccount(c, err)
	}
	if h.passkeys == nil || !passkey.Offered(a.t) || a.t.MFA() == tenants.MFAOff {
		return httperr.NotFound()
	}
	if err := h.confirmed(c, a); err != nil {
		// The confirmation step carries the credential through; its
		// challenge stays unused until the change is confirmed.
		return h.unconfirmed(c, a, err, errConfirm)
	}
	want := passkey.Binding{Kind: passkey.KindAccount, UserID: a.u.ID, SessionID: a.sess.ID}
	err = h.passkeys.FinishRegistration(a.ctx, a.t, want, web.BrowserHash(c, a.t), a.u, []byte(c.FormValue("credential")), c.FormValue("name"), a.sess.SignInID)
	var f *passkey.Failure
	if errors.As(err, &f) {
		h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.enrol_failed", "failure", passkey.Reason(err))
		return web.Redirect(c, web.PathAccount+"?error=passkey-failed")
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(a.ctx, a.u.ID, a.u.Email, "mfa.enrolled", "success", "webauthn")
	h.sendMail(a.ctx, a.t, a.u, a.u.Email, methodAddedMail(h.mailLanguage(c, a.u), tenants.FactorWebAuthn, tenantLink(a.t, web.PathReset, nil)))
	return h.afterFirstFactor(c, a, "passkey-added")
}
