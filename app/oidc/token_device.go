package oidc

import (
	"context"
	"errors"
	"net/url"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/claimrules"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// exchangeDeviceCode answers a device's poll of the token endpoint (RFC
// 8628 §3.4, §3.5). The checks run in this order:
//
//   - a device code this tenant did not issue, or issued to another
//     client, is invalid_grant (the same answer: it tells nothing of other
//     clients' codes, and spends nothing);
//   - an expired one is expired_token;
//   - the poll is recorded in the store, which every node shares: a poll
//     sooner than the interval after the previous one is slow_down, and
//     the interval grows by 5 s for every later poll;
//   - pending is authorization_pending, denied access_denied;
//   - the tenant's claim rules run: a deny or a failed rule is
//     invalid_grant (see claim_rules.go);
//   - approved is redeemed atomically, once: of concurrent polls one gets
//     the tokens — issued as for an authorization code, an ID token for
//     openid and a refresh token where allowed — and a later one
//     invalid_grant.
func (p *Provider) exchangeDeviceCode(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	code := form.Get("device_code")
	if code == "" {
		return nil, oauthErr(httperr.InvalidRequest, "device_code is required")
	}
	if len(code) > 256 {
		return nil, errInvalidGrant("invalid device code")
	}
	d, err := p.store.DeviceAuthorizationByCodeHash(ctx, secret.Hash(code))
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, errInvalidGrant("invalid device code")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if d.ClientID != c.ClientID {
		return nil, errInvalidGrant("invalid device code")
	}
	if !p.now().Before(d.ExpiresAt) {
		return nil, oauthErr(httperr.ExpiredToken, "the device code has expired: start again")
	}
	d, early, err := p.store.PollDeviceAuthorization(ctx, d.ID, deviceBackoff)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, errInvalidGrant("invalid device code")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if early {
		return nil, oauthErr(httperr.SlowDown, "poll every %d seconds", d.IntervalSeconds)
	}
	switch d.Status {
	case tenants.DevicePending:
		return nil, oauthErr(httperr.AuthorizationPending, "the user has not answered yet")
	case tenants.DeviceDenied:
		return nil, oauthErr(httperr.AccessDenied, "the user did not allow access")
	case tenants.DeviceApproved:
	default:
		return nil, errInvalidGrant("device code was already used")
	}
	user, err := p.store.UserByID(ctx, d.UserID)
	if err != nil || user.DisabledAt != nil || d.AuthTime == nil {
		return nil, errInvalidGrant("the user can no longer sign in")
	}
	// On an RBAC API the user gets only what their roles hold now, as at
	// the code exchange; roles and groups claims as the API asks; the
	// claim rules run, on the access read once for all of it.
	rules, err := p.loadClaimRules(ctx, ruleRequest{grantType: tenants.GrantDeviceCode, clientID: c.ClientID, userID: user.ID})
	if err != nil {
		return nil, ruleTokenError(err)
	}
	access, err := p.readTokenAccess(ctx, c.Client, user, d.Audience, accessWanted{rules: rules, scopes: d.Scopes})
	if err != nil {
		return nil, serverError(err)
	}
	scopes := access.scopes(d.Scopes)
	var ruled *claimrules.Result
	if rules != nil {
		req := ruleRequest{grantType: tenants.GrantDeviceCode, clientID: c.ClientID, userID: user.ID,
			scopes: scopes, audience: d.Audience, acr: d.ACR, idp: d.IDP, amr: d.AMR}
		if ruled, err = evalClaimRules(ctx, rules, c, user, access, req); err != nil {
			return nil, ruleTokenError(p.ruleRefused(ctx, req, err))
		}
	}
	fam := p.newFamily(ctx, t, c, tenants.NewID(), tenants.Authentication{UserID: user.ID, Time: *d.AuthTime, AMR: d.AMR, IDP: d.IDP, ACR: d.ACR},
		scopes, d.Audience, tenants.GrantDeviceCode)
	fam.access.Claims, fam.access.UserAccess = access.claims(c.Client.Client), access.user
	if ruled != nil {
		fam.access.Claims = mergeClaims(fam.access.Claims, ruled.AccessToken)
		fam.access.IDClaims = ruled.IDToken
	}
	err = p.store.RedeemDeviceAuthorization(ctx, d.ID, fam.issue)
	if errors.Is(err, tenants.ErrConflict) {
		// Another poll won the race, or the code expired meanwhile.
		return nil, errInvalidGrant("device code was already used")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return p.respondWithTokens(ctx, t, c, fam.grant, user, fam.access, fam.grant.Scopes, fam.refresh, "")
}
