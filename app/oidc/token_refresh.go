package oidc

import (
	"context"
	"errors"
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
// 9700 §4.14.2) — unless the client has a grace period and the token was
// rotated within it (see refreshAgain). The checks run in order: lookup,
// client, scopes. For an RBAC API the user's roles are read again: the new
// access token carries the grant's scopes the user still holds, and the
// roles and groups claims as they are now.
func (p *Provider) exchangeRefresh(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	token := form.Get("refresh_token")
	if token == "" {
		return nil, oauthErr(httperr.InvalidRequest, "refresh_token is required")
	}
	if len(token) > 256 {
		return nil, errInvalidGrant("invalid refresh token")
	}
	rt, grant, err := p.refreshTokenOf(ctx, c, token)
	if err != nil {
		return nil, err
	}
	if grant.DPoPJKT != "" && dpopKeyFrom(ctx) != grant.DPoPJKT {
		// Bound to a public client's DPoP key (RFC 9449 §5): without it
		// the token is nothing, and not even a reuse.
		return nil, oauthErr(errInvalidDPoPProof, "this refresh token is bound to a DPoP key: prove possession of it")
	}
	if rt.UsedAt != nil {
		return p.refreshAgain(ctx, t, c, rt, grant, token, form)
	}
	r, err := p.refreshable(ctx, t, c, rt, grant, form)
	if err != nil {
		return nil, err
	}
	// With a grace period the successor's value is derived from this
	// token's and a seed stored with it, so that this token presented
	// again within the period gets the same successor from any node.
	var seed, refresh string
	if c.RefreshTokenGrace() > 0 {
		seed = secret.Token(16)
		refresh = successorOf(seed, token)
	} else {
		refresh = secret.Token(32)
	}
	issue := tenants.Issue{
		Refresh:       &tenants.RefreshToken{TokenHash: secret.Hash(refresh), GrantID: grant.ID, ClientID: c.ClientID, UserID: r.user.ID, ExpiresAt: grant.ExpiresAt},
		Events:        []*tenants.AuditEvent{tokenEvent(auditTokenIssued, c.ClientID, r.user.ID, "success", tenants.GrantRefreshToken)},
		SuccessorSeed: seed,
	}
	err = p.store.RotateRefreshToken(ctx, rt.ID, issue)
	if errors.Is(err, tenants.ErrConflict) {
		// Another request rotated it first: a reuse, or a second tab
		// within the grace period.
		if rt, grant, err = p.refreshTokenOf(ctx, c, token); err != nil {
			return nil, err
		}
		return p.refreshAgain(ctx, t, c, rt, grant, token, form)
	}
	if err != nil {
		return nil, serverError(err)
	}
	return p.respondWithTokens(ctx, t, c, grant, r.user, r.access, r.scopes, refresh, "")
}

// refreshTokenOf looks up the refresh token token of client c: unknown, of
// another client, or revoked (itself or its family) is invalid_grant.
func (p *Provider) refreshTokenOf(ctx context.Context, c *client, token string) (*tenants.RefreshToken, *tenants.Grant, error) {
	rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(token))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, nil, errInvalidGrant("invalid refresh token")
	}
	if err != nil {
		return nil, nil, serverError(err)
	}
	if rt.ClientID != c.ClientID {
		return nil, nil, errInvalidGrant("invalid refresh token")
	}
	if grant.RevokedAt != nil || rt.RevokedAt != nil {
		return nil, nil, errInvalidGrant("refresh token was revoked")
	}
	return rt, grant, nil
}

// refreshed is what a refresh request may be given: the user, the scopes
// and the access token to sign.
type refreshed struct {
	user   *tenants.User
	scopes []string
	access *accessToken
}

// refreshable checks a refresh of rt in the family grant by c (expiry,
// scope, the tenant's MFA policy, the user) and makes its access token.
func (p *Provider) refreshable(ctx context.Context, t *tenants.Tenant, c *client, rt *tenants.RefreshToken, grant *tenants.Grant, form url.Values) (*refreshed, error) {
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
	// gone from this token; one given since does not widen the grant. The
	// claim rules run again too: a deny now refuses the refresh (and
	// spends nothing), a claim follows the user's data as it is now. The
	// user's access is read once for both.
	rules, err := p.loadClaimRules(ctx, ruleRequest{grantType: tenants.GrantRefreshToken, clientID: c.ClientID, userID: user.ID})
	if err != nil {
		return nil, ruleTokenError(err)
	}
	access, err := p.readTokenAccess(ctx, c.Client, user, grant.Audience, accessWanted{rules: rules, scopes: scopes})
	if err != nil {
		return nil, serverError(err)
	}
	scopes = access.scopes(scopes)
	at := p.newAccessToken(ctx, t, c, user.ID, scopes, grant.Audience, grant.ID)
	at.Claims, at.UserAccess = access.claims(c.Client.Client), access.user
	if rules != nil {
		req := ruleRequest{grantType: tenants.GrantRefreshToken, clientID: c.ClientID, userID: user.ID,
			scopes: scopes, audience: grant.Audience, acr: grant.ACR, idp: grant.IDP, amr: grant.AMR}
		ruled, err := evalClaimRules(ctx, rules, c, user, access, req)
		if err != nil {
			return nil, ruleTokenError(p.ruleRefused(ctx, req, err))
		}
		at.Claims = mergeClaims(at.Claims, ruled.AccessToken)
		at.IDClaims = ruled.IDToken
	}
	return &refreshed{user: user, scopes: scopes, access: at}, nil
}

// refreshAgain answers a refresh token presented after it was rotated. Within
// the client's grace period (tenants.Client.RefreshTokenGrace, counted from
// the rotation), and while its successor is unused, the answer is that same
// successor, derived again from the token and the seed stored at rotation,
// with a new access token. Anything else is a reuse: the family is revoked.
func (p *Provider) refreshAgain(ctx context.Context, t *tenants.Tenant, c *client, rt *tenants.RefreshToken, grant *tenants.Grant, token string, form url.Values) (*Response, error) {
	grace := c.RefreshTokenGrace()
	if grace == 0 || rt.SuccessorSeed == "" || rt.UsedAt == nil || p.now().Sub(*rt.UsedAt) > grace {
		return nil, p.reused(ctx, grant)
	}
	successor := successorOf(rt.SuccessorSeed, token)
	next, _, err := p.store.RefreshTokenByHash(ctx, secret.Hash(successor))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, p.reused(ctx, grant)
	}
	if err != nil {
		return nil, serverError(err)
	}
	if next.GrantID != rt.GrantID || next.ClientID != c.ClientID || next.UsedAt != nil || next.RevokedAt != nil {
		// The successor was itself rotated: this token is not the
		// just-rotated one any more.
		return nil, p.reused(ctx, grant)
	}
	r, err := p.refreshable(ctx, t, c, next, grant, form)
	if err != nil {
		return nil, err
	}
	ev := tokenEvent(auditTokenIssued, c.ClientID, r.user.ID, "success", tenants.GrantRefreshToken+" (presented again within the grace period: same successor)")
	if err := p.store.AppendAuditGrouped(ctx, ev); errors.Is(err, tenants.ErrNotFound) {
		return nil, invalidClient("client authentication failed", basicChallenge(t.Issuer))
	} else if err != nil {
		return nil, serverError(err)
	}
	return p.respondWithTokens(ctx, t, c, grant, r.user, r.access, r.scopes, successor, "")
}

// successorOf is the value of the successor of refresh token token rotated
// with seed: an HMAC keyed by the seed (stored) over the token (only its
// hash stored), so that neither the database alone nor the token alone
// yields it.
func successorOf(seed, token string) string {
	return secret.MAC([]byte(seed), "gatehouse refresh token successor", token)
}

// reused revokes the family of a spent refresh token presented again and
// returns the answer.
func (p *Provider) reused(ctx context.Context, grant *tenants.Grant) error {
	p.revokeReused(ctx, grant)
	return errInvalidGrant("refresh token was already used")
}

func (p *Provider) revokeReused(ctx context.Context, g *tenants.Grant) {
	if err := p.store.RevokeGrant(ctx, g.ID, "refresh token reused"); err != nil {
		tenants.Logger(ctx).ErrorContext(ctx, "revoke family of reused refresh token", "err", err)
		return
	}
	p.audit(ctx, auditRefreshReused, g.ClientID, g.UserID, "denied", "spent refresh token presented again: its family is revoked")
	tenants.Logger(ctx).WarnContext(ctx, "refresh token reused: token family revoked", "client_id", g.ClientID, "grant_id", g.ID)
}
