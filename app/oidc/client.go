package oidc

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// client adapts a cached client to the engine's op.Client.
type client struct {
	*cache.Client
	tenant *tenants.Tenant
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.ClientID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }
func (c *client) LoginURL(id string) string        { return PathLogin + "?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeJWT
}
func (c *client) IDTokenLifetime() time.Duration { return c.tenant.IDTokenTTL() }
func (c *client) DevMode() bool                  { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims in the
// ID token even when an access token is issued, as relying parties expect.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

func (c *client) ApplicationType() op.ApplicationType {
	switch c.Client.ApplicationType {
	case tenants.AppTypeNative:
		return op.ApplicationTypeNative
	case tenants.AppTypeSPA:
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	switch c.TokenEndpointAuthMethod {
	case tenants.AuthMethodNone:
		return oidc.AuthMethodNone
	case tenants.AuthMethodPost:
		return oidc.AuthMethodPost
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.AllowsGrant(tenants.GrantAuthorizationCode) {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.Client.GrantTypes))
	for i, g := range c.Client.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

// checkSecret compares a presented secret with the client's current one and,
// during a rotation's grace period, its previous one; in constant time.
func (c *client) checkSecret(presented string, now time.Time) bool {
	if presented == "" || c.SecretHash == "" {
		return false
	}
	h := secret.Hash(presented)
	ok := secret.Equal(h, c.SecretHash)
	if c.PreviousSecretHash != "" && c.PreviousSecretExpiresAt != nil && now.Before(*c.PreviousSecretExpiresAt) {
		ok = secret.Equal(h, c.PreviousSecretHash) || ok
	}
	return ok
}

// lookupClient returns the client with id of the tenant in ctx, or
// tenants.ErrNotFound.
func (p *Provider) lookupClient(ctx context.Context, id string) (*client, error) {
	t, err := tenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	if id == "" || len(id) > 256 {
		return nil, tenants.ErrNotFound
	}
	c, err := p.cache.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{Client: c, tenant: t}, nil
}

// Client returns the client with id of the tenant in ctx, for the login
// pages (its name, its granted APIs' scope descriptions).
func (p *Provider) Client(ctx context.Context, id string) (*cache.Client, error) {
	c, err := p.lookupClient(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.Client, nil
}

// errInvalidClient is the answer to every client authentication failure:
// 401 (RFC 6749 §5.2); the server adds WWW-Authenticate.
func errInvalidClient(desc string) error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("%s", desc), 401)
}

// authenticateClient authenticates the client of a token, introspection or
// revocation request: a public client by its id alone (it must not send a
// secret), a confidential one by its secret (client_secret_basic or
// client_secret_post). Assertions are not supported.
func (p *Provider) authenticateClient(ctx context.Context, cc *op.ClientCredentials, requireSecret bool) (*client, error) {
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		return nil, errInvalidClient("client assertions are not supported")
	}
	c, err := p.lookupClient(ctx, cc.ClientID)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, errInvalidClient("client authentication failed")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if c.Public() {
		if cc.ClientSecret != "" || requireSecret {
			return nil, errInvalidClient("client authentication failed")
		}
		return c, nil
	}
	if !c.checkSecret(cc.ClientSecret, p.now()) {
		return nil, errInvalidClient("client authentication failed")
	}
	return c, nil
}
