package login

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/passkey"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// The sign-in's WebAuthn ceremonies (package passkey): a credential as
// the second factor of a login, a passwordless login, and the enrolment of
// a first factor when the tenant requires one. Each has two requests: GET
// .../options begins it (a same-site script's request), the POST carries
// the credential JSON in the form field "credential".

// Messages of failed ceremonies: the same whatever went wrong.
const (
	errPasskey      = "mfa.passkey_failed"
	errPasskeyLogin = "login.passkey_failed"
	errPasskeyEnrol = "enrol.passkey_failed"
)

// jsonError answers an options request that cannot begin a ceremony, in
// the form of the other JSON errors (error, error_description).
func jsonError(c echo.Context, err error) error {
	e := httperr.As(err)
	if e == nil || e.Status >= 500 {
		return err
	}
	code := e.Code
	if code == "" {
		code = httperr.InvalidRequest
	}
	return c.JSON(e.Status, map[string]string{"error": code, "error_description": e.Description})
}

// stepUser loads the step of purpose an options request names, and its
// user. Callers answer its errors with jsonError.
func (h *Handler) stepUser(c echo.Context, purpose string) (*tenants.Tenant, *tenants.LoginStep, *tenants.User, error) {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := h.loadStep(c, t, c.QueryParam("step"), purpose)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := h.store.UserByID(ctx, st.UserID)
	if err != nil || u.DisabledAt != nil {
		return nil, nil, nil, expired()
	}
	return t, st, u, nil
}

// mfaWebAuthnOptions begins the second-factor ceremony of an MFA step.
func (h *Handler) mfaWebAuthnOptions(c echo.Context) error {
	t, st, u, err := h.stepUser(c, tenants.StepMFA)
	if err != nil {
		return jsonError(c, err)
	}
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	b := passkey.Binding{Kind: passkey.KindMFA, UserID: u.ID, AuthRequestID: st.AuthRequestID, Parent: st.ID, ExceptSignIn: data.SignInID}
	opts, err := h.passkeys.BeginAssertion(c.Request().Context(), t, b, web.BrowserHash(c, t), u)
	var f *passkey.Failure
	if errors.As(err, &f) {
		return jsonError(c, httperr.Page(http.StatusBadRequest, "No passkey", "This account has no passkey or security key."))
	}
	if err != nil {
		return httperr.Internal(err)
	}
	return c.JSON(http.StatusOK, opts)
}

// submitMFAWebAuthn checks the assertion of a user's passkey or security
// key as the second factor of a login.
func (h *Handler) submitMFAWebAuthn(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepMFA)
	if err != nil {
		return err
	}
	t, ctx, u := sr.t, sr.ctx, sr.u
	if h.throttle.Check(ctx, sr.attempt).Refuse {
		h.site.Audit(ctx, u.ID, u.Email, "mfa.throttled", "denied", "too many failed attempts")
		return h.renderMFA(c, t, sr.st, sr.token, errPasskey, http.StatusUnauthorized)
	}
	want := passkey.Binding{Kind: passkey.KindMFA, UserID: u.ID, AuthRequestID: sr.st.AuthRequestID, Parent: sr.st.ID, ExceptSignIn: sr.first.SignInID}
	_, err = h.passkeys.FinishAssertion(ctx, t, want, web.BrowserHash(c, t), []byte(c.FormValue("credential")))
	var f *passkey.Failure
	if errors.As(err, &f) {
		h.throttle.Failed(ctx, sr.attempt)
		h.site.Audit(ctx, u.ID, u.Email, "mfa.failed", "failure", passkey.Reason(err))
		return h.renderMFA(c, t, sr.st, sr.token, errPasskey, http.StatusUnauthorized)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	if _, err := h.store.UseLoginStep(ctx, sr.st.ID); err != nil {
		return expired()
	}
	h.throttle.Succeeded(ctx, sr.attempt)
	h.site.Audit(ctx, u.ID, u.Email, "mfa.webauthn_used", "success", "")
	return h.finish(c, t, sr.ar, u, sr.first.With(authn.AMRHWK, authn.ACRPhishingResistant))
}

// passkeyOptions begins a passwordless login for an auth request.
func (h *Handler) passkeyOptions(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	if !passkey.Offered(t) {
		return jsonError(c, httperr.NotFound())
	}
	ar, err := h.request(c, t, c.QueryParam("id"))
	if err != nil {
		return jsonError(c, err)
	}
	opts, err := h.passkeys.BeginAssertion(ctx, t, passkey.Binding{Kind: passkey.KindPasskey, AuthRequestID: ar.ID}, web.BrowserHash(c, t), nil)
	if err != nil {
		return httperr.Internal(err)
	}
	return c.JSON(http.StatusOK, opts)
}

// submitPasskey signs a user in with a passkey alone: the authenticator
// proved possession of the key and verified the user (PIN or biometric),
// which is two factors and phishing-resistant. The user is the owner of
// the credential, whose user handle must name them.
func (h *Handler) submitPasskey(c echo.Context) error {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return err
	}
	ar, err := h.request(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	if !passkey.Offered(t) {
		return httperr.NotFound()
	}
	attempt := authn.Attempt{Action: "passkey", Rules: authn.LoginRules, Tenant: t.ID, Address: web.ClientIP(ctx)}
	if h.throttle.Check(ctx, attempt).Refuse {
		h.site.Audit(ctx, "", "", "login.throttled", "denied", "too many failed passkey attempts")
		return h.renderLogin(c, t, ar, "", errPasskeyLogin, http.StatusUnauthorized)
	}
	u, err := h.passkeys.FinishAssertion(ctx, t, passkey.Binding{Kind: passkey.KindPasskey, AuthRequestID: ar.ID}, web.BrowserHash(c, t), []byte(c.FormValue("credential")))
	var f *passkey.Failure
	if errors.As(err, &f) {
		userID, email := "", ""
		if u != nil {
			userID, email = u.ID, u.Email
			attempt.Account = u.ID
		}
		h.throttle.Failed(ctx, attempt)
		h.site.Audit(ctx, userID, email, "login.failed", "failure", passkey.Reason(err))
		return h.renderLogin(c, t, ar, "", errPasskeyLogin, http.StatusUnauthorized)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	attempt.Account = u.ID
	h.throttle.Succeeded(ctx, attempt)
	h.site.Audit(ctx, u.ID, u.Email, "mfa.webauthn_used", "success", "passkey")
	return h.Continue(c, t, ar, u, authn.Proof{AMR: []string{authn.AMRHWK, authn.AMRUser, authn.AMRMFA}, ACR: authn.ACRPhishingResistant})
}

// enrolWebAuthnOptions begins the registration of a passkey or security
// key as the first second factor of a user the tenant requires MFA of.
func (h *Handler) enrolWebAuthnOptions(c echo.Context) error {
	t, st, u, err := h.stepUser(c, tenants.StepEnrol)
	if err != nil {
		return jsonError(c, err)
	}
	b := passkey.Binding{Kind: passkey.KindEnrol, UserID: u.ID, AuthRequestID: st.AuthRequestID, Parent: st.ID}
	opts, err := h.passkeys.BeginRegistration(c.Request().Context(), t, b, web.BrowserHash(c, t), u)
	if err != nil {
		return httperr.Internal(err)
	}
	return c.JSON(http.StatusOK, opts)
}

// submitEnrolWebAuthn registers the new credential, completes the login
// and shows the recovery codes once, as the TOTP enrolment does.
func (h *Handler) submitEnrolWebAuthn(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepEnrol)
	if err != nil {
		return err
	}
	t, ctx, u := sr.t, sr.ctx, sr.u
	if h.throttle.Check(ctx, sr.attempt).Refuse {
		h.site.Audit(ctx, u.ID, u.Email, "mfa.throttled", "denied", "too many failed attempts")
		return h.renderEnrol(c, t, sr.st, sr.token, errPasskeyEnrol, http.StatusUnauthorized)
	}
	want := passkey.Binding{Kind: passkey.KindEnrol, UserID: u.ID, AuthRequestID: sr.st.AuthRequestID, Parent: sr.st.ID}
	err = h.passkeys.FinishRegistration(ctx, t, want, web.BrowserHash(c, t), u, []byte(c.FormValue("credential")), c.FormValue("name"), sr.ar.ID)
	var f *passkey.Failure
	if errors.As(err, &f) {
		h.throttle.Failed(ctx, sr.attempt)
		h.site.Audit(ctx, u.ID, u.Email, "mfa.enrol_failed", "failure", passkey.Reason(err))
		return h.renderEnrol(c, t, sr.st, sr.token, errPasskeyEnrol, http.StatusUnauthorized)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	if _, err := h.store.UseLoginStep(ctx, sr.st.ID); err != nil {
		return expired()
	}
	h.throttle.Succeeded(ctx, sr.attempt)
	h.site.Audit(ctx, u.ID, u.Email, "mfa.enrolled", "success", "webauthn")
	return h.enrolled(c, sr, sr.first.With(authn.AMRHWK, authn.ACRPhishingResistant))
}
