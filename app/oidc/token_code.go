package oidc

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// CodeExchange redeems an authorization code (RFC 6749 §4.1.3, RFC 7636
// §4.6). It keeps the legacy checks in their order — code lookup, PKCE,
// client, redirect_uri — then claims the code atomically:
//
//   - the PKCE verifier is always checked (the engine skips it for a
//     confidential client that sends none), and a wrong one does not spend
//     the code;
//   - a code presented by another client or with another redirect_uri is
//     spent;
//   - a second redemption, sequential or concurrent, fails and revokes the
//     family the first one issued (RFC 6749 §4.1.2).
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	p := s.p
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := r.Client.(*client)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	if len(r.Data.Code) > 256 {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	ar, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(r.Data.Code))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if ar.CodeRedeemedAt != nil {
		p.revokeReplayed(ctx, ar)
		return nil, oidc.ErrInvalidGrant().WithDescription("code was already used")
	}
	if ar.CodeExpiresAt == nil || !p.now().Before(*ar.CodeExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("code expired")
	}
	if err := checkVerifier(r.Data.CodeVerifier, ar); err != nil {
		return nil, err
	}
	if ar.ClientID != c.ClientID {
		_ = p.store.BurnCode(ctx, ar.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	if r.Data.RedirectURI != ar.RedirectURI {
		_ = p.store.BurnCode(ctx, ar.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not correspond")
	}
	user, err := p.store.UserByID(ctx, ar.UserID)
	if err != nil || user.DisabledAt != nil {
		_ = p.store.BurnCode(ctx, ar.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the user can no longer sign in")
	}

	withRefresh := slices.Contains(ar.Scopes, oidc.ScopeOfflineAccess) && c.AllowsGrant(tenants.GrantRefreshToken) && t.AllowsGrant(tenants.GrantRefreshToken)
	familyTTL := t.AccessTokenTTL()
	if withRefresh {
		familyTTL = max(familyTTL, t.RefreshTokenTTL())
	}
	if ar.AuthTime == nil {
		return nil, oidc.ErrServerError().WithDescription("code issued without authentication")
	}
	authTime := *ar.AuthTime
	grant := &tenants.Grant{
		ID:        tenants.NewID(),
		ClientID:  c.ClientID,
		UserID:    user.ID,
		Scopes:    ar.Scopes,
		Audience:  ar.Audience,
		AuthTime:  authTime,
		AMR:       ar.AMR,
		IDP:       ar.IDP,
		ACR:       ar.ACR,
		ExpiresAt: p.now().Add(familyTTL),
	}
	at := p.newAccessToken(t, c.ClientID, user.ID, ar.Scopes, ar.Audience, &grant.ID)
	issue := tenants.Issue{Grant: grant, Access: at}
	var refresh string
	if withRefresh {
		refresh = secret.Token(32)
		issue.Refresh = &tenants.RefreshToken{TokenHash: secret.Hash(refresh), GrantID: grant.ID, ClientID: c.ClientID, UserID: user.ID, ExpiresAt: grant.ExpiresAt}
	}
	err = p.store.RedeemCode(ctx, ar.ID, issue)
	if errors.Is(err, tenants.ErrConflict) {
		// Another redemption won the race: this one is a replay.
		if fresh, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(r.Data.Code)); err == nil {
			p.revokeReplayed(ctx, fresh)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("code was already used")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	p.audit(ctx, auditTokenIssued, c.ClientID, user.ID, "success", string(oidc.GrantTypeCode))
	return p.respondWithTokens(ctx, t, c, grant, at, ar.Scopes, refresh, ar.Nonce)
}

// checkVerifier checks a PKCE verifier (RFC 7636 §4.1, §4.6): 43 to 128
// unreserved characters whose S256 is the stored challenge.
func checkVerifier(verifier string, ar *tenants.AuthRequest) error {
	if verifier == "" {
		return oidc.ErrInvalidRequest().WithDescription("code_verifier is required")
	}
	if len(verifier) < 43 || len(verifier) > 128 || strings.IndexFunc(verifier, notUnreserved) >= 0 {
		return oidc.ErrInvalidGrant().WithDescription("invalid code_verifier")
	}
	return op.AuthorizeCodeChallenge(verifier, &oidc.CodeChallenge{
		Challenge: ar.CodeChallenge, Method: oidc.CodeChallengeMethod(ar.CodeChallengeMethod),
	})
}

func notUnreserved(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~')
}

// revokeReplayed revokes the family issued from a code that is presented
// again.
func (p *Provider) revokeReplayed(ctx context.Context, ar *tenants.AuthRequest) {
	if ar.GrantID == nil {
		return
	}
	if err := p.store.RevokeGrant(ctx, *ar.GrantID, "authorization code replayed"); err != nil {
		slog.ErrorContext(ctx, "revoke family of replayed code", "err", err)
		return
	}
	p.audit(ctx, auditCodeReplayed, ar.ClientID, ar.UserID, "denied", "authorization code presented again: its tokens are revoked")
	slog.WarnContext(ctx, "authorization code replayed: token family revoked", "client_id", ar.ClientID, "grant_id", *ar.GrantID)
}

// respondWithTokens signs the access token (and an ID token for openid)
// and answers the token request.
func (p *Provider) respondWithTokens(ctx context.Context, t *tenants.Tenant, c *client, grant *tenants.Grant, at *tenants.AccessToken, scopes []string, refresh, nonce string) (*op.Response, error) {
	accessToken, err := p.signAccessToken(ctx, t, at, &grant.AuthTime)
	if err != nil {
		return nil, err
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken:  accessToken,
		TokenType:    oidc.BearerToken,
		RefreshToken: refresh,
		ExpiresIn:    uint64(at.ExpiresAt.Sub(p.now()).Seconds()),
		Scope:        scopes,
	}
	if slices.Contains(scopes, oidc.ScopeOpenID) {
		resp.IDToken, err = p.signIDToken(ctx, t, c, &idTokenRequest{grant: grant, scopes: scopes, nonce: nonce}, accessToken)
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}
	return tokenResponse(resp), nil
}
