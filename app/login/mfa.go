package login

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/mfa"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

const errWrongCode = "mfa.wrong_code"

// showMFA shows the second step of a login.
func (h *Handler) showMFA(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	token := c.QueryParam("step")
	st, err := h.loadStep(c, t, token, tenants.StepMFA)
	if err != nil {
		return err
	}
	// The step's page speaks its sign-in's ui_locales, as the login did.
	if _, err := h.request(c, t, st.AuthRequestID); err != nil {
		return err
	}
	return h.renderMFA(c, t, st, token, "", http.StatusOK)
}

func (h *Handler) renderMFA(c echo.Context, t *tenants.Tenant, st *tenants.LoginStep, token, msg string, status int) error {
	ctx := c.Request().Context()
	fs, err := h.factors.Confirmed(ctx, st.UserID)
	if err != nil {
		return httperr.Internal(err)
	}
	v := views.MFAView{Meta: web.Meta(t, "mfa.title"), Step: token, Error: msg, CSRF: h.site.CSRF(c, t)}
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	for _, f := range usable(fs, data.proof()) {
		v.HasTOTP = v.HasTOTP || f.Type == tenants.FactorTOTP
		v.HasWebAuthn = v.HasWebAuthn || f.Type == tenants.FactorWebAuthn
	}
	ar, err := h.request(c, t, st.AuthRequestID)
	if err != nil {
		return err
	}
	v.OnlyWebAuthn = authn.RequirementOf(ar).ACR == authn.ACRPhishingResistant
	return web.Render(c, status, views.MFAPage(v))
}

// stepRequest is a form posted at a step of a login (second factor,
// enrolment): its tenant, step, authorization request, user, and the
// attempt its tries count as.
type stepRequest struct {
	t       *tenants.Tenant
	ctx     context.Context
	token   string
	st      *tenants.LoginStep
	ar      *tenants.AuthRequest
	u       *tenants.User
	attempt authn.Attempt
	first   authn.Proof
}

// stepForm loads what a form posted at a step of purpose belongs to: its
// step, the request and the user (the route table checked its anti-CSRF
// token).
func (h *Handler) stepForm(c echo.Context, purpose string) (*stepRequest, error) {
	t, ctx, err := web.Tenant(c)
	if err != nil {
		return nil, err
	}
	token := c.FormValue("step")
	st, err := h.loadStep(c, t, token, purpose)
	if err != nil {
		return nil, err
	}
	ar, err := h.request(c, t, st.AuthRequestID)
	if err != nil {
		return nil, err
	}
	u, err := h.store.UserByID(ctx, st.UserID)
	if err != nil || u.DisabledAt != nil {
		return nil, expired()
	}
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	if data.SignInID != "" {
		// A step-up goes on only while the session it steps up does: a
		// session signed out or revoked meanwhile is not brought back.
		sess, err := h.site.Session(c)
		if err != nil {
			return nil, httperr.Internal(err)
		}
		if sess == nil || sess.UserID != u.ID || sess.SignInID != data.SignInID {
			return nil, expired()
		}
	}
	return &stepRequest{t: t, ctx: ctx, token: token, st: st, ar: ar, u: u, first: data.proof(),
		attempt: authn.SecondFactorAttempt(t.ID, u.ID, web.ClientIP(ctx), h.trustedDeviceFor(c, t, u.ID))}, nil
}

// submitMFA checks a TOTP or recovery code for the second step.
func (h *Handler) submitMFA(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepMFA)
	if err != nil {
		return err
	}
	t, ctx, u := sr.t, sr.ctx, sr.u
	// The code takes its turn on the counters before it is checked: codes
	// sent at once get no more guesses than codes sent one by one.
	turn := h.throttle.Begin(ctx, sr.attempt)
	if turn.Refuse {
		h.site.Audit(ctx, u.ID, u.Email, "mfa.throttled", "denied", "too many failed codes")
		return h.renderMFA(c, t, sr.st, sr.token, errWrongCode, http.StatusUnauthorized)
	}
	ok := false
	if code := c.FormValue("code"); code != "" {
		ok = h.checkCode(ctx, u.ID, sr.first, code)
	} else if rc := c.FormValue("recovery_code"); rc != "" && h.factors.UseRecoveryCode(ctx, u.ID, rc, sr.first.AuthTime) {
		ok = true
		h.site.Audit(ctx, u.ID, u.Email, "mfa.recovery_code_used", "success", "")
	}
	if !ok || authn.RequirementOf(sr.ar).ACR == authn.ACRPhishingResistant {
		turn.Failed(ctx)
		h.site.Audit(ctx, u.ID, u.Email, "mfa.failed", "failure", "wrong code")
		return h.renderMFA(c, t, sr.st, sr.token, errWrongCode, http.StatusUnauthorized)
	}
	if _, err := h.store.UseLoginStep(ctx, sr.st.ID); err != nil {
		turn.Cancel(ctx)
		return expired()
	}
	turn.Succeeded(ctx)
	return h.finish(c, t, sr.ar, u, sr.first.With(authn.AMROTP, authn.ACRMFA))
}

// checkCode checks code against the user's confirmed TOTP factors that
// the step after first may use.
func (h *Handler) checkCode(ctx context.Context, userID string, first authn.Proof, code string) bool {
	fs, err := h.factors.Confirmed(ctx, userID)
	if err != nil {
		return false
	}
	fs = usable(fs, first)
	for i := range fs {
		if fs[i].Type == tenants.FactorTOTP && h.factors.CheckTOTP(ctx, &fs[i], code) {
			return true
		}
	}
	return false
}

// showEnrol asks a user whom the tenant requires MFA of to set up an
// authenticator app before the login completes.
func (h *Handler) showEnrol(c echo.Context) error {
	t, _, err := web.Tenant(c)
	if err != nil {
		return err
	}
	token := c.QueryParam("step")
	st, err := h.loadStep(c, t, token, tenants.StepEnrol)
	if err != nil {
		return err
	}
	// The step's page speaks its sign-in's ui_locales, as the login did.
	if _, err := h.request(c, t, st.AuthRequestID); err != nil {
		return err
	}
	return h.renderEnrol(c, t, st, token, "", http.StatusOK)
}

func (h *Handler) renderEnrol(c echo.Context, t *tenants.Tenant, st *tenants.LoginStep, token, msg string, status int) error {
	ctx := c.Request().Context()
	u, err := h.store.UserByID(ctx, st.UserID)
	if err != nil {
		return expired()
	}
	_, key, err := h.factors.Pending(ctx, t, u, st.AuthRequestID)
	if err != nil {
		return httperr.Internal(err)
	}
	qr, err := mfa.QR(key)
	if err != nil {
		return httperr.Internal(err)
	}
	return web.Render(c, status, views.EnrolPage(views.EnrolView{Meta: web.Meta(t, "mfa.title"), Step: token,
		CSRF: h.site.CSRF(c, t), Action: web.PathEnrol, QR: qr, Secret: key.Secret(), Error: msg,
		WebAuthn: h.passkeys != nil}))
}

// submitEnrol confirms the new authenticator with its first code, then
// completes the login and shows the recovery codes once. The factor
// belongs to this sign-in: it cannot confirm a sensitive change of the
// session it makes.
func (h *Handler) submitEnrol(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepEnrol)
	if err != nil {
		return err
	}
	t, ctx, u := sr.t, sr.ctx, sr.u
	f, _, err := h.factors.Pending(ctx, t, u, sr.ar.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	turn := h.throttle.Begin(ctx, sr.attempt)
	if turn.Refuse {
		return h.renderEnrol(c, t, sr.st, sr.token, errWrongCode, http.StatusUnauthorized)
	}
	if !h.factors.CheckTOTP(ctx, f, c.FormValue("code")) {
		turn.Failed(ctx)
		return h.renderEnrol(c, t, sr.st, sr.token, errWrongCode, http.StatusUnauthorized)
	}
	if _, err := h.store.UseLoginStep(ctx, sr.st.ID); err != nil {
		turn.Cancel(ctx)
		return expired()
	}
	turn.Succeeded(ctx)
	h.site.Audit(ctx, u.ID, u.Email, "mfa.enrolled", "success", tenants.FactorTOTP)
	return h.enrolled(c, sr, sr.first.With(authn.AMROTP, authn.ACRMFA))
}

// enrolled ends a login whose user just set up their first second factor:
// the session, then the recovery codes, shown once.
func (h *Handler) enrolled(c echo.Context, sr *stepRequest, p authn.Proof) error {
	codes, err := h.factors.NewRecoveryCodes(sr.ctx, sr.u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.establish(c, sr.t, sr.ar, sr.u, p); err != nil {
		return err
	}
	next := web.PathConsent + "?id=" + url.QueryEscape(sr.ar.ID)
	if sr.ar.Intent != "" {
		d, err := h.provider.Complete(sr.ctx, sr.ar)
		if err != nil {
			return err
		}
		next = d.URI // an intent's: a path of this host

	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return web.Render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Meta: web.Meta(sr.t, "recovery.title"), Codes: codes, Continue: next}))
}
