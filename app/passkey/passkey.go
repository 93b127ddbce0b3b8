package passkey

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// CeremonyTTL is how long a challenge may be answered; the browser is told
// the same timeout.
const CeremonyTTL = 5 * time.Minute

// MaxCredentialJSON caps the credential JSON a form may carry.
const MaxCredentialJSON = 32 << 10

// Kinds of ceremony, so that a challenge begun for one purpose answers no
// other.
const (
	KindMFA     = "mfa"     // second factor of a login
	KindPasskey = "passkey" // passwordless login
	KindEnrol   = "enrol"   // registration during a login (MFA required)
	KindAccount = "account" // registration from the account page
)

// Binding is what a challenge is for; it must be the same when the
// challenge is answered.
type Binding struct {
	Kind string `json:"kind"`
	// UserID is the user the ceremony is for ("" for a passwordless login,
	// where the credential names its user).
	UserID string `json:"user,omitempty"`
	// AuthRequestID is the sign-in the ceremony belongs to, "" on the
	// account page.
	AuthRequestID string `json:"request,omitempty"`
	// Parent is the hash of the login step (MFA, enrolment) it belongs to.
	Parent string `json:"parent,omitempty"`
	// SessionID is the session an account-page registration began in.
	SessionID string `json:"session,omitempty"`
	// ExceptSignIn, for a second factor, leaves out the credentials added
	// in that sign-in: a step-up of a session proves a factor the user had
	// before the session signed in (package authn), not one it added.
	ExceptSignIn string `json:"except_sign_in,omitempty"`
}

// Passkeys runs the WebAuthn ceremonies of every tenant.
type Passkeys struct {
	store *tenants.Store
	mu    sync.Mutex
	rp    map[string]relyingParty // by tenant id and host (a custom domain is a relying party of its own)
}

type relyingParty struct {
	stamp string // what the relying party was built from
	wa    *webauthn.WebAuthn
}

// New returns Passkeys over store.
func New(store *tenants.Store) *Passkeys {
	return &Passkeys{store: store, rp: map[string]relyingParty{}}
}

// Offered reports whether t's pages offer passkeys: WebAuthn needs a
// secure context, so an issuer served over plain HTTP offers them only on
// localhost (development).
func Offered(t *tenants.Tenant) bool {
	u, err := url.Parse(t.Issuer)
	if err != nil {
		return false
	}
	host := u.Hostname()
	return u.Scheme == "https" || host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// relyingParty returns t's relying party: its id is the tenant's host and
// its one origin the tenant's issuer, so that a credential made at one
// tenant is useless at another (the browser scopes it to the RP id, and
// the server checks the RP id hash and the origin). It is built on first
// use and again when t's issuer, host or name changed. A tenant served at
// a custom domain (tenants.Tenant.ServedAt) is a relying party of that
// host: a passkey made at one host is not offered at the other.
func (p *Passkeys) relyingParty(t *tenants.Tenant) (*webauthn.WebAuthn, error) {
	stamp := t.Issuer + "\x00" + t.Host + "\x00" + t.DisplayName
	p.mu.Lock()
	defer p.mu.Unlock()
	key := t.ID + "\x00" + t.Host
	if rp, ok := p.rp[key]; ok && rp.stamp == stamp {
		return rp.wa, nil
	}
	u, err := url.Parse(t.Issuer)
	if err != nil || u.Host == "" {
		return nil, errors.New("passkey: tenant issuer is not a URL")
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
			Login:        webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, err
	}
	p.rp[key] = relyingParty{stamp: stamp, wa: wa}
	return wa, nil
}

// user is a user with their WebAuthn credentials, as go-webauthn sees
// them. The user handle is the user's id: a random UUID, no personal data.
type user struct {
	u       *tenants.User
	creds   []webauthn.Credential
	factors map[string]string // credential id (base64url) → factor id
}

func (p *user) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *user) WebAuthnCredentials() []webauthn.Credential { return p.creds }
func (p *user) WebAuthnName() string {
	if p.u.Email != "" {
		return p.u.Email
	}
	return p.u.ID
}
func (p *user) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.WebAuthnName()
}

var _ webauthn.User = (*user)(nil)

// userOf loads u's WebAuthn credentials.
func (p *Passkeys) userOf(ctx context.Context, u *tenants.User) (*user, error) {
	return p.userExcept(ctx, u, "")
}

// userExcept is userOf without the credentials added in sign-in except
// (none left out when "").
func (p *Passkeys) userExcept(ctx context.Context, u *tenants.User, except string) (*user, error) {
	fs, err := p.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	pu := &user{u: u, factors: map[string]string{}}
	for _, f := range fs {
		if f.Type != tenants.FactorWebAuthn || !f.Confirmed || except != "" && f.AddedSignIn == except {
			continue
		}
		var cred webauthn.Credential
		if err := json.Unmarshal([]byte(f.Credential), &cred); err != nil {
			return nil, err
		}
		pu.creds = append(pu.creds, cred)
		pu.factors[credentialID(cred.ID)] = f.ID
	}
	return pu, nil
}

// HasCredential reports whether u has a confirmed WebAuthn credential.
func (p *Passkeys) HasCredential(ctx context.Context, u *tenants.User) (bool, error) {
	pu, err := p.userOf(ctx, u)
	if err != nil {
		return false, err
	}
	return len(pu.creds) > 0, nil
}

func credentialID(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// ceremony is what a challenge's login step remembers.
type ceremony struct {
	Binding
	Session webauthn.SessionData `json:"session_data"`
}

// Failure is any failure of a ceremony that the user sees as "that did not
// work": a challenge unknown, spent, expired, of another browser or
// purpose, or a credential that does not verify. The reason goes to the
// audit log only.
type Failure struct{ Reason string }

func (e *Failure) Error() string { return "passkey: " + e.Reason }

func failed(reason string) error { return &Failure{Reason: reason} }

// Reason is the audit reason of a failed ceremony.
func Reason(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return tenants.Truncate("webauthn: "+f.Reason, 256)
	}
	return tenants.Truncate("webauthn: "+protocolReason(err), 256)
}

// begin stores the login step of a challenge, named by its hash.
func (p *Passkeys) begin(ctx context.Context, purpose, browserHash string, b Binding, sd *webauthn.SessionData) error {
	raw, err := json.Marshal(ceremony{Binding: b, Session: *sd})
	if err != nil {
		return err
	}
	st := &tenants.LoginStep{ID: secret.Hash(sd.Challenge), UserID: b.UserID, AuthRequestID: b.AuthRequestID, Purpose: purpose,
		BrowserHash: browserHash, Data: string(raw), ExpiresAt: p.store.Now().Add(CeremonyTTL)}
	return p.store.CreateLoginStep(ctx, st)
}

// take spends the unexpired step of purpose named by challenge, if it
// belongs to this browser and to want, and returns what it remembers.
func (p *Passkeys) take(ctx context.Context, purpose, browserHash, challenge string, want Binding) (*ceremony, error) {
	if challenge == "" || len(challenge) > 128 {
		return nil, failed("no challenge")
	}
	id := secret.Hash(challenge)
	st, err := p.store.LoginStepByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, failed("unknown or spent challenge")
	}
	if err != nil {
		return nil, err
	}
	if st.Purpose != purpose || browserHash == "" || !secret.Equal(st.BrowserHash, browserHash) {
		return nil, failed("challenge of another purpose or browser")
	}
	if _, err := p.store.UseLoginStep(ctx, id); err != nil {
		return nil, failed("spent challenge")
	}
	var cer ceremony
	if err := json.Unmarshal([]byte(st.Data), &cer); err != nil || cer.Binding != want {
		return nil, failed("challenge of another ceremony")
	}
	return &cer, nil
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
		return tenants.Truncate(r, 200)
	}
	return tenants.Truncate(err.Error(), 200)
}

// checkJSON refuses a missing or oversized credential.
func checkJSON(raw []byte) error {
	if len(raw) == 0 {
		return failed("no credential (the browser could not use WebAuthn)")
	}
	if len(raw) > MaxCredentialJSON {
		return failed("credential too large")
	}
	return nil
}
