package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Outcome is what an upstream identity resolves to.
type Outcome struct {
	// User is who signs in; nil when the identity waits for a link.
	User *tenants.User
	// Created says the user was provisioned by this login.
	Created bool
	// LinkTo is an existing account with the identity's (vouched-for)
	// address that must sign in, proving it is theirs, before the
	// identity is linked; LinkToken names the pending link.
	LinkTo    *tenants.User
	LinkToken string
}

// ErrDisabled is returned for an identity whose user is disabled.
var ErrDisabled = errors.New("federation: the account is disabled")

// ErrNoAccount is returned for an identity that is linked to nobody when
// the connection may not create a user for it.
var ErrNoAccount = errors.New("federation: no account, and the connection creates none")

// vouches reports whether c's upstream vouches for id's address: the admin
// said the upstream is authoritative, and the upstream asserted the
// address verified. Microsoft's email claim is never treated as verified:
// any Entra tenant can put any address there (nOAuth).
func vouches(c *tenants.Connection, id *Identity) bool {
	return c.TrustEmail && id.EmailVerified && id.Email != "" && c.Type != tenants.ConnectionMicrosoft
}

// mayCreate reports whether a first login through c may create a user for
// id at t: always, never, or as the tenant's sign-up setting says (an
// address the upstream does not vouch for never passes a domain list).
func mayCreate(t *tenants.Tenant, c *tenants.Connection, id *Identity) bool {
	switch c.Provision() {
	case tenants.ProvisionCreate:
		return !t.System
	case tenants.ProvisionExisting:
		return false
	}
	return t.AllowsSignup(id.Email, vouches(c, id))
}

// Resolve turns an upstream identity into the user who signs in:
//
//  1. an identity already linked signs its user in;
//  2. else, when the upstream vouches for its address and an account has
//     it, the identity is linked at once if the account's own address is
//     verified, or after its owner signs in to it (LinkTo): never merged
//     into an unverified account;
//  3. else a user is provisioned, if the connection may create one
//     (ErrNoAccount otherwise). The user gets the address only if the
//     upstream vouches for it; an address it does not vouch for stays on
//     the external identity, where it proves nothing and names nobody.
//
// An address the upstream does not vouch for is never looked up: what the
// login answers does not depend on whether someone has an account with it
// (no enumeration), and nobody can sit on an account in another person's
// name (pre-account takeover).
func (s *Service) Resolve(ctx context.Context, c *tenants.Connection, id *Identity, browserHash string) (*Outcome, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	x, err := s.store.ExternalIdentity(ctx, c.ID, id.Issuer, id.Subject)
	switch {
	case err == nil:
		u, err := s.store.UserByID(ctx, x.UserID)
		if err != nil {
			return nil, err
		}
		if u.DisabledAt != nil {
			return nil, ErrDisabled
		}
		_ = s.store.TouchExternalIdentity(ctx, x.ID, s.store.Now())
		if err := s.refresh(ctx, c, x, u, id); err != nil {
			return nil, err
		}
		return &Outcome{User: u}, nil
	case !errors.Is(err, tenants.ErrNotFound):
		return nil, err
	}
	vouched := vouches(c, id)
	if vouched {
		existing, err := s.store.UserByEmail(ctx, id.Email)
		switch {
		case err == nil:
			if existing.DisabledAt != nil {
				return nil, ErrDisabled
			}
			if existing.EmailVerified {
				x, err := s.link(ctx, c, id, existing)
				if err != nil {
					return nil, err
				}
				if err := s.refresh(ctx, c, x, existing, id); err != nil {
					return nil, err
				}
				return &Outcome{User: existing}, nil
			}
			token, err := s.pendingLink(ctx, c, id, existing.ID, browserHash)
			if err != nil {
				return nil, err
			}
			return &Outcome{LinkTo: existing, LinkToken: token}, nil
		case !errors.Is(err, tenants.ErrNotFound):
			return nil, err
		}
	}
	if !mayCreate(t, c, id) {
		s.audit(ctx, "user.provisioning_refused", "connection", c.ID, "denied", "the connection may not create a user for this login", nil)
		return nil, ErrNoAccount
	}
	u := &tenants.User{Name: id.Name, GivenName: id.GivenName, FamilyName: id.FamilyName}
	if vouched {
		u.Email, u.EmailVerified = id.Email, true
	}
	nx := &tenants.ExternalIdentity{ConnectionID: c.ID, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}
	if err := s.store.CreateFederatedUser(ctx, u, nx); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			// A concurrent first login won: resolve again.
			return s.Resolve(ctx, c, id, browserHash)
		}
		return nil, err
	}
	s.audit(ctx, "user.provisioned", "user", u.ID, "success", "", map[string]any{"connection": c.Name, "email": u.Email, "address_vouched": vouched})
	if err := s.refresh(ctx, c, nx, u, id); err != nil {
		return nil, err
	}
	return &Outcome{User: u, Created: true}, nil
}

// refresh brings what Gatehouse keeps of an upstream sign-in in step with
// what the upstream asserted this time (id, already federation.Clean'd),
// at every sign-in through identity x of user u, not only the first:
//
//   - the user's names (name, given_name, family_name) take the upstream's
//     values; a name the upstream leaves out keeps the user's. The email
//     address is never touched: it changes only by the linking rules
//     (an address is not proven until its owner proves it);
//   - the identity keeps the groups asserted, and the user's memberships
//     made by the connection's group mapping follow them
//     (tenants.Store.SyncUpstreamGroups): an admin's memberships stay.
func (s *Service) refresh(ctx context.Context, c *tenants.Connection, x *tenants.ExternalIdentity, u *tenants.User, id *Identity) error {
	var changed []string
	for _, f := range []struct {
		name     string
		dst      *string
		upstream string
	}{{"name", &u.Name, id.Name}, {"given_name", &u.GivenName, id.GivenName}, {"family_name", &u.FamilyName, id.FamilyName}} {
		if f.upstream != "" && *f.dst != f.upstream {
			*f.dst = f.upstream
			changed = append(changed, f.name)
		}
	}
	if len(changed) > 0 {
		// Only the names: metadata stays as it is ("" leaves it).
		p := *u
		p.UserMetadata, p.AppMetadata = "", ""
		if err := s.store.UpdateUserProfile(ctx, &p); err != nil {
			return err
		}
		u.UpdatedAt = p.UpdatedAt
		s.audit(ctx, "user.profile_refreshed", "user", u.ID, "success", "", map[string]any{"connection": c.Name, "fields": changed})
	}
	sync, err := s.store.SyncUpstreamGroups(ctx, x, id.Groups)
	if err != nil {
		return err
	}
	if len(sync.Added) > 0 || len(sync.Removed) > 0 {
		s.audit(ctx, "user.groups_synced", "user", u.ID, "success", "", map[string]any{"connection": c.Name, "added": sync.Added, "removed": sync.Removed})
	}
	return nil
}

// link links id to user u; the link is unproven while u's address is.
func (s *Service) link(ctx context.Context, c *tenants.Connection, id *Identity, u *tenants.User) (*tenants.ExternalIdentity, error) {
	x := &tenants.ExternalIdentity{UserID: u.ID, ConnectionID: c.ID, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email,
		LinkedUnproven: u.Email != "" && !u.EmailVerified}
	if err := s.store.CreateExternalIdentity(ctx, x); err != nil {
		return nil, err
	}
	s.audit(ctx, "identity.linked", "user", u.ID, "success", "", map[string]any{"connection": c.Name, "subject": id.Subject, "address_unproven": x.LinkedUnproven})
	return x, nil
}

type pending struct {
	Identity
	ConnectionID string `json:"connection"`
}

func (s *Service) pendingLink(ctx context.Context, c *tenants.Connection, id *Identity, userID, browserHash string) (string, error) {
	token := secret.Token(32)
	b, err := json.Marshal(pending{Identity: *id, ConnectionID: c.ID})
	if err != nil {
		return "", err
	}
	st := &tenants.FederationState{ID: secret.Hash(token), ConnectionID: c.ID, BrowserHash: browserHash, Purpose: tenants.FederationLink,
		UserID: userID, Identity: string(b), ExpiresAt: s.store.Now().Add(StateTTL)}
	if err := s.store.CreateFederationState(ctx, st); err != nil {
		return "", err
	}
	return token, nil
}

// CompleteLink links the identity waiting under token to userID, who has
// just signed in to their account in the same browser.
func (s *Service) CompleteLink(ctx context.Context, token, userID, browserHash string) (*tenants.Connection, error) {
	st, err := s.store.UseFederationState(ctx, secret.Hash(token))
	if err != nil {
		return nil, err
	}
	if st.Purpose != tenants.FederationLink || st.UserID != userID || !secret.Equal(st.BrowserHash, browserHash) {
		return nil, tenants.ErrNotFound
	}
	var p pending
	if err := json.Unmarshal([]byte(st.Identity), &p); err != nil {
		return nil, fmt.Errorf("federation: pending link: %w", err)
	}
	c, err := s.store.ConnectionByID(ctx, p.ConnectionID)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	x, err := s.link(ctx, c, &p.Identity, u)
	if errors.Is(err, tenants.ErrAlreadyExists) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.refresh(ctx, c, x, u, &p.Identity); err != nil {
		return nil, err
	}
	return c, nil
}

// AddressProven is called when someone proved the address of user userID
// by a link sent to it (verification, password reset, a finished
// sign-up): the identities linked while the address was unproven lose
// their link, since whoever linked them may not be who owns the address.
// It returns the names of their connections, to tell the user.
func (s *Service) AddressProven(ctx context.Context, userID string) ([]string, error) {
	xs, err := s.store.DeleteUnprovenIdentities(ctx, userID)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(xs))
	for _, x := range xs {
		name := x.ConnectionID
		if c, err := s.store.ConnectionByID(ctx, x.ConnectionID); err == nil {
			name = c.Name
		}
		names = append(names, name)
		s.audit(ctx, "identity.unlinked", "user", userID, "success", "linked before the account's address was proven",
			map[string]string{"identity": x.ID, "connection": name})
	}
	return names, nil
}

// Identities returns the upstream identities linked to a user, with their
// connections' names.
func (s *Service) Identities(ctx context.Context, userID string) ([]LinkedIdentity, error) {
	xs, err := s.store.ListExternalIdentities(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]LinkedIdentity, 0, len(xs))
	for _, x := range xs {
		name := x.ConnectionID
		if c, err := s.store.ConnectionByID(ctx, x.ConnectionID); err == nil {
			name = c.Name
		}
		out = append(out, LinkedIdentity{ID: x.ID, Connection: name, Email: x.Email, Subject: x.Subject, LinkedAt: x.CreatedAt.Format("2006-01-02")})
	}
	return out, nil
}

// LinkedIdentity is an identity as its user sees it.
type LinkedIdentity struct {
	ID         string
	Connection string
	Email      string
	Subject    string
	LinkedAt   string
}

// ErrLastLogin is returned when unlinking would leave a user no way to sign in.
var ErrLastLogin = errors.New("federation: this is the account's only way to sign in")

// Unlink removes an identity from its user, unless it is the user's last
// way to sign in (no password and no other identity).
func (s *Service) Unlink(ctx context.Context, userID, identityID string) error {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	xs, err := s.store.ListExternalIdentities(ctx, userID)
	if err != nil {
		return err
	}
	found := false
	for _, x := range xs {
		found = found || x.ID == identityID
	}
	if !found {
		return tenants.ErrNotFound
	}
	if u.PasswordHash == "" && len(xs) == 1 {
		return ErrLastLogin
	}
	if err := s.store.DeleteExternalIdentity(ctx, userID, identityID); err != nil {
		return err
	}
	s.audit(ctx, "identity.unlinked", "user", userID, "success", "", map[string]string{"identity": identityID})
	return nil
}
