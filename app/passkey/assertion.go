package passkey

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// BeginAssertion begins a login ceremony for b in the browser whose cookie
// hashes to browserHash: with u, a second factor of u's credentials (user
// verification preferred); without, a passwordless login with any
// discoverable credential of the tenant (user verification required). It
// returns the options for navigator.credentials.get.
func (p *Passkeys) BeginAssertion(ctx context.Context, t *tenants.Tenant, b Binding, browserHash string, u *tenants.User) (*protocol.CredentialAssertion, error) {
	wa, err := p.relyingParty(t)
	if err != nil {
		return nil, err
	}
	var opts *protocol.CredentialAssertion
	var sd *webauthn.SessionData
	if u == nil {
		opts, sd, err = wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	} else {
		pu, uerr := p.userExcept(ctx, u, b.ExceptSignIn)
		if uerr != nil {
			return nil, uerr
		}
		if len(pu.creds) == 0 {
			return nil, failed("no credential to use")
		}
		opts, sd, err = wa.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	}
	if err != nil {
		return nil, err
	}
	if err := p.begin(ctx, tenants.StepWebAuthnLogin, browserHash, b, sd); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishAssertion verifies the assertion raw (the JSON
// navigator.credentials.get returned) for the ceremony begun for want in
// this browser, records the credential's use, and returns its user. For a
// passwordless login (want.UserID "") the credential names its user, whose
// user handle must match; the user is returned with a failure too, when
// one was found. Failures the user may cause are *Failure.
func (p *Passkeys) FinishAssertion(ctx context.Context, t *tenants.Tenant, want Binding, browserHash string, raw []byte) (*tenants.User, error) {
	if err := checkJSON(raw); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		debugCeremony(ctx, err)
		return nil, failed("malformed assertion: " + protocolReason(err))
	}
	cer, err := p.take(ctx, tenants.StepWebAuthnLogin, browserHash, parsed.Response.CollectedClientData.Challenge, want)
	if err != nil {
		return nil, err
	}
	var u *tenants.User
	if want.UserID != "" {
		if u, err = p.store.UserByID(ctx, want.UserID); err != nil {
			return nil, err
		}
	} else {
		// The credential names its factor (in this tenant only); the user
		// handle must name the factor's owner.
		f, err := p.store.FactorByCredentialID(ctx, credentialID(parsed.RawID))
		if errors.Is(err, tenants.ErrNotFound) || (err == nil && (f.Type != tenants.FactorWebAuthn || !f.Confirmed)) {
			return nil, failed("unknown credential")
		}
		if err != nil {
			return nil, err
		}
		if u, err = p.store.UserByID(ctx, f.UserID); err != nil {
			return nil, err
		}
		if !secret.Equal(string(parsed.Response.UserHandle), u.ID) {
			return u, failed("user handle does not name the credential's owner")
		}
	}
	if u.DisabledAt != nil {
		return u, failed("account disabled")
	}
	pu, err := p.userExcept(ctx, u, want.ExceptSignIn)
	if err != nil {
		return u, err
	}
	wa, err := p.relyingParty(t)
	if err != nil {
		return u, err
	}
	var cred *webauthn.Credential
	if want.UserID != "" {
		cred, err = wa.ValidateLogin(pu, cer.Session, parsed)
	} else {
		_, cred, err = wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return pu, nil }, cer.Session, parsed)
	}
	if err != nil {
		debugCeremony(ctx, err)
		return u, failed(protocolReason(err))
	}
	return u, p.recordUse(ctx, pu, cred)
}

// recordUse stores the credential as updated by a verified assertion (sign
// count, flags, last use), refusing one whose sign count did not grow: two
// copies of its key may exist (a cloned authenticator).
func (p *Passkeys) recordUse(ctx context.Context, pu *user, cred *webauthn.Credential) error {
	if cred.Authenticator.CloneWarning {
		return failed("signature counter did not increase (cloned authenticator?)")
	}
	factorID, ok := pu.factors[credentialID(cred.ID)]
	if !ok {
		return failed("credential of another user")
	}
	b, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	return p.store.UseFactor(ctx, factorID, string(b))
}

// CredentialFactor returns the factor of the credential an assertion
// used, for a session's re-authentication check; nil when raw names none.
func (p *Passkeys) CredentialFactor(ctx context.Context, raw []byte) *tenants.MFAFactor {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		return nil
	}
	f, err := p.store.FactorByCredentialID(ctx, credentialID(parsed.RawID))
	if err != nil {
		return nil
	}
	return f
}
