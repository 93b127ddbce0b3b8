package oidc

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// clientCredentials issues an access token to a confidential client
// for itself (RFC 6749 §4.4), for one API it was granted: the resource
// (RFC 8707) or audience parameter names it, or, when omitted, the client's
// only granted API. Requested scopes must be granted on that API; none
// requested means all granted.
func (p *Provider) clientCredentials(ctx context.Context, t *tenants.Tenant, c *client, form url.Values) (*Response, error) {
	res := resources(form)
	var audience string
	switch {
	case len(res) > 1:
		return nil, oauthErr(httperr.InvalidTarget, "name one resource per request")
	case len(res) == 1:
		audience = res[0]
	case len(c.Grants) == 1:
		for aud := range c.Grants {
			audience = aud
		}
	default:
		return nil, oauthErr(httperr.InvalidTarget, "name the API with the resource parameter")
	}
	g, ok := c.Grants[audience]
	if !ok {
		return nil, oauthErr(httperr.InvalidTarget, "this client may not request tokens for %s", audience)
	}
	scopes := strings.Fields(form.Get("scope"))
	for _, sc := range scopes {
		if !slices.Contains(g.Scopes, sc) {
			return nil, oauthErr(httperr.InvalidScope, "scope %s is not granted to this client on %s", sc, audience)
		}
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(g.Scopes)
	}
	at := p.newAccessToken(ctx, t, c, c.ClientID, scopes, audience, "")
	// Nothing is stored but the audit event, written with the events of
	// concurrent requests in one commit, and durable before the answer.
	issued := tokenEvent(auditTokenIssued, c.ClientID, c.ClientID, "success", tenants.GrantClientCredentials)
	if err := p.store.AppendAuditGrouped(ctx, issued); errors.Is(err, tenants.ErrNotFound) {
		// The client was deleted since this node cached it (a revoked
		// management client, on a node that has not heard yet): its
		// secret opens nothing.
		return nil, invalidClient("client authentication failed", basicChallenge(t.Issuer))
	} else if err != nil {
		return nil, serverError(err)
	}
	token, err := p.signAccessToken(ctx, t, at, nil)
	if err != nil {
		return nil, err
	}
	return jsonAnswer(&oidc.AccessTokenResponse{
		AccessToken: token,
		TokenType:   tokenTypeFor(ctx),
		ExpiresIn:   uint64(at.ExpiresAt.Sub(p.now()).Seconds()),
		Scope:       scopes,
	}), nil
}
