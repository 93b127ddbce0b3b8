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
// and it was issued to the calling client (the policy: a client may learn
// about its own tokens only). Everything else, including a token of another
// tenant, is {"active": false}.
func (p *Provider) Introspect(ctx context.Context, r *http.Request) (*Response, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	form, err := ParseForm(r)
	if err != nil {
		return nil, err
	}
	caller, err := p.authenticateCaller(ctx, r, form, true)
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
		if hint == "refresh_token" {
			p.introspectRefresh(ctx, t, caller, token, resp)
			if !resp.Active {
				p.introspectAccess(ctx, caller, token, resp)
			}
		} else {
			p.introspectAccess(ctx, caller, token, resp)
			if !resp.Active {
				p.introspectRefresh(ctx, t, caller, token, resp)
			}
		}
	}
	return jsonAnswer(resp), nil
}

func (p *Provider) introspectAccess(ctx context.Context, caller *client, token string, resp *oidc.IntrospectionResponse) {
	claims, rec, err := p.checkAccessToken(ctx, token)
	if err != nil || rec.ClientID != caller.ClientID {
		return
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
	}
}

func (p *Provider) introspectRefresh(ctx context.Context, t *tenants.Tenant, caller *client, token string, resp *oidc.IntrospectionResponse) {
	rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(token))
	if err != nil {
		return
	}
	now := p.now()
	if rt.ClientID != caller.ClientID || rt.UsedAt != nil || rt.RevokedAt != nil || grant.RevokedAt != nil ||
		!now.Before(rt.ExpiresAt) || !now.Before(grant.ExpiresAt) {
		return
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
}
