package oidc

import (
	"context"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Introspect answers RFC 7662 for every token Gatehouse issues: refresh
// tokens by their hash, JWT access tokens by signature and record. A token
// is active only if it is unexpired, not revoked, its family not revoked,
// and the caller may learn about it (the policy, RFC 7662 §2.1 and §4): the
// client it was issued to, or, for an access token, the API it was issued
// for (its aud), through the confidential client the API designates as its
// resource server. Everything else, including a token of another API or of
// another tenant, is {"active": false}. A caller that accepts
// application/token-introspection+jwt gets the answer as a signed JWT
// (RFC 9701).
func (p *Provider) Introspect(ctx context.Context, r *http.Request) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	form, err := ParseForm(r)
	if err != nil {
		return nil, err
	}
	caller, err := p.authenticateCaller(ctx, r, form, true, PathIntrospect)
	if err != nil {
		return nil, err
	}
	token := form.Get("token")
	if token == "" {
		return nil, oauthErr(httperr.InvalidRequest, "token is required")
	}
	resp := &oidc.IntrospectionResponse{}
	hint := form.Get("token_type_hint")
	if len(token) <= maxTokenLength {
		first, second := p.introspectAccess, p.introspectRefresh
		if hint == "refresh_token" {
			first, second = second, first
		}
		if err := first(ctx, t, caller, token, resp); err != nil {
			return nil, err
		}
		if !resp.Active {
			if err := second(ctx, t, caller, token, resp); err != nil {
				return nil, err
			}
		}
	}
	if wantsIntrospectionJWT(r) {
		return p.introspectionJWT(ctx, t, caller, resp)
	}
	return jsonAnswer(resp), nil
}

// introspectAccess and introspectRefresh fill resp for an active token of
// the caller; they fail only when the database cannot be reached (an
// unknown token is inactive, but an unchecked one is not).
func (p *Provider) introspectAccess(ctx context.Context, _ *tenants.Tenant, caller *client, token string, resp *oidc.IntrospectionResponse) error {
	claims, rec, err := p.checkAccessToken(ctx, token)
	if tenants.Unavailable(err) {
		return err
	}
	if err != nil {
		return nil
	}
	if rec.ClientID != caller.ClientID {
		ok, err := p.resourceServerOf(ctx, rec.Audience, caller.ClientID)
		if err != nil || !ok {
			return err
		}
	}
	*resp = oidc.IntrospectionResponse{
		Active:     true,
		Scope:      oidc.SpaceDelimitedArray(rec.Scopes),
		ClientID:   rec.ClientID,
		TokenType:  oidc.BearerToken,
		Expiration: claims.Expiration,
		IssuedAt:   claims.IssuedAt,
		NotBefore:  claims.NotBefore,
		Subject:    claims.Subject,
		Audience:   claims.Audience,
		Issuer:     claims.Issuer,
		JWTID:      claims.JWTID,
		Actor:      rec.Actor,
	}
	if rec.JKT != "" {
		// A resource server checks the proof against it (RFC 9449 §6.2).
		resp.TokenType = TokenTypeDPoP
		resp.Claims = map[string]any{"cnf": map[string]any{"jkt": rec.JKT}}
	}
	return nil
}

// resourceServerOf reports whether clientID is the resource server of the
// tenant's API with audience: the confidential client the API designates
// (tenants.API.ResourceServerClientID). A token without an API audience
// has none.
func (p *Provider) resourceServerOf(ctx context.Context, audience, clientID string) (bool, error) {
	if audience == "" || clientID == "" {
		return false, nil
	}
	api, err := p.store.APIByAudience(ctx, audience)
	if tenants.Unavailable(err) {
		return false, err
	}
	if err != nil {
		return false, nil
	}
	return api.ResourceServerClientID != "" && api.ResourceServerClientID == clientID, nil
}

func (p *Provider) introspectRefresh(ctx context.Context, t *tenants.Tenant, caller *client, token string, resp *oidc.IntrospectionResponse) error {
	rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(token))
	if tenants.Unavailable(err) {
		return err
	}
	if err != nil {
		return nil
	}
	now := p.now()
	if rt.ClientID != caller.ClientID || rt.UsedAt != nil || rt.RevokedAt != nil || grant.RevokedAt != nil ||
		!now.Before(rt.ExpiresAt) || !now.Before(grant.ExpiresAt) {
		return nil
	}
	*resp = oidc.IntrospectionResponse{
		Active:     true,
		Scope:      oidc.SpaceDelimitedArray(grant.Scopes),
		ClientID:   rt.ClientID,
		TokenType:  "refresh_token",
		Expiration: oidc.FromTime(rt.ExpiresAt),
		IssuedAt:   oidc.FromTime(rt.CreatedAt.Truncate(time.Second)),
		Subject:    rt.UserID,
		Audience:   []string{rt.ClientID},
		Issuer:     t.Issuer,
	}
	return nil
}
