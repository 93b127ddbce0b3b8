package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// BeginRegistration begins the registration of a new credential for u, for
// b, in the browser whose cookie hashes to browserHash: a discoverable
// credential preferred (so that it signs in without a password later),
// user verification preferred, none of u's credentials again. It returns
// the options for navigator.credentials.create.
func (p *Passkeys) BeginRegistration(ctx context.Context, t *tenants.Tenant, b Binding, browserHash string, u *tenants.User) (*protocol.CredentialCreation, error) {
	wa, err := p.relyingParty(t)
	if err != nil {
		return nil, err
	}
	pu, err := p.userOf(ctx, u)
	if err != nil {
		return nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(pu.creds))
	for i := range pu.creds {
		exclude[i] = pu.creds[i].Descriptor()
	}
	opts, sd, err := wa.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithExclusions(exclude),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, err
	}
	if err := p.begin(ctx, tenants.StepWebAuthnEnrol, browserHash, b, sd); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishRegistration verifies the attestation raw (the JSON
// navigator.credentials.create returned) for the ceremony begun for want in
// this browser and stores the new credential as a confirmed factor of u,
// named name (or after what it is), added in sign-in signInID. Failures
// the user may cause are *Failure.
func (p *Passkeys) FinishRegistration(ctx context.Context, t *tenants.Tenant, want Binding, browserHash string, u *tenants.User, raw []byte, name, signInID string) error {
	if err := checkJSON(raw); err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		debugCeremony(ctx, err)
		return failed("malformed attestation: " + protocolReason(err))
	}
	if want.UserID != u.ID {
		return failed("registration of another user")
	}
	cer, err := p.take(ctx, tenants.StepWebAuthnEnrol, browserHash, parsed.Response.CollectedClientData.Challenge, want)
	if err != nil {
		return err
	}
	wa, err := p.relyingParty(t)
	if err != nil {
		return err
	}
	pu, err := p.userOf(ctx, u)
	if err != nil {
		return err
	}
	cred, err := wa.CreateCredential(pu, cer.Session, parsed)
	if err != nil {
		debugCeremony(ctx, err)
		return failed(protocolReason(err))
	}
	cid := credentialID(cred.ID)
	if _, err := p.store.FactorByCredentialID(ctx, cid); err == nil {
		return failed("credential already registered")
	}
	b, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	if name = strings.TrimSpace(name); name == "" {
		name = "Security key"
		if rk := cred.Extensions.RK; rk != nil && *rk {
			name = "Passkey"
		}
	}
	f := &tenants.MFAFactor{ID: tenants.NewID(), UserID: u.ID, Type: tenants.FactorWebAuthn, Name: tenants.Truncate(name, 64),
		CredentialID: cid, Credential: string(b), Confirmed: true, AddedSignIn: signInID}
	if err := p.store.CreateFactor(ctx, f); errors.Is(err, tenants.ErrAlreadyExists) {
		return failed("credential already registered")
	} else if err != nil {
		return err
	}
	return nil
}
