package oidc

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// client is a cached client of the tenant it was looked up in.
type client struct {
	*cache.Client
	tenant *tenants.Tenant
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
