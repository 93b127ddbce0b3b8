package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Revocation revokes a token (RFC 7009). Revoking a refresh token revokes
// its family, access tokens included (§2.1). A token that is unknown,
// invalid, of another client or another tenant is answered 200 all the
// same and nothing changes (§2.2).
func (s *server) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	p := s.p
	c, ok := r.Client.(*client)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	token := r.Data.Token
	if len(token) <= maxTokenLength {
		if rt, grant, err := p.store.RefreshTokenByHash(ctx, secret.Hash(token)); err == nil {
			if rt.ClientID == c.ClientID {
				if err := p.store.RevokeGrant(ctx, grant.ID, "revoked by client"); err != nil {
					return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
				}
				p.audit(ctx, auditTokenRevoked, c.ClientID, grant.UserID, "success", "refresh token and its family revoked by the client")
			}
		} else if _, rec, err := p.checkAccessToken(ctx, token); err == nil && rec.ClientID == c.ClientID {
			if err := p.store.RevokeAccessToken(ctx, rec.ID); err != nil {
				return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
			}
			p.audit(ctx, auditTokenRevoked, c.ClientID, rec.Subject, "success", "access token revoked by the client")
		}
	}
	resp := op.NewResponse(nil)
	resp.Header = noStore()
	return resp, nil
}
