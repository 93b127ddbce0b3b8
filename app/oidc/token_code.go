package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636
// §4.6). The checks run in this order — code lookup, PKCE, client,
// redirect_uri — then the code is claimed atomically:
//
//   - the PKCE verifier is always checked, for confidential clients too,
//     and a wrong one does not spend the code;
//   - a code presented by another client or with another redirect_uri is
//     spent;
//   - a second redemption, sequential or concurrent, fails and revokes the
//     family the first one issued (RFC 6749 §4.1.2);
//   - for an RBAC API the family gets only the scopes the user's roles hold
//     at the exchange (see rbac.go).
func (p *Provider) exchangeCode(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	code := form.Get("code")
	if code == "" {
		return nil, oauthErr(httperr.InvalidRequest, "code is required")
	}
	if len(code) > 256 {
		return nil, errInvalidGrant("invalid code")
	}
	ar, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(code))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, errInvalidGrant("invalid code")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if ar.CodeRedeemedAt != nil {
		p.revokeReplayed(ctx, ar)
		return nil, errInvalidGrant("code was already used")
	}
	if ar.CodeExpiresAt == nil || !p.now().Before(*ar.CodeExpiresAt) {
		return nil, errInvalidGrant("code expired")
	}
	if err := checkVerifier(form.Get("code_verifier"), ar); err != nil {
		return nil, err
	}
	if ar.ClientID != c.ClientID {
		_ = p.store.BurnCode(ctx, ar.ID)
		return nil, errInvalidGrant("invalid code")
	}
	if form.Get("redirect_uri") != ar.RedirectURI {
		_ = p.store.BurnCode(ctx, ar.ID)
		return nil, errInvalidGrant("redirect_uri does not correspond")
	}
	user, err := p.store.UserByID(ctx, ar.UserID)
	if err != nil || user.DisabledAt != nil {
		_ = p.store.BurnCode(ctx, ar.ID)
		return nil, errInvalidGrant("the user can no longer sign in")
	}

	withRefresh := slices.Contains(ar.Scopes, ScopeOfflineAccess) && c.AllowsGrant(tenants.GrantRefreshToken) && t.AllowsGrant(tenants.GrantRefreshToken)
	familyTTL := t.AccessTokenTTL()
	if withRefresh {
		familyTTL = max(familyTTL, t.RefreshTokenTTL())
	}
	if ar.AuthTime == nil {
		return nil, serverError(errors.New("code issued without authentication"))
	}
	authTime := *ar.AuthTime
	// The user's roles as they are now (an RBAC API): the family holds no
	// more than they grant.
	scopes, err := p.userScopes(ctx, c.Client, user.ID, ar.Scopes, ar.Audience)
	if err != nil {
		return nil, serverError(err)
	}
	claims, err := p.accessTokenClaims(ctx, c.Client, user.ID, ar.Audience)
	if err != nil {
		return nil, serverError(err)
	}
	grant := &tenants.Grant{
		ID:        tenants.NewID(),
		ClientID:  c.ClientID,
		UserID:    user.ID,
		Scopes:    scopes,
		Audience:  ar.Audience,
		AuthTime:  authTime,
		AMR:       ar.AMR,
		IDP:       ar.IDP,
		ACR:       ar.ACR,
		ExpiresAt: p.now().Add(familyTTL),
	}
	at := p.newAccessToken(t, c, user.ID, scopes, ar.Audience, grant.ID)
	at.Claims = claims
	issue := tenants.Issue{Grant: grant, Events: []*tenants.AuditEvent{
		tokenEvent(auditTokenIssued, c.ClientID, user.ID, "success", tenants.GrantAuthorizationCode),
	}}
	var refresh string
	if withRefresh {
		refresh = secret.Token(32)
		issue.Refresh = &tenants.RefreshToken{TokenHash: secret.Hash(refresh), GrantID: grant.ID, ClientID: c.ClientID, UserID: user.ID, ExpiresAt: grant.ExpiresAt}
	}
	err = p.store.RedeemCode(ctx, ar.ID, issue)
	if errors.Is(err, tenants.ErrConflict) {
		// Another redemption won the race: this one is a replay.
		if fresh, err := p.store.AuthRequestByCodeHash(ctx, secret.Hash(code)); err == nil {
			p.revokeReplayed(ctx, fresh)
		}
		return nil, errInvalidGrant("code was already used")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return p.respondWithTokens(ctx, t, c, grant, at, scopes, refresh, ar.Nonce)
}

// checkVerifier checks a PKCE verifier (RFC 7636 §4.1, §4.6): 43 to 128
// unreserved characters whose S256 is the stored challenge.
func checkVerifier(verifier string, ar *tenants.AuthRequest) error {
	if verifier == "" {
		return oauthErr(httperr.InvalidRequest, "code_verifier is required")
	}
	if len(verifier) < 43 || len(verifier) > 128 || strings.IndexFunc(verifier, notUnreserved) >= 0 {
		return errInvalidGrant("invalid code_verifier")
	}
	if ar.CodeChallengeMethod != "S256" || !secret.Equal(s256(verifier), ar.CodeChallenge) {
		return errInvalidGrant("invalid code_verifier")
	}
	return nil
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

// s256 is the PKCE S256 transformation (RFC 7636 §4.2):
// BASE64URL(SHA256(ASCII(verifier))), unpadded.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// errInvalidGrant is a 400 invalid_grant (RFC 6749 §5.2): the code, refresh
// token or verifier is not valid for this client.
func errInvalidGrant(desc string) *httperr.Error { return oauthErr(httperr.InvalidGrant, "%s", desc) }
