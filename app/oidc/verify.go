package oidc

import (
	"context"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TokenInfo is what a valid access token says, for Gatehouse's own
// resource servers (the management API).
type TokenInfo struct {
	Subject  string
	ClientID string
	Audience string
	Scopes   []string
	// UserToken is true for a token issued to a user (code flow), false
	// for a client's own token (client credentials).
	UserToken bool
}

// VerifyAccessToken checks an access token of the tenant in ctx as a
// resource server would, and more: signature, issuer, expiry, and that its
// record is active (not revoked, family not revoked), and that it is a
// bearer token, not one bound to a DPoP key.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (*TokenInfo, error) {
	claims, rec, err := p.checkAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if rec.JKT != "" {
		// Our resource servers take bearer tokens only: a DPoP-bound token
		// sent as one is refused (RFC 9449 §7.2).
		return nil, errBadToken
	}
	t, _ := tenants.FromContext(ctx)
	return &TokenInfo{
		Subject:   claims.Subject,
		ClientID:  rec.ClientID,
		Audience:  accessTokenAudience(t, rec.Audience),
		Scopes:    append([]string(nil), rec.Scopes...),
		UserToken: rec.GrantID != "",
	}, nil
}
