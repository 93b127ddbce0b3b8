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
	// User is who logs in; nil when the identity waits for a link.
	User *tenants.User
	// Created says the user was provisioned by this login.
	Created bool
	// LinkTo is an existing account with the identity's email address that
	// must sign in (proving it is theirs) before the identity is linked;
	// LinkToken names the pending link.
	LinkTo    *tenants.User
	LinkToken string
}

// ErrDisabled is returned for an identity whose user is disabled.
var ErrDisabled = errors.New("federation: the account is disabled")

// trustsEmail reports whether c's upstream vouches for id's address: the
// admin said the upstream is authoritative, and the upstream asserted the
// address verified. Microsoft's email claim is never treated as verified:
// any Entra tenant can put any address there (nOAuth).
func trustsEmail(c *tenants.Connection, id *Identity) bool {
	return c.TrustEmail && id.EmailVerified && id.Email != "" && c.Type != tenants.ConnectionMicrosoft
}

// Resolve turns an upstream identity into the user to log in:
//
//  1. an identity already linked logs its user in;
//  2. else, an account with the same email is linked at once only when the
//     upstream vouches for the address (trustsEmail) and the account's own
//     address is verified; otherwise its owner must first sign in to it
//     (LinkTo): never merge into an unverified account (pre-account
//     takeover);
//  3. else a user is provisioned just in time.
func (s *Service) Resolve(ctx context.Context, c *tenants.Connection, id *Identity, browserHash string) (*Outcome, error) {
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
		_ = s.store.TouchExternalIdentity(ctx, x.ID, s.now().UTC())
		return &Outcome{User: u}, nil
	case !errors.Is(err, tenants.ErrNotFound):
		return nil, err
	}
	if id.Email == "" {
		return nil, Reject("the provider did not share an email address", nil)
	}
	existing, err := s.store.UserByEmail(ctx, id.Email)
	switch {
	case err == nil:
		if existing.DisabledAt != nil {
			return nil, ErrDisabled
		}
		if trustsEmail(c, id) && existing.EmailVerified {
			if err := s.link(ctx, c, id, existing.ID); err != nil {
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
	u := &tenants.User{Email: id.Email, EmailVerified: trustsEmail(c, id), Name: id.Name, GivenName: id.GivenName, FamilyName: id.FamilyName}
	nx := &tenants.ExternalIdentity{ConnectionID: c.ID, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}
	if err := s.store.CreateFederatedUser(ctx, u, nx); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			// A concurrent first login won: resolve again.
			return s.Resolve(ctx, c, id, browserHash)
		}
		return nil, err
	}
	s.audit(ctx, "user.provisioned", "user", u.ID, "success", "", map[string]string{"connection": c.Name, "email": u.Email})
	return &Outcome{User: u, Created: true}, nil
}

func (s *Service) link(ctx context.Context, c *tenants.Connection, id *Identity, userID string) error {
	x := &tenants.ExternalIdentity{UserID: userID, ConnectionID: c.ID, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}
	if err := s.store.CreateExternalIdentity(ctx, x); err != nil {
		return err
	}
	s.audit(ctx, "identity.linked", "user", userID, "success", "", map[string]string{"connection": c.Name, "subject": id.Subject})
	return nil
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
		UserID: userID, Identity: string(b), ExpiresAt: s.now().Add(StateTTL)}
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
	if err := s.link(ctx, c, &p.Identity, userID); err != nil && !errors.Is(err, tenants.ErrAlreadyExists) {
		return nil, err
	}
	return c, nil
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
