package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// ClientCredentialsExchange issues an access token to a confidential client
// for itself (RFC 6749 §4.4), for one API it was granted: the resource
// (RFC 8707) or audience parameter names it, or, when omitted, the client's
// only granted API. Requested scopes must be granted on that API; none
// requested means all granted.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	p := s.p
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := r.Client.(*client)
	if !ok || c.Public() {
		return nil, errInvalidClient("client authentication failed")
	}
	res := resources(r.Form)
	var audience string
	switch {
	case len(res) > 1:
		return nil, oidc.ErrInvalidTarget().WithDescription("name one resource per request")
	case len(res) == 1:
		audience = res[0]
	case len(c.Grants) == 1:
		for aud := range c.Grants {
			audience = aud
		}
	default:
		return nil, oidc.ErrInvalidTarget().WithDescription("name the API with the resource parameter")
	}
	g, ok := c.Grants[audience]
	if !ok {
		return nil, oidc.ErrInvalidTarget().WithDescription("this client may not request tokens for %s", audience)
	}
	scopes := []string(r.Data.Scope)
	for _, sc := range scopes {
		if !slices.Contains(g.Scopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %s is not granted to this client on %s", sc, audience)
		}
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(g.Scopes)
	}
	at := p.newAccessToken(t, c.ClientID, c.ClientID, scopes, audience, nil)
	issued := tokenEvent(auditTokenIssued, c.ClientID, c.ClientID, "success", string(oidc.GrantTypeClientCredentials))
	if err := p.store.CreateAccessToken(ctx, at, issued); errors.Is(err, tenants.ErrNotFound) {
		// The client was deleted since this node cached it (a revoked
		// management client, on a node that has not polled yet): its
		// secret opens nothing.
		return nil, errInvalidClient("client authentication failed")
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	token, err := p.signAccessToken(ctx, t, at, nil)
	if err != nil {
		return nil, err
	}
	return tokenResponse(&oidc.AccessTokenResponse{
		AccessToken: token,
		TokenType:   oidc.BearerToken,
		ExpiresIn:   uint64(at.ExpiresAt.Sub(p.now()).Seconds()),
		Scope:       scopes,
	}), nil
}
