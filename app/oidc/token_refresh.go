package oidc

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// RefreshToken exchanges a refresh token (RFC 6749 §6) with rotation: every
// use returns a new refresh token and spends the old one, with a
// compare-and-swap so that of two concurrent uses only one wins. A spent
// token presented again means it leaked: the whole family is revoked (RFC
// 9700 §4.14.2). The legacy checks stay in order: lookup, client, scopes.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	p := s.p
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := r.Client.(*client)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	if len(r.Data.RefreshToken) > 256 {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(r.Data.RefreshToken))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if rt.ClientID != c.ClientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	if grant.RevokedAt != nil || rt.RevokedAt != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was revoked")
	}
	if rt.UsedAt != nil {
		p.revokeReused(ctx, grant)
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was already used")
	}
	now := p.now()
	if !now.Before(rt.ExpiresAt) || !now.Before(grant.ExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token expired")
	}
	// A narrower scope applies to this access token only; the refresh
	// token keeps the original grant (RFC 6749 §6).
	scopes := []string(grant.Scopes)
	if len(r.Data.Scopes) > 0 {
		for _, sc := range r.Data.Scopes {
			if !slices.Contains(grant.Scopes, sc) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %s was not granted", sc)
			}
		}
		scopes = r.Data.Scopes
	}
	user, err := p.store.UserByID(ctx, grant.UserID)
	if err != nil || user.DisabledAt != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user can no longer sign in")
	}

	at := p.newAccessToken(t, c.ClientID, user.ID, scopes, grant.Audience, &grant.ID)
	refresh := secret.Token(32)
	issue := tenants.Issue{
		Access:  at,
		Refresh: &tenants.RefreshToken{TokenHash: secret.Hash(refresh), GrantID: grant.ID, ClientID: c.ClientID, UserID: user.ID, ExpiresAt: grant.ExpiresAt},
	}
	err = p.store.RotateRefreshToken(ctx, rt.ID, issue)
	if errors.Is(err, tenants.ErrConflict) {
		p.revokeReused(ctx, grant)
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was already used")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	p.audit(ctx, auditTokenIssued, c.ClientID, user.ID, "success", string(oidc.GrantTypeRefreshToken))
	return p.respondWithTokens(ctx, t, c, grant, at, scopes, refresh, "")
}

func (p *Provider) revokeReused(ctx context.Context, g *tenants.Grant) {
	if err := p.store.RevokeGrant(ctx, g.ID, "refresh token reused"); err != nil {
		slog.ErrorContext(ctx, "revoke family of reused refresh token", "err", err)
		return
	}
	p.audit(ctx, auditRefreshReused, g.ClientID, g.UserID, "denied", "spent refresh token presented again: its family is revoked")
	slog.WarnContext(ctx, "refresh token reused: token family revoked", "client_id", g.ClientID, "grant_id", g.ID)
}
