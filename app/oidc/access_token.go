package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// checkAccessToken verifies a JWT access token of the tenant in ctx and
// returns its claims and what it says. It fails for a token that is not
// ours, not at+jwt, expired, revoked, of a deleted client, of a revoked or
// deleted family, or a user's token that names no family. The database is
// asked once (tenants.Store.AccessTokenStatus).
func (p *Provider) checkAccessToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, *accessToken, error) {
	var claims oidc.AccessTokenClaims
	if err := p.verifyJWT(ctx, token, accessTokenJWTTyp, false, &claims); err != nil {
		return nil, nil, err
	}
	if claims.JWTID == "" || claims.ClientID == "" || claims.Subject == "" {
		return nil, nil, errBadToken
	}
	grantID := familyOf(claims.JWTID)
	if grantID == "" && claims.Subject != claims.ClientID {
		// A user's token always belongs to a family.
		return nil, nil, errBadToken
	}
	st, err := p.store.AccessTokenStatus(ctx, claims.JWTID, claims.ClientID, grantID)
	if err != nil {
		return nil, nil, err
	}
	if st.Revoked || !st.ClientExists {
		return nil, nil, errBadToken
	}
	if grantID != "" && (!st.GrantFound || st.GrantRevoked || st.GrantClientID != claims.ClientID || st.GrantUserID != claims.Subject) {
		return nil, nil, errBadToken
	}
	rec := &accessToken{
		ID:        claims.JWTID,
		ClientID:  claims.ClientID,
		Subject:   claims.Subject,
		GrantID:   grantID,
		Scopes:    claims.Scopes,
		ExpiresAt: claims.Expiration.AsTime(),
		Actor:     claims.Actor,
		JKT:       boundKey(&claims),
	}
	if len(claims.Audience) == 1 {
		rec.Audience = claims.Audience[0]
	}
	return &claims, rec, nil
}

// boundKey is the cnf.jkt of claims (RFC 9449 §6.1), "" for none.
func boundKey(claims *oidc.AccessTokenClaims) string {
	cnf, _ := claims.Claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}
