package oidc

import (
	"context"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// storage is the engine's op.Storage over the tenant stores. Every method
// acts on the tenant carried by ctx.
//
// The engine only reaches part of it: the authorize flow is ours (package
// login with [Provider.Authorize] and [Provider.Complete]), and the token,
// introspection, userinfo and revocation endpoints are our [server]
// overrides. The methods of those paths answer errUnreachable (see
// storage_unreachable.go) rather than half-implement a second code path.
type storage struct{ p *Provider }

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func (s *storage) Health(ctx context.Context) error { return s.p.store.Ping(ctx) }

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	_, set, err := s.p.tenantKeys(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return signingKey{set.Signing}, nil
}

func (s *storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	_, set, err := s.p.tenantKeys(ctx)
	if err != nil {
		return nil, err
	}
	var algs []jose.SignatureAlgorithm
	for _, k := range set.All {
		if !slices.Contains(algs, k.Algorithm) {
			algs = append(algs, k.Algorithm)
		}
	}
	return algs, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	_, set, err := s.p.tenantKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(set.All))
	for i, k := range set.All {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.p.lookupClient(ctx, clientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	_, err := s.p.authenticateClient(ctx, &op.ClientCredentials{ClientID: clientID, ClientSecret: clientSecret}, true)
	return err
}

// SetUserinfoFromScopes is deprecated in the engine; SetUserinfoFromRequest
// does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims for scopes.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, err := s.p.store.UserByID(ctx, req.GetSubject())
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	fillUserinfo(info, u, scopes)
	if r, ok := req.(*idTokenRequest); ok && r.grant.IDP != "" {
		// How the user authenticated, next to amr: the upstream connection.
		info.AppendClaims("idp", r.grant.IDP)
	}
	return nil
}

// fillUserinfo sets the standard claims (OIDC Core §5.4) that scopes ask for.
func fillUserinfo(info *oidc.UserInfo, u *tenants.User, scopes []string) {
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.Name = u.Name
			info.GivenName = u.GivenName
			info.FamilyName = u.FamilyName
			info.UpdatedAt = oidc.FromTime(u.UpdatedAt.Truncate(time.Second))
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
			if !u.EmailVerified {
				// The engine's type omits false; relying parties must see it.
				info.AppendClaims("email_verified", false)
			}
		}
	}
}
