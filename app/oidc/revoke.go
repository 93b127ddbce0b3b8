package oidc

import (
	"context"
	"net/http"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Revoke revokes a token (RFC 7009). Revoking a refresh token revokes its
// family, access tokens included (§2.1). A token that is unknown, invalid,
// of another client or another tenant is answered 200 all the same and
// nothing changes (§2.2). Public clients authenticate with their id.
func (p *Provider) Revoke(ctx context.Context, r *http.Request) (*Response, error) {
	form, err := ParseForm(r)
	if err != nil {
		return nil, err
	}
	c, err := p.authenticateCaller(ctx, r, form, false, PathRevoke)
	if err != nil {
		return nil, err
	}
	token := form.Get("token")
	if token == "" {
		return nil, oauthErr(httperr.InvalidRequest, "token is required")
	}
	if len(token) <= maxTokenLength {
		rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(token))
		if tenants.Unavailable(err) {
			return nil, err
		}
		if err == nil {
			if rt.ClientID == c.ClientID {
				if err := p.store.RevokeGrant(ctx, grant.ID, "revoked by client"); err != nil {
					return nil, serverError(err)
				}
				p.audit(ctx, auditTokenRevoked, c.ClientID, grant.UserID, "success", "refresh token and its family revoked by the client")
			}
		} else if _, rec, err := p.checkAccessToken(ctx, token); tenants.Unavailable(err) {
			// Answering 200 would tell the client the token is revoked.
			return nil, err
		} else if err == nil && rec.ClientID == c.ClientID {
			if err := p.store.RevokeAccessToken(ctx, rec.ID, rec.ClientID, rec.ExpiresAt); err != nil {
				return nil, serverError(err)
			}
			p.audit(ctx, auditTokenRevoked, c.ClientID, rec.Subject, "success", "access token revoked by the client")
		}
	}
	return jsonAnswer(nil), nil
}
