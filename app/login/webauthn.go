package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Passkeys and security keys (W3C Web Authentication Level 3): a WebAuthn
// credential is a second factor after a password, a passwordless login
// (a discoverable credential with user verification), and what a user
// enrols when the tenant requires MFA or from the account page.
//
// Each ceremony has two requests. GET .../options begins it: the challenge
// and what go-webauthn must remember (its SessionData) are kept in a login
// step bound to the browser whose id is the hash of the challenge, and the
// options go to the page as JSON. The POST carries the credential as JSON
// (base64url fields, as navigator.credentials returns them) in the form
// field "credential"; its client data names the challenge, which finds the
// step, which is spent before anything is verified: a challenge answers
// once.
const (
	pathMFAWebAuthn     = "/login/mfa/webauthn"
	pathPasskey         = "/login/passkey"
	pathEnrolWebAuthn   = "/login/enrol/webauthn"
	pathAccountWebAuthn = "/account/webauthn"
	optionsSuffix       = "/options"
)

// ceremonyTTL is how long a WebAuthn challenge may be answered; the
// browser is told the same timeout.
const ceremonyTTL = 5 * time.Minute

// maxCredentialJSON caps the credential JSON a form may carry.
const maxCredentialJSON = 32 << 10

// Kinds of ceremony, so that a challenge begun for one purpose answers no
// other.
const (
	ceremonyMFA     = "mfa"     // second factor of a login
	ceremonyPasskey = "passkey" // passwordless login
	ceremonyEnrol   = "enrol"   // registration during a login (MFA required)
	ceremonyAccount = "account" // registration from the account page
)

// Messages of failed ceremonies: the same whatever went wrong.
const (
	errPasskey       = "That passkey or security key could not be used. Try again."
	errPasskeyLogin  = "That passkey could not be used. Try again, or sign in with your password."
	errPasskeyEnrol  = "The passkey or security key could not be set up. Try again."
	accountPasskeyOK = "passkey-added"
	accountPasskeyNo = "passkey-failed"
	accountConfirmNo = "confirm-failed"
)

// registerWebAuthn adds the WebAuthn endpoints to e behind mw.
func (h *Handler) registerWebAuthn(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	e.GET(pathMFAWebAuthn+optionsSuffix, h.mfaWebAuthnOptions, mw...)
	e.POST(pathMFAWebAuthn, h.submitMFAWebAuthn, mw...)
	e.GET(pathPasskey+optionsSuffix, h.passkeyOptions, h.costly(mw)...)
	e.POST(pathPasskey, h.submitPasskey, h.costly(mw)...)
	e.GET(pathEnrolWebAuthn+optionsSuffix, h.enrolWebAuthnOptions, mw...)
	e.POST(pathEnrolWebAuthn, h.submitEnrolWebAuthn, mw...)
	e.GET(pathAccountWebAuthn+optionsSuffix, h.accountWebAuthnOptions, mw...)
	e.POST(pathAccountWebAuthn, h.submitAccountWebAuthn, mw...)
}

// relyingParties holds each tenant's WebAuthn relying party: its id is
// the tenant's host and its one origin the tenant's issuer, so a
// credential made at one tenant is useless at another (the browser scopes
// it to the RP id, and the server checks the RP id hash and the origin).
type relyingParties struct {
	mu sync.Mutex
	rp map[string]relyingParty // by tenant id
}

type relyingParty struct {
	stamp string // what the relying party was built from
	wa    *webauthn.WebAuthn
}

func newRelyingParties() *relyingParties {
	return &relyingParties{rp: map[string]relyingParty{}}
}

// forTenant returns t's relying party, building it on first use and again
// when t's issuer, host or name changed.
func (p *relyingParties) forTenant(t *tenants.Tenant) (*webauthn.WebAuthn, error) {
	stamp := t.Issuer + "\x00" + t.Host + "\x00" + t.DisplayName
	p.mu.Lock()
	defer p.mu.Unlock()
	if rp, ok := p.rp[t.ID]; ok && rp.stamp == stamp {
		return rp.wa, nil
	}
	u, err := url.Parse(t.Issuer)
	if err != nil || u.Host == "" {
		return nil, errors.New("tenant issuer is not a URL")
	}
	id := t.Host
	if id == "" {
		id = u.Hostname()
	}
	uvPreferred := false
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  id,
		RPDisplayName:         t.DisplayName,
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			RequireResidentKey: &uvPreferred,
			UserVerification:   protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
		},
	})
	if err != nil {
		return nil, err
	}
	p.rp[t.ID] = relyingParty{stamp: stamp, wa: wa}
	return wa, nil
}

// passkeysOffered reports whether t's pages offer passkeys: WebAuthn needs
// a secure context, so an issuer served over plain HTTP offers them only
// on localhost (development).
func (h *Handler) passkeysOffered(t *tenants.Tenant) bool {
	if !h.webauthnEnabled() {
		return false
	}
	u, err := url.Parse(t.Issuer)
	if err != nil {
		return false
	}
	host := u.Hostname()
	return u.Scheme == "https" || host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// passkeyUser is a user with their WebAuthn credentials, as go-webauthn
// sees them. The user handle is the user's id: a random UUID, no personal
// data.
type passkeyUser struct {
	u       *tenants.User
	creds   []webauthn.Credential
	factors map[string]string // credential id (base64url) → factor id
}

func (p *passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }
func (p *passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}

var _ webauthn.User = (*passkeyUser)(nil)

// passkeyUserOf loads u's WebAuthn credentials.
func (h *Handler) passkeyUserOf(ctx context.Context, u *tenants.User) (*passkeyUser, error) {
	fs, err := h.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	p := &passkeyUser{u: u, factors: map[string]string{}}
	for _, f := range fs {
		if f.Type != tenants.FactorWebAuthn || !f.Confirmed {
			continue
		}
		var cred webauthn.Credential
		if err := json.Unmarshal([]byte(f.Credential), &cred); err != nil {
			return nil, err
		}
		p.creds = append(p.creds, cred)
		p.factors[credentialID(cred.ID)] = f.ID
	}
	return p, nil
}

func credentialID(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// ceremony is what a WebAuthn challenge's login step remembers.
type ceremony struct {
	Kind    string               `json:"kind"`
	Session webauthn.SessionData `json:"session"`
	// Parent is the hash of the login step (MFA or enrolment) the
	// ceremony belongs to.
	Parent string `json:"parent,omitempty"`
	// SessionID is the session an account-page registration began in.
	SessionID string `json:"session_id,omitempty"`
}

// beginCeremony stores the login step of cer, named by its challenge.
func (h *Handler) beginCeremony(c echo.Context, t *tenants.Tenant, purpose, userID, arID string, cer ceremony) error {
	b, err := json.Marshal(cer)
	if err != nil {
		return err
	}
	st := &tenants.LoginStep{ID: secret.Hash(cer.Session.Challenge), UserID: userID, AuthRequestID: arID, Purpose: purpose,
		BrowserHash: secret.Hash(ensureBrowser(c, t)), Data: string(b), ExpiresAt: h.now().Add(ceremonyTTL)}
	return h.store.CreateLoginStep(c.Request().Context(), st)
}

// errCeremony is any failure of a ceremony: a challenge unknown, spent,
// expired, of another browser or purpose, or a credential that does not
// verify. The reason goes to the audit log only.
type errCeremony struct{ reason string }

func (e errCeremony) Error() string { return e.reason }

func ceremonyFailed(reason string) error { return errCeremony{reason} }

// takeCeremony spends the unexpired step of kind named by challenge, if it
// belongs to this browser, and returns it with what it remembers.
func (h *Handler) takeCeremony(c echo.Context, t *tenants.Tenant, purpose, kind, challenge string) (*tenants.LoginStep, *ceremony, error) {
	ctx := c.Request().Context()
	if challenge == "" || len(challenge) > 128 {
		return nil, nil, ceremonyFailed("no challenge")
	}
	id := secret.Hash(challenge)
	st, err := h.store.LoginStepByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, nil, ceremonyFailed("unknown or spent challenge")
	}
	if err != nil {
		return nil, nil, err
	}
	if st.Purpose != purpose || !secret.Equal(st.BrowserHash, secret.Hash(browserID(c, t))) {
		return nil, nil, ceremonyFailed("challenge of another purpose or browser")
	}
	if _, err := h.store.UseLoginStep(ctx, id); err != nil {
		return nil, nil, ceremonyFailed("spent challenge")
	}
	var cer ceremony
	if err := json.Unmarshal([]byte(st.Data), &cer); err != nil || cer.Kind != kind {
		return nil, nil, ceremonyFailed("challenge of another kind")
	}
	return st, &cer, nil
}

// formCredential returns the credential JSON of the form.
func formCredential(c echo.Context) ([]byte, error) {
	s := c.FormValue("credential")
	if s == "" {
		return nil, ceremonyFailed("no credential (the browser could not use WebAuthn)")
	}
	if len(s) > maxCredentialJSON {
		return nil, ceremonyFailed("credential too large")
	}
	return []byte(s), nil
}

// parseAssertion parses the credential of a login ceremony.
func parseAssertion(c echo.Context) (*protocol.ParsedCredentialAssertionData, error) {
	raw, err := formCredential(c)
	if err != nil {
		return nil, err
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		return nil, ceremonyFailed("malformed assertion: " + protocolReason(err))
	}
	return p, nil
}

// parseAttestation parses the credential of a registration ceremony.
func parseAttestation(c echo.Context) (*protocol.ParsedCredentialCreationData, error) {
	raw, err := formCredential(c)
	if err != nil {
		return nil, err
	}
	p, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return nil, ceremonyFailed("malformed attestation: " + protocolReason(err))
	}
	return p, nil
}

// protocolReason is a short description of a go-webauthn error for the
// audit log (never secret: it names what failed, not the data).
func protocolReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			slog.Debug("webauthn ceremony failed", "type", pe.Type, "details", pe.Details, "info", pe.DevInfo)
		}
		r := pe.Type
		if pe.Details != "" {
			r += ": " + pe.Details
		}
		return truncate(r, 200)
	}
	return truncate(err.Error(), 200)
}

// reasonOf is the audit reason of a failed ceremony.
func reasonOf(err error) string {
	var ce errCeremony
	if errors.As(err, &ce) {
		return truncate("webauthn: "+ce.reason, 256)
	}
	return truncate("webauthn: "+protocolReason(err), 256)
}

// recordUse stores the credential as updated by a verified assertion (sign
// count, flags, last use), refusing one whose sign count did not grow: two
// copies of its key may exist (a cloned authenticator).
func (h *Handler) recordUse(ctx context.Context, pu *passkeyUser, cred *webauthn.Credential) error {
	if cred.Authenticator.CloneWarning {
		return ceremonyFailed("signature counter did not increase (cloned authenticator?)")
	}
	factorID, ok := pu.factors[credentialID(cred.ID)]
	if !ok {
		return ceremonyFailed("credential of another user")
	}
	b, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	return h.store.UseFactor(ctx, factorID, string(b))
}

// jsonOptions answers an options request.
func jsonOptions(c echo.Context, v any) error {
	return c.JSON(http.StatusOK, v)
}

// jsonError answers an options request that cannot begin a ceremony, in
// the form of the other JSON errors (error, error_description).
func jsonError(c echo.Context, err error) error {
	e := httperr.As(err)
	if e == nil || e.Status >= 500 {
		return err
	}
	code := e.Code
	if code == "" {
		code = "invalid_request"
	}
	return c.JSON(e.Status, map[string]string{"error": code, "error_description": e.Description})
}

// sameSite refuses an options request another site's page sent (the
// answer would not be readable there, but it would store a challenge).
func sameSite(c echo.Context) error {
	if s := c.Request().Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return forbidden()
	}
	return nil
}

// stepOptions checks a request for the WebAuthn options of a login step of
// purpose (same site, a live step of this browser, a user who may sign in).
// Callers answer its errors with jsonError.
func (h *Handler) stepOptions(c echo.Context, purpose string) (*tenants.Tenant, *tenants.LoginStep, *tenants.User, *passkeyUser, error) {
	t, ctx, err := tenant(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := sameSite(c); err != nil {
		return nil, nil, nil, nil, err
	}
	st, err := h.loadStep(c, t, c.QueryParam("step"), purpose)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	u, err := h.store.UserByID(ctx, st.UserID)
	if err != nil || u.DisabledAt != nil {
		return nil, nil, nil, nil, expired()
	}
	pu, err := h.passkeyUserOf(ctx, u)
	if err != nil {
		return nil, nil, nil, nil, httperr.Internal(err)
	}
	return t, st, u, pu, nil
}

// mfaWebAuthnOptions begins the second-factor ceremony of an MFA step: the
// user's credentials are allowed, user verification preferred.
func (h *Handler) mfaWebAuthnOptions(c echo.Context) error {
	t, st, u, pu, err := h.stepOptions(c, tenants.StepMFA)
	if err != nil {
		return jsonError(c, err)
	}
	if len(pu.creds) == 0 {
		return jsonError(c, httperr.Page(http.StatusBadRequest, "No passkey", "This account has no passkey or security key."))
	}
	wa, err := h.passkeys.forTenant(t)
	if err != nil {
		return httperr.Internal(err)
	}
	opts, sd, err := wa.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.beginCeremony(c, t, tenants.StepWebAuthnLogin, u.ID, st.AuthRequestID,
		ceremony{Kind: ceremonyMFA, Session: *sd, Parent: st.ID}); err != nil {
		return httperr.Internal(err)
	}
	return jsonOptions(c, opts)
}

// submitMFAWebAuthn checks the assertion of a user's passkey or security
// key as the second factor of a login.
func (h *Handler) submitMFAWebAuthn(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepMFA)
	if err != nil {
		return err
	}
	t, ctx, token, st, ar, u, keys := sr.t, sr.ctx, sr.token, sr.st, sr.ar, sr.u, sr.keys
	if h.throttled(ctx, keys) {
		h.auditLogin(c, u.ID, u.Email, "mfa.throttled", "denied", "too many failed attempts")
		return h.renderMFA(c, ctx, t, st, token, errPasskey, http.StatusUnauthorized)
	}
	err = h.verifyMFAAssertion(c, t, u, st)
	var ce errCeremony
	if errors.As(err, &ce) {
		h.failed(ctx, keys)
		h.auditLogin(c, u.ID, u.Email, "mfa.failed", "failure", reasonOf(err))
		return h.renderMFA(c, ctx, t, st, token, errPasskey, http.StatusUnauthorized)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	if _, err := h.store.UseLoginStep(ctx, st.ID); err != nil {
		return expired()
	}
	h.succeeded(ctx, keys)
	h.auditLogin(c, u.ID, u.Email, "mfa.webauthn_used", "success", "")
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	return h.finishLogin(c, t, ar, u, firstFactor{amr: withMFA(data.AMR, amrHWK), idp: data.IDP, acr: ACRPhishingResistant})
}

// verifyMFAAssertion verifies the form's assertion against u's credentials
// and the challenge begun for the MFA step st, and records its use.
func (h *Handler) verifyMFAAssertion(c echo.Context, t *tenants.Tenant, u *tenants.User, st *tenants.LoginStep) error {
	ctx := c.Request().Context()
	parsed, err := parseAssertion(c)
	if err != nil {
		return err
	}
	cs, cer, err := h.takeCeremony(c, t, tenants.StepWebAuthnLogin, ceremonyMFA, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return err
	}
	if cs.UserID != u.ID || cs.AuthRequestID != st.AuthRequestID || cer.Parent != st.ID {
		return ceremonyFailed("challenge of another login")
	}
	pu, err := h.passkeyUserOf(ctx, u)
	if err != nil {
		return err
	}
	wa, err := h.passkeys.forTenant(t)
	if err != nil {
		return err
	}
	cred, err := wa.ValidateLogin(pu, cer.Session, parsed)
	if err != nil {
		return ceremonyFailed(protocolReason(err))
	}
	return h.recordUse(ctx, pu, cred)
}

// passkeyOptions begins a passwordless login for an auth request: any
// discoverable credential of the tenant, user verification required.
func (h *Handler) passkeyOptions(c echo.Context) error {
	t, _, err := tenant(c)
	if err != nil {
		return err
	}
	if err := sameSite(c); err != nil {
		return jsonError(c, err)
	}
	if !h.passkeysOffered(t) {
		return jsonError(c, httperr.NotFound())
	}
	ar, err := h.loadRequest(c, t, c.QueryParam("id"))
	if err != nil {
		return jsonError(c, err)
	}
	wa, err := h.passkeys.forTenant(t)
	if err != nil {
		return httperr.Internal(err)
	}
	opts, sd, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.beginCeremony(c, t, tenants.StepWebAuthnLogin, "", ar.ID, ceremony{Kind: ceremonyPasskey, Session: *sd}); err != nil {
		return httperr.Internal(err)
	}
	return jsonOptions(c, opts)
}

// submitPasskey signs a user in with a passkey alone: the authenticator
// proved possession of the key and verified the user (PIN or biometric),
// which is two factors and phishing-resistant. The user is the owner of
// the credential, whose user handle must name them.
func (h *Handler) submitPasskey(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.checkCSRF(c, t, sessionID(sess)); err != nil {
		return err
	}
	ar, err := h.loadRequest(c, t, c.FormValue("id"))
	if err != nil {
		return err
	}
	if !h.passkeysOffered(t) {
		return httperr.NotFound()
	}
	keys := keysFor(t, "passkey", "", c.RealIP())
	if h.throttled(ctx, keys) {
		h.auditLogin(c, "", "", "login.throttled", "denied", "too many failed passkey attempts")
		return h.renderLogin(c, t, ar, sess, "", errPasskeyLogin, http.StatusUnauthorized)
	}
	u, err := h.verifyPasskey(c, t, ar)
	var ce errCeremony
	if errors.As(err, &ce) {
		userID, email := "", ""
		if u != nil {
			userID, email = u.ID, u.Email
			keys = keysFor(t, "passkey", u.Email, c.RealIP())
		}
		h.failed(ctx, keys)
		h.auditLogin(c, userID, email, "login.failed", "failure", reasonOf(err))
		return h.renderLogin(c, t, ar, sess, "", errPasskeyLogin, http.StatusUnauthorized)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.succeeded(ctx, keysFor(t, "passkey", u.Email, c.RealIP()))
	h.auditLogin(c, u.ID, u.Email, "mfa.webauthn_used", "success", "passkey")
	return h.completeLogin(c, t, ar, u, firstFactor{amr: []string{amrHWK, amrUser, amrMFA}, acr: ACRPhishingResistant})
}

// verifyPasskey verifies the form's passwordless assertion for ar and
// returns the user it proves; with an error, the user when one was found.
func (h *Handler) verifyPasskey(c echo.Context, t *tenants.Tenant, ar *tenants.AuthRequest) (*tenants.User, error) {
	ctx := c.Request().Context()
	parsed, err := parseAssertion(c)
	if err != nil {
		return nil, err
	}
	cs, cer, err := h.takeCeremony(c, t, tenants.StepWebAuthnLogin, ceremonyPasskey, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	if cs.UserID != "" || cs.AuthRequestID != ar.ID {
		return nil, ceremonyFailed("challenge of another login")
	}
	// The credential names its factor (in this tenant only); the user
	// handle must name the factor's owner.
	f, err := h.store.FactorByCredentialID(ctx, credentialID(parsed.RawID))
	if errors.Is(err, tenants.ErrNotFound) || (err == nil && (f.Type != tenants.FactorWebAuthn || !f.Confirmed)) {
		return nil, ceremonyFailed("unknown credential")
	}
	if err != nil {
		return nil, err
	}
	u, err := h.store.UserByID(ctx, f.UserID)
	if err != nil {
		return nil, err
	}
	if !secret.Equal(string(parsed.Response.UserHandle), u.ID) {
		return u, ceremonyFailed("user handle does not name the credential's owner")
	}
	if u.DisabledAt != nil {
		return u, ceremonyFailed("account disabled")
	}
	pu, err := h.passkeyUserOf(ctx, u)
	if err != nil {
		return u, err
	}
	wa, err := h.passkeys.forTenant(t)
	if err != nil {
		return u, err
	}
	_, cred, err := wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return pu, nil }, cer.Session, parsed)
	if err != nil {
		return u, ceremonyFailed(protocolReason(err))
	}
	if err := h.recordUse(ctx, pu, cred); err != nil {
		return u, err
	}
	return u, nil
}

// registrationOptions begins the registration of a new credential for pu:
// a discoverable credential preferred (so that it signs in without a
// password later), user verification preferred, none of pu's credentials
// again.
func (h *Handler) registrationOptions(t *tenants.Tenant, pu *passkeyUser) (*protocol.CredentialCreation, *webauthn.SessionData, error) {
	wa, err := h.passkeys.forTenant(t)
	if err != nil {
		return nil, nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(pu.creds))
	for i := range pu.creds {
		exclude[i] = pu.creds[i].Descriptor()
	}
	return wa.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithExclusions(exclude),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
}

// register verifies the form's attestation for the registration ceremony
// check accepts, and stores the new credential as a confirmed factor of
// pu's user.
func (h *Handler) register(c echo.Context, t *tenants.Tenant, pu *passkeyUser, kind string, check func(*tenants.LoginStep, *ceremony) bool) error {
	ctx := c.Request().Context()
	parsed, err := parseAttestation(c)
	if err != nil {
		return err
	}
	cs, cer, err := h.takeCeremony(c, t, tenants.StepWebAuthnEnrol, kind, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return err
	}
	if cs.UserID != pu.u.ID || !check(cs, cer) {
		return ceremonyFailed("challenge of another registration")
	}
	wa, err := h.passkeys.forTenant(t)
	if err != nil {
		return err
	}
	cred, err := wa.CreateCredential(pu, cer.Session, parsed)
	if err != nil {
		return ceremonyFailed(protocolReason(err))
	}
	cid := credentialID(cred.ID)
	if _, err := h.store.FactorByCredentialID(ctx, cid); err == nil {
		return ceremonyFailed("credential already registered")
	}
	b, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	name := "Security key"
	if rk := cred.Extensions.RK; rk != nil && *rk {
		name = "Passkey"
	}
	if n := strings.TrimSpace(c.FormValue("name")); n != "" {
		name = truncate(n, 64)
	}
	f := &tenants.MFAFactor{ID: tenants.NewID(), UserID: pu.u.ID, Type: tenants.FactorWebAuthn, Name: name,
		CredentialID: cid, Credential: string(b), Confirmed: true}
	if err := h.store.CreateFactor(ctx, f); errors.Is(err, tenants.ErrAlreadyExists) {
		return ceremonyFailed("credential already registered")
	} else if err != nil {
		return err
	}
	return nil
}

// enrolWebAuthnOptions begins the registration of a passkey or security
// key as the first second factor of a user the tenant requires MFA of.
func (h *Handler) enrolWebAuthnOptions(c echo.Context) error {
	t, st, u, pu, err := h.stepOptions(c, tenants.StepEnrol)
	if err != nil {
		return jsonError(c, err)
	}
	opts, sd, err := h.registrationOptions(t, pu)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.beginCeremony(c, t, tenants.StepWebAuthnEnrol, u.ID, st.AuthRequestID,
		ceremony{Kind: ceremonyEnrol, Session: *sd, Parent: st.ID}); err != nil {
		return httperr.Internal(err)
	}
	return jsonOptions(c, opts)
}

// submitEnrolWebAuthn registers the new credential, completes the login
// and shows the recovery codes once, as the TOTP enrolment does.
func (h *Handler) submitEnrolWebAuthn(c echo.Context) error {
	sr, err := h.stepForm(c, tenants.StepEnrol)
	if err != nil {
		return err
	}
	t, ctx, token, st, ar, u, keys := sr.t, sr.ctx, sr.token, sr.st, sr.ar, sr.u, sr.keys
	if h.throttled(ctx, keys) {
		h.auditLogin(c, u.ID, u.Email, "mfa.throttled", "denied", "too many failed attempts")
		return h.renderEnrol(c, ctx, t, st, token, errPasskeyEnrol, http.StatusUnauthorized)
	}
	pu, err := h.passkeyUserOf(ctx, u)
	if err != nil {
		return httperr.Internal(err)
	}
	err = h.register(c, t, pu, ceremonyEnrol, func(cs *tenants.LoginStep, cer *ceremony) bool {
		return cs.AuthRequestID == st.AuthRequestID && cer.Parent == st.ID
	})
	var ce errCeremony
	if errors.As(err, &ce) {
		h.failed(ctx, keys)
		h.auditLogin(c, u.ID, u.Email, "mfa.enrol_failed", "failure", reasonOf(err))
		return h.renderEnrol(c, ctx, t, st, token, errPasskeyEnrol, http.StatusUnauthorized)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	if _, err := h.store.UseLoginStep(ctx, st.ID); err != nil {
		return expired()
	}
	h.succeeded(ctx, keys)
	h.auditLogin(c, u.ID, u.Email, "mfa.enrolled", "success", "webauthn")
	codes, err := h.newRecoveryCodes(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	var data stepData
	_ = json.Unmarshal([]byte(st.Data), &data)
	if err := h.establish(c, t, ar, u, firstFactor{amr: withMFA(data.AMR, amrHWK), idp: data.IDP, acr: ACRPhishingResistant}); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Meta: meta(t, "Recovery codes"), Codes: codes,
		Continue: pathConsent + "?id=" + url.QueryEscape(ar.ID)}))
}

// accountWebAuthnOptions begins the registration of a passkey or security
// key by the signed-in user, from the account page.
func (h *Handler) accountWebAuthnOptions(c echo.Context) error {
	t, ctx, err := tenant(c)
	if err != nil {
		return err
	}
	if err := sameSite(c); err != nil {
		return jsonError(c, err)
	}
	sess, err := h.currentSession(c, ctx, t)
	if err != nil {
		return httperr.Internal(err)
	}
	if sess == nil {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "login_required", "error_description": "Sign in again."})
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if err != nil || u.DisabledAt != nil {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "login_required", "error_description": "Sign in again."})
	}
	pu, err := h.passkeyUserOf(ctx, u)
	if err != nil {
		return httperr.Internal(err)
	}
	opts, sd, err := h.registrationOptions(t, pu)
	if err != nil {
		return httperr.Internal(err)
	}
	if err := h.beginCeremony(c, t, tenants.StepWebAuthnEnrol, u.ID, "",
		ceremony{Kind: ceremonyAccount, Session: *sd, SessionID: sess.ID}); err != nil {
		return httperr.Internal(err)
	}
	return jsonOptions(c, opts)
}

// submitAccountWebAuthn registers a passkey or security key for the
// signed-in user. The first second factor of a user comes with recovery
// codes, shown once; otherwise the browser goes back to the account page.
func (h *Handler) submitAccountWebAuthn(c echo.Context) error {
	a, err := h.signedIn(c, true)
	if err != nil || a == nil {
		return toAccount(c, err)
	}
	t, ctx, sess, u := a.t, a.ctx, a.sess, a.u
	if u.DisabledAt != nil {
		return redirect(c, pathAccount)
	}
	// A stolen session must not be able to add a lasting way in: an
	// account with a password confirms it (or a code) first.
	if u.PasswordHash != "" {
		ok, err := h.confirmIdentity(c, a, c.FormValue("confirm"), true)
		if err != nil {
			return err
		}
		if !ok {
			return redirect(c, pathAccount+"?error="+accountConfirmNo)
		}
	}
	pu, err := h.passkeyUserOf(ctx, u)
	if err != nil {
		return httperr.Internal(err)
	}
	err = h.register(c, t, pu, ceremonyAccount, func(cs *tenants.LoginStep, cer *ceremony) bool {
		return cs.AuthRequestID == "" && secret.Equal(cer.SessionID, sess.ID)
	})
	var ce errCeremony
	if errors.As(err, &ce) {
		h.auditLogin(c, u.ID, u.Email, "mfa.enrol_failed", "failure", reasonOf(err))
		return redirect(c, pathAccount+"?error="+accountPasskeyNo)
	}
	if err != nil {
		return httperr.Internal(err)
	}
	h.auditLogin(c, u.ID, u.Email, "mfa.enrolled", "success", "webauthn")
	n, err := h.store.CountRecoveryCodes(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	if n > 0 {
		return redirect(c, pathAccount+"?done="+accountPasskeyOK)
	}
	codes, err := h.newRecoveryCodes(ctx, u.ID)
	if err != nil {
		return httperr.Internal(err)
	}
	return render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{Meta: meta(t, "Recovery codes"), Codes: codes,
		Continue: pathAccount + "?done=" + accountPasskeyOK}))
}
