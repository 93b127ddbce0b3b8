package oidc

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// RefreshToken exchanges a refresh token (RFC 6749 §6) with rotation: every
// use returns a new refresh token and spends the old one, with a
// compare-and-swap so that of two concurrent uses only one wins. A spent
// token presented again means it leaked: the whole family is revoked (RFC
// 9700 §4.14.2). The checks run in order: lookup, client, scopes. For an
// RBAC API the user's roles are read again: the new access token carries
// the grant's scopes the user still holds, and the roles and groups
// claims as they are now.
func (p *Provider) exchangeRefresh(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	token := form.Get("refresh_token")
	if token == "" {
		return nil, oauthErr(httperr.InvalidRequest, "refresh_token is required")
	}
	if len(token) > 256 {
		return nil, errInvalidGrant("invalid refresh token")
	}
	rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(token))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, errInvalidGrant("invalid refresh token")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if rt.ClientID != c.ClientID {
		return nil, errInvalidGrant("invalid refresh token")
	}
	if grant.RevokedAt != nil || rt.RevokedAt != nil {
		return nil, errInvalidGrant("refresh token was revoked")
	}
	if rt.UsedAt != nil {
		p.revokeReused(ctx, grant)
		return nil, errInvalidGrant("refresh token was already used")
	}
	now := p.now()
	if !now.Before(rt.ExpiresAt) || !now.Before(grant.ExpiresAt) {
		return nil, errInvalidGrant("refresh token expired")
	}
	// A narrower scope applies to this access token only; the refresh
	// token keeps the original grant (RFC 6749 §6).
	scopes := []string(grant.Scopes)
	if asked := strings.Fields(form.Get("scope")); len(asked) > 0 {
		for _, sc := range asked {
			if !slices.Contains(grant.Scopes, sc) {
				return nil, oauthErr(httperr.InvalidScope, "scope %s was not granted", sc)
			}
		}
		scopes = asked
	}
	if !authn.FamilyMeetsPolicy(grant.ACR, t.MFA()) {
		// The tenant raised its MFA policy since this family's sign-in.
		return nil, errInvalidGrant("the sign-in behind this refresh token no longer meets the tenant's policy: sign in again")
	}
	user, err := p.store.UserByID(ctx, grant.UserID)
	if err != nil || user.DisabledAt != nil {
		return nil, errInvalidGrant("the user can no longer sign in")
	}

	// Roles are evaluated again at every refresh: a role taken away is
	// gone from this token; one given since does not widen the grant.
	scopes, err = p.userScopes(ctx, c.Client, user.ID, scopes, grant.Audience)
	if err != nil {
		return nil, serverError(err)
	}
	claims, err := p.accessTokenClaims(ctx, c.Client, user.ID, grant.Audience)
	if err != nil {
		return nil, serverError(err)
	}
	// The claim rules run again too: a deny now refuses the refresh (and
	// spends nothing), a claim follows the user's data as it is now.
	ruled, err := p.runClaimRules(ctx, c, user, ruleRequest{grantType: tenants.GrantRefreshToken, clientID: c.ClientID, userID: user.ID,
		scopes: scopes, audience: grant.Audience, acr: grant.ACR, idp: grant.IDP, amr: grant.AMR})
	if err != nil {
		return nil, ruleTokenError(err)
	}
	at := p.newAccessToken(t, c, user.ID, scopes, grant.Audience, grant.ID)
	at.Claims = claims
	if ruled != nil {
		at.Claims = mergeClaims(at.Claims, ruled.AccessToken)
		at.IDClaims = ruled.IDToken
	}
	refresh := secret.Token(32)
	issue := tenants.Issue{
		Refresh: &tenants.RefreshToken{TokenHash: secret.Hash(refresh), GrantID: grant.ID, ClientID: c.ClientID, UserID: user.ID, ExpiresAt: grant.ExpiresAt},
		Events:  []*tenants.AuditEvent{tokenEvent(auditTokenIssued, c.ClientID, user.ID, "success", tenants.GrantRefreshToken)},
	}
	err = p.store.RotateRefreshToken(ctx, rt.ID, issue)
	if errors.Is(err, tenants.ErrConflict) {
		p.revokeReused(ctx, grant)
		return nil, errInvalidGrant("refresh token was already used")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return p.respondWithTokens(ctx, t, c, grant, user, at, scopes, refresh, "")
}

func (p *Provider) revokeReused(ctx context.Context, g *tenants.Grant) {
	if err := p.store.RevokeGrant(ctx, g.ID, "refresh token reused"); err != nil {
		slog.ErrorContext(ctx, "revoke family of reused refresh token", "err", err)
		return
	}
	p.audit(ctx, auditRefreshReused, g.ClientID, g.UserID, "denied", "spent refresh token presented again: its family is revoked")
	slog.WarnContext(ctx, "refresh token reused: token family revoked", "client_id", g.ClientID, "grant_id", g.ID)
}
