package login

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

const pathAccountTOTP = pathAccount + "/mfa/totp"

// showAccountTOTP shows the QR code of a new authenticator app for the
// signed-in user.
func (h *Handler) showAccountTOTP(c echo.Context) error {
	a, err := h.signedIn(c, false)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	if a.t.MFA() == tenants.MFAOff {
		return httperr.NotFound()
	}
	return h.renderAccountTOTP(c, a, "", http.StatusOK)
}

func (h *Handler) renderAccountTOTP(c echo.Context, a *accountRequest, msg string, status int) error {
	_, key, err := h.pendingTOTP(a.ctx, a.t, a.u)
	if err != nil {
		return httperr.Internal(err)
	}
	qr, err := qrDataURL(key)
	if err != nil {
		return httperr.Internal(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.EnrolPage(views.EnrolView{Meta: meta(a.t, "Add an authenticator app"), Action: pathAccountTOTP,
		CSRF: h.csrfToken(a.t, ensureBrowser(c, a.t), a.sess.ID), QR: qr, Secret: key.Secret(), Error: msg}))
}

// submitAccountTOTP turns the new authenticator on with its first code.
// A user's first factor comes with recovery codes, shown once.
func (h *Handler) submitAccountTOTP(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	if a.t.MFA() == tenants.MFAOff {
		return httperr.NotFound()
	}
	keys := keysFor(a.t, "mfa", a.u.Email, c.RealIP())
	f, _, err := h.pendingTOTP(a.ctx, a.t, a.u)
	if err != nil {
		return httperr.Internal(err)
	}
	if h.throttled(a.ctx, keys) || !h.checkTOTP(a.ctx, f, c.FormValue("code")) {
		h.failed(a.ctx, keys)
		return h.renderAccountTOTP(c, a, errWrongCode, http.StatusUnauthorized)
	}
	h.succeeded(a.ctx, keys)
	h.auditLogin(c, a.u.ID, a.u.Email, "mfa.enrolled", "success", tenants.FactorTOTP)
	n, err := h.store.CountRecoveryCodes(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	if n > 0 {
		return redirect(c, pathAccount+"?done=mfa-added")
	}
	return h.showRecoveryCodes(c, a)
}

// showRecoveryCodes replaces the user's recovery codes and shows the new
// ones, once.
func (h *Handler) showRecoveryCodes(c echo.Context, a *accountRequest) error {
	codes, err := h.newRecoveryCodes(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, a.u.ID, a.u.Email, "mfa.recovery_codes_created", "success", "")
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Meta: meta(a.t, "Recovery codes"), Codes: codes, Continue: pathAccount}))
}

// regenerateRecoveryCodes makes new recovery codes (the old ones stop
// working), after the password or a code is confirmed.
func (h *Handler) regenerateRecoveryCodes(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	factors, err := h.confirmedFactors(a.ctx, a.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	if len(factors) == 0 {
		return h.badAccountForm(c, a, "Recovery codes come with two-step verification: add an authenticator app first.")
	}
	if ok, err := h.confirmIdentity(c, a, c.FormValue("confirm"), true); err != nil || !ok {
		return h.unconfirmed(c, a, err, errWrongConfirm)
	}
	return h.showRecoveryCodes(c, a)
}

// removeFactor removes one of the signed-in user's second factors, after
// the password or a code is confirmed. With the last one go the recovery
// codes.
func (h *Handler) removeFactor(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	id := c.Param("factor")
	factors, err := h.confirmedFactors(a.ctx, a.u.ID)
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
	if ok, err := h.confirmIdentity(c, a, c.FormValue("confirm"), true); err != nil || !ok {
		return h.unconfirmed(c, a, err, errWrongConfirm)
	}
	err = h.store.DeleteFactor(a.ctx, a.u.ID, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return httperr.NotFound()
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, a.u.ID, a.u.Email, "mfa.removed", "success", target.Type)
	done := "mfa-removed"
	if len(factors) == 1 {
		if err := h.store.ReplaceRecoveryCodes(a.ctx, a.u.ID, nil); err != nil {
			return httperr.Internal(err)
		}
		if a.t.MFA() == tenants.MFARequired {
			done = "mfa-removed-req"
		}
	}
	return redirect(c, pathAccount+"?done="+done)
}
