package oidc

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/webhook"
)

const (
	// logoutTokenJWTTyp is the JOSE typ of logout tokens (Back-Channel
	// Logout 1.0 §2.4, as updated: explicit typing, RFC 8725 §3.11).
	logoutTokenJWTTyp = "logout+jwt"
	// logoutEvent is the one member of a logout token's events claim.
	logoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	// logoutTokenTTL is how long a logout token may be accepted: a
	// receiver that keeps jti values need keep them no longer.
	logoutTokenTTL = 2 * time.Minute
)

var _ webhook.LogoutTokens = (*Provider)(nil)

// LogoutToken signs the logout token of a claimed back-channel logout
// delivery (Back-Channel Logout 1.0 §2.4): typ logout+jwt, iss the
// tenant's issuer, aud the client, iat now, exp shortly after, jti the
// delivery's id (the same on every attempt), events with the logout
// event, sub the user and sid the session (when the delivery names one),
// never a nonce. It is signed as the client's ID tokens are (its
// id_token_signed_response_alg), or with RS256 when the tenant has no key
// of that algorithm any more.
func (p *Provider) LogoutToken(ctx context.Context, d *tenants.ClaimedLogout) (string, error) {
	t, err := p.store.TenantByID(ctx, d.TenantID)
	if err != nil {
		return "", err
	}
	now := p.now()
	claims := &oidc.LogoutTokenClaims{
		Issuer:     t.Issuer,
		Subject:    d.UserID,
		Audience:   oidc.Audience{d.ClientID},
		IssuedAt:   oidc.FromTime(now),
		Expiration: oidc.FromTime(now.Add(logoutTokenTTL)),
		JWTID:      d.ID,
		Events:     map[string]any{logoutEvent: map[string]any{}},
		SessionID:  d.SID,
	}
	alg := jose.SignatureAlgorithm((&tenants.Client{IDTokenSignedResponseAlg: d.Alg}).IDTokenAlg())
	signer, err := p.keys.Signer(ctx, t, alg, logoutTokenJWTTyp)
	if err != nil && alg != jose.SignatureAlgorithm(tenants.DefaultSigningAlgorithm) {
		signer, err = p.keys.Signer(ctx, t, jose.SignatureAlgorithm(tenants.DefaultSigningAlgorithm), logoutTokenJWTTyp)
	}
	if err != nil {
		return "", err
	}
	return crypto.Sign(claims, signer)
}
