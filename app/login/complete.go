package login

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Authentication context classes (OIDC Core §2, acr): what a login reached.
// A login with one factor has none.
const (
	// ACRMFA is multi-factor authentication.
	ACRMFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	// ACRPhishingResistant is authentication with a WebAuthn credential.
	ACRPhishingResistant = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant"
)

// Authentication method references (RFC 8176) Gatehouse writes.
const (
	amrOTP  = "otp"  // a TOTP code (or a recovery code)
	amrHWK  = "hwk"  // a WebAuthn credential (security key or passkey)
	amrUser = "user" // user verification by the authenticator (PIN, biometric)
	amrMFA  = "mfa"  // more than one factor
)

// stepTTL is how long the second step of a login may take.
const stepTTL = 10 * time.Minute

// firstFactor is how a login began: its methods, and the upstream
// connection for a federated login.
type firstFactor struct {
	amr []string
	idp string
	acr string
}

// stepData is what a login step remembers of the first factor.
type stepData struct {
	AMR []string `json:"amr"`
	IDP string   `json:"idp,omitempty"`
	ACR string   `json:"acr,omitempty"`
}

// acrMeets reports whether a login that reached have satisfies a request
// for want.
func acrMeets(have, want string) bool {
	switch want {
	case ACRMFA:
		return have == ACRMFA || have == ACRPhishingResistant
	case ACRPhishingResistant:
		return have == ACRPhishingResistant
	}
	return true
}

// requiredACR is the strongest class among those ar asks for (acr_values),
// or "" when it asks for none Gatehouse knows.
func requiredACR(ar *tenants.AuthRequest) string {
	if slices.Contains(ar.ACRValues, ACRPhishingResistant) {
		return ACRPhishingResistant
	}
	if slices.Contains(ar.ACRValues, ACRMFA) {
		return ACRMFA
	}
	return ""
}

// completeLogin continues a login whose first factor succeeded: a user with
// a second factor, or whom the tenant's policy or the request requires one
// of, goes to the MFA step (or to enrolment); everyone else gets a session.
func (h *Handler) completeLogin(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, ff firstFactor) error {
	ctx := c.Request().Context()
	factors, err := h.confirmedFactors(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	need := requiredACR(ar)
	byPolicy := t.MFA() == tenants.MFARequired || t.MFA() == tenants.MFAOptional && len(factors) > 0
	if need == "" && byPolicy {
		need = ACRMFA
	}
	if need == ACRPhishingResistant && len(factors) > 0 && !hasFactor(factors, tenants.FactorWebAuthn) {
		// An authenticator app cannot meet the request, and the MFA step
		// would offer nothing that can: answer the client now.
		h.auditLogin(c, u.ID, u.Email, "login.failed", "denied", "phishing-resistant authentication requested; the account has no passkey")
		return h.provider.Fail(ctx, ar, "access_denied", "the required authentication (a passkey or security key) is not set up for this account")
	}
	if need != "" && !acrMeets(ff.acr, need) {
		purpose := tenants.StepMFA
		if len(factors) == 0 {
			purpose = tenants.StepEnrol
		}
		token, err := h.newStep(c, t, purpose, u.ID, ar.ID, stepData{AMR: ff.amr, IDP: ff.idp, ACR: ff.acr})
		if err != nil {
			return httperr.Internal(err)
		}
		if purpose == tenants.StepEnrol {
			return redirect(c, pathEnrol+"?step="+url.QueryEscape(token))
		}
		return redirect(c, pathMFA+"?step="+url.QueryEscape(token))
	}
	return h.finishLogin(c, t, ar, u, ff)
}

// finishLogin gives the user a new session (a new id: no fixation) with
// what the login proved, records it on the auth request, and moves on to
// consent.
func (h *Handler) finishLogin(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, ff firstFactor) error {
	if err := h.establish(c, t, ar, u, ff); err != nil {
		return err
	}
	return redirect(c, pathConsent+"?id="+url.QueryEscape(ar.ID))
}

// establish makes the session of a completed login and records it on ar.
func (h *Handler) establish(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, ff firstFactor) error {
	ctx := c.Request().Context()
	if need := requiredACR(ar); need != "" && !acrMeets(ff.acr, need) {
		return h.provider.Fail(ctx, ar, "access_denied", "the required authentication could not be performed")
	}
	sess, err := h.startSession(c, ctx, t, u, ff)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.store.SetAuthenticated(ctx, ar.ID, fromSession(sess)); err != nil {
		return httperr.Internal(err)
	}
	if err := h.store.RecordLogin(ctx, u.ID, h.now().UTC(), ""); err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, u.ID, u.Email, "login.succeeded", "success", h.loginReason(t, ar, ff))
	return nil
}

// hasFactor reports whether factors hold one of type kind.
func hasFactor(factors []tenants.MFAFactor, kind string) bool {
	for _, f := range factors {
		if f.Type == kind {
			return true
		}
	}
	return false
}

// confirmedFactors returns the user's usable second factors.
func (h *Handler) confirmedFactors(ctx context.Context, userID string) ([]tenants.MFAFactor, error) {
	fs, err := h.store.ListFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := fs[:0]
	for _, f := range fs {
		if f.Confirmed {
			out = append(out, f)
		}
	}
	return out, nil
}

// newStep stores a login step bound to this browser and returns its token.
func (h *Handler) newStep(c echo.Context, t *tenants.Tenant, purpose, userID, arID string, data any) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	token := secret.Token(32)
	st := &tenants.LoginStep{ID: secret.Hash(token), UserID: userID, AuthRequestID: arID, Purpose: purpose,
		BrowserHash: secret.Hash(ensureBrowser(c, t)), Data: string(b), ExpiresAt: h.now().Add(stepTTL)}
	return token, h.store.CreateLoginStep(c.Request().Context(), st)
}

// loadStep returns the unexpired step named by token of purpose, bound to
// this browser, without spending it.
func (h *Handler) loadStep(c echo.Context, t *tenants.Tenant, token, purpose string) (*tenants.LoginStep, error) {
	if token == "" || len(token) > 128 {
		return nil, expired()
	}
	st, err := h.store.LoginStepByID(c.Request().Context(), secret.Hash(token))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, expired()
	}
	if err != nil {
		return nil, httperr.Internal(err)
	}
	if st.Purpose != purpose || !secret.Equal(st.BrowserHash, secret.Hash(browserID(c, t))) {
		return nil, expired()
	}
	return st, nil
}

// auditLogin writes a login event to the tenant's audit log. The email
// address of a failed attempt is kept only as a hash.
func (h *Handler) auditLogin(c echo.Context, userID, email, action, outcome, reason string) {
	r := c.Request()
	ev := &tenants.AuditEvent{Action: action, ActorKind: "user", ActorID: userID, TargetType: "user", TargetID: userID,
		Outcome: outcome, Reason: reason, IPAddress: c.RealIP(), UserAgent: truncate(r.UserAgent(), 256),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
	if userID == "" && email != "" {
		ev.ActorName = "email sha256:" + secret.Hash(tenants.NormalizeEmail(email))[:16]
	} else {
		ev.ActorName = email
	}
	if err := h.store.AppendAudit(r.Context(), ev); err != nil {
		slog.ErrorContext(r.Context(), "write audit event", "action", action, "err", err)
	}
}
