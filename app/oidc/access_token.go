package oidc

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// checkAccessToken verifies a JWT access token of the tenant in ctx and
// returns its claims and record. It fails for a token that is not ours, not
// at+jwt, expired, revoked, or of a revoked family.
func (p *Provider) checkAccessToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, *tenants.AccessToken, error) {
	var claims oidc.AccessTokenClaims
	if err := p.verifyJWT(ctx, token, accessTokenJWTTyp, false, &claims); err != nil {
		return nil, nil, err
	}
	rec, err := p.store.AccessTokenByID(ctx, claims.JWTID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, nil, errBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	if !rec.Active(p.now()) || rec.Subject != claims.Subject || rec.ClientID != claims.ClientID {
		return nil, nil, errBadToken
	}
	return &claims, rec, nil
}
