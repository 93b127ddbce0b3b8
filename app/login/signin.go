package login

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/app/web"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// stepTTL is how long the second step of a login may take.
const stepTTL = 10 * time.Minute

// fromSession is the authentication a session records.
func fromSession(s *tenants.Session) tenants.Authentication {
	return tenants.Authentication{UserID: s.UserID, Time: s.AuthTime, AMR: s.AMR, IDP: s.IDP, ACR: s.ACR, SID: tenants.SessionSID(s)}
}

// judge decides what the browser's session needs to answer ar (package
// authn).
func (h *Handler) judge(c echo.Context, t *tenants.Tenant, sess *tenants.Session, ar *tenants.AuthRequest) (authn.Verdict, error) {
	v, err := authn.JudgeSession(c.Request().Context(), t, sess, authn.RequirementOf(ar), h.store.Now(), h.factors.Confirmed)
	if err != nil {
		return v, httperr.Internal(err)
	}
	return v, nil
}

// stepData is what a login step remembers of the first factor.
type stepData struct {
	AMR []string `json:"amr"`
	IDP string   `json:"idp,omitempty"`
	ACR string   `json:"acr,omitempty"`
	// AuthTime and SignInID are the session a step-up steps up.
	AuthTime time.Time `json:"auth_time,omitzero"`
	SignInID string    `json:"sign_in,omitempty"`
}

func (d stepData) proof() authn.Proof {
	return authn.Proof{AMR: d.AMR, IDP: d.IDP, ACR: d.ACR, AuthTime: d.AuthTime, SignInID: d.SignInID}
}

// usable returns the factors of fs a step of a sign-in with first factor
// p may use: for a step-up, only those the user had before the session's
// sign-in (package authn).
func usable(fs []tenants.MFAFactor, p authn.Proof) []tenants.MFAFactor {
	if p.SignInID == "" {
		return fs
	}
	return authn.Earlier(fs, &tenants.Session{SignInID: p.SignInID})
}

// Continue goes on with a sign-in whose first factor succeeded (a
// password, a passkey, an upstream login, a confirmed sign-up): to the
// second-factor step or enrolment when the request or the tenant's policy
// needs one the first factor did not reach, else to a session and consent.
// A step-up (first from authn.StepUpOf) proves only a factor the user had
// before the session; it never enrols one: that needs a first factor now.
func (h *Handler) Continue(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, first authn.Proof) error {
	ctx := c.Request().Context()
	fs, err := h.factors.Confirmed(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	f := authn.FactorsOf(usable(fs, first))
	need := authn.Need(authn.RequirementOf(ar), t.MFA(), f)
	next := authn.Next(need, first.ACR, f)
	if first.SignInID != "" && next != authn.Done && next != authn.SecondFactor {
		return h.renderLogin(c, t, ar, u.Email, "", http.StatusOK)
	}
	switch next {
	case authn.Done:
		return h.finish(c, t, ar, u, first)
	case authn.Unreachable:
		// An authenticator app cannot meet the request, and the MFA step
		// would offer nothing that can: answer the client now.
		h.site.Audit(ctx, u.ID, u.Email, "login.failed", "denied", "phishing-resistant authentication requested; the account has no passkey")
		return h.provider.Fail(ctx, ar, httperr.AccessDenied, "the required authentication (a passkey or security key) is not set up for this account")
	case authn.Enrol:
		token, err := h.newStep(c, t, tenants.StepEnrol, u.ID, ar.ID, first)
		if err != nil {
			return httperr.Internal(err)
		}
		return web.Redirect(c, web.PathEnrol+"?step="+url.QueryEscape(token))
	}
	token, err := h.newStep(c, t, tenants.StepMFA, u.ID, ar.ID, first)
	if err != nil {
		return httperr.Internal(err)
	}
	return web.Redirect(c, web.PathMFA+"?step="+url.QueryEscape(token))
}

// finish gives the user a session with what the sign-in proved and moves on
// to consent (or, for an intent of Gatehouse's own pages, completes it).
func (h *Handler) finish(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, p authn.Proof) error {
	if err := h.establish(c, t, ar, u, p); err != nil {
		return err
	}
	return h.afterSignIn(c, ar)
}

// afterSignIn moves a request whose user has signed in on: to consent, or,
// for an intent, to where it returns.
func (h *Handler) afterSignIn(c echo.Context, ar *tenants.AuthRequest) error {
	if ar.Intent != "" {
		d, err := h.provider.Complete(c.Request().Context(), ar)
		if err != nil {
			return err
		}
		return web.Redirect(c, d.URI) // an intent's: a path of this host
	}
	return web.Redirect(c, web.PathConsent+"?id="+url.QueryEscape(ar.ID))
}

// establish makes the session of a completed sign-in (a new id: no
// fixation) and records it on ar. A request for one user (id_token_hint, a
// re-authentication) signed in to by another fails.
func (h *Handler) establish(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest, u *tenants.User, p authn.Proof) error {
	ctx := c.Request().Context()
	if need := authn.RequirementOf(ar).ACR; !authn.Meets(p.ACR, need) {
		return h.provider.Fail(ctx, ar, httperr.AccessDenied, "the required authentication could not be performed")
	}
	if ar.HintSubject != "" && ar.HintSubject != u.ID {
		h.site.Audit(ctx, u.ID, u.Email, "login.failed", "denied", "signed in as another user than the request named")
		return h.provider.Fail(ctx, ar, httperr.LoginRequired, "you signed in as another user than the one asked for")
	}
	signIn := ar.ID
	if p.SignInID != "" {
		signIn = p.SignInID
	}
	sess, err := h.site.StartSession(c, t, tenants.Authentication{UserID: u.ID, AMR: p.AMR, IDP: p.IDP, ACR: p.ACR, Time: p.AuthTime}, signIn)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.provider.Authenticated(ctx, ar, fromSession(sess)); err != nil {
		return err
	}
	if authn.Meets(p.ACR, authn.ACRMFA) {
		// Two factors from this browser: its own second-factor failures
		// are what throttling judges it by from now on.
		h.site.RememberDevice(c, t, web.TrustedDeviceCookie, u.ID)
	}
	if err := h.store.RecordLogin(ctx, u.ID, h.store.Now(), ""); err != nil {
		return httperr.Internal(err)
	}
	h.site.Audit(ctx, u.ID, u.Email, "login.succeeded", "success", loginReason(ar, p))
	return nil
}

// loginReason is the audit reason of a sign-in that completes ar: an
// IdP-initiated SAML login and a re-authentication say so.
func loginReason(ar *tenants.AuthRequest, p authn.Proof) string {
	switch ar.Intent {
	case tenants.IntentIdPInitiated:
		return "IdP-initiated SAML login (unsolicited response) via " + p.IDP
	case tenants.IntentReauth:
		return "re-authentication for the account page"
	case tenants.IntentDevice:
		return "sign-in to answer a device's request"
	case tenants.IntentSAML:
		return "sign-in to a SAML application"
	}
	return ""
}

// newStep stores a login step bound to this browser and returns its token.
func (h *Handler) newStep(c echo.Context, t *tenants.Tenant, purpose, userID, arID string, p authn.Proof) (string, error) {
	b, err := json.Marshal(stepData{AMR: p.AMR, IDP: p.IDP, ACR: p.ACR, AuthTime: p.AuthTime, SignInID: p.SignInID})
	if err != nil {
		return "", err
	}
	token := secret.Token(32)
	st := &tenants.LoginStep{ID: secret.Hash(token), UserID: userID, AuthRequestID: arID, Purpose: purpose,
		BrowserHash: secret.Hash(web.EnsureBrowser(c, t)), Data: string(b), ExpiresAt: h.store.Now().Add(stepTTL)}
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
	if st.Purpose != purpose || !secret.Equal(st.BrowserHash, web.BrowserHash(c, t)) {
		return nil, expired()
	}
	return st, nil
}

// request loads the auth request id for this browser (package oidc).
func (h *Handler) request(c echo.Context, t *tenants.Tenant, id string) (*tenants.AuthRequest, error) {
	ar, err := h.provider.Request(c.Request().Context(), id, web.BrowserHash(c, t))
	if err == nil {
		// The pages of the request speak its ui_locales.
		h.site.Speak(c, ar, nil)
	}
	return ar, err
}

func expired() error {
	return httperr.Page(400, "This sign-in has expired", "Sign-in requests are valid for a few minutes. Go back to the application and sign in again.")
}
