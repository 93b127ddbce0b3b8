package oidc

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// Endpoint paths, relative to a tenant's issuer.
const (
	PathAuthorize  = tenants.PathAuthorize
	PathToken      = tenants.PathToken
	PathIntrospect = tenants.PathIntrospect
	PathRevoke     = tenants.PathRevoke
	PathPAR        = tenants.PathPAR
	PathUserinfo   = tenants.PathUserinfo
	PathJWKS       = tenants.PathJWKS
	PathDiscovery  = tenants.PathDiscovery
	// PathAuthorizationServer serves the same metadata under RFC 8414's
	// name (OAuth 2.0 Authorization Server Metadata §3).
	PathAuthorizationServer = "/.well-known/oauth-authorization-server"
	PathEndSession          = tenants.PathEndSession
	PathLogin               = "/login"
	authRequestTTL          = 10 * time.Minute
	codeTTL                 = 60 * time.Second
	maxTokenLength          = 8192
	accessTokenJWTTyp       = "at+jwt"
	idTokenJWTTyp           = "JWT"
	// publicMaxAge is how long caches may keep discovery and the JWKS, in
	// seconds: a key is published at least this long before it signs.
	publicMaxAge = "300" // keyring.JWKSMaxAge: keys are pre-published this long
)

// Provider serves every tenant's OpenID Connect and OAuth endpoints.
type Provider struct {
	store *tenants.Store
	cache *cache.Cache
	keys  *keyring.Keyring
	// now is the store's clock, the one clock of expiry.
	now func() time.Time
	// grants dispatches the token endpoint by grant_type.
	grants map[string]grantHandler
	// observer, if set, is told of issued tokens (metrics).
	observer Observer
	// clientKeys finds the keys of private_key_jwt clients.
	clientKeys *keySource
	// rules keeps the tenants' claim rules compiled.
	rules *ruleCache
	// nonceKey makes and checks DPoP nonces (nil: none required).
	nonceKey []byte
	// secrets opens the sealed secrets of client_secret_jwt clients.
	secrets *secret.Box
}

// Observer is told what the provider did, for the node's metrics.
type Observer interface {
	// TokenIssued is called once per access token the token endpoint
	// answers with.
	TokenIssued(grantType, alg string)
}

// Observe makes the provider tell o what it does; call it before serving.
func (p *Provider) Observe(o Observer) { p.observer = o }

// New returns a Provider over store, with cached tenants and clients and the
// tenants' keys; box (the master key's) opens the sealed secrets of
// client_secret_jwt clients (nil: such clients cannot authenticate); up
// fetches the key sets of clients that publish theirs at a jwks_uri (nil:
// such clients cannot authenticate).
func New(store *tenants.Store, c *cache.Cache, keys *keyring.Keyring, box *secret.Box, up *upstream.Client) (*Provider, error) {
	p := &Provider{store: store, cache: c, keys: keys, now: store.Now, secrets: box}
	p.clientKeys = newKeySource(up, store.Now)
	rules, err := newRuleCache()
	if err != nil {
		return nil, err
	}
	p.rules = rules
	p.grants = p.grantHandlers()
	if err := checkGrantHandlers(p.grants); err != nil {
		return nil, err
	}
	return p, nil
}

// tenantFrom returns the tenant of the request. The server only routes here
// after resolving it, so its absence is a server fault.
func tenantFrom(ctx context.Context) (*tenants.Tenant, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, httperr.Internal(tenants.ErrNoTenant)
	}
	return t, nil
}
