package oidc

import (
	"context"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/cache"
	"github.com/gatehouse-id/gatehouse/tenants/keyring"
)

// Endpoint paths, relative to a tenant's issuer.
const (
	PathAuthorize     = "/authorize"
	PathToken         = "/oauth/token"
	PathIntrospect    = "/oauth/introspect"
	PathRevoke        = "/oauth/revoke"
	PathUserinfo      = "/userinfo"
	PathJWKS          = "/.well-known/jwks.json"
	PathDiscovery     = "/.well-known/openid-configuration"
	PathEndSession    = "/logout"
	PathLogin         = "/login"
	authRequestTTL    = 10 * time.Minute
	codeTTL           = 60 * time.Second
	maxTokenLength    = 8192
	accessTokenJWTTyp = "at+jwt"
)

// Config configures a Provider.
type Config struct {
	// CryptoKey keys the engine's own encryption of opaque values. It must be
	// the same on every node (derive it from the master key).
	CryptoKey [32]byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Provider serves every tenant's OpenID Connect endpoints.
type Provider struct {
	store   *tenants.Store
	cache   *cache.Cache
	keys    *keyring.Keyring
	now     func() time.Time
	handler http.Handler
}

// New returns a Provider over store, with cached tenants and clients and the
// tenants' keys.
func New(cfg Config, store *tenants.Store, c *cache.Cache, keys *keyring.Keyring) (*Provider, error) {
	p := &Provider{store: store, cache: c, keys: keys, now: cfg.Now}
	if p.now == nil {
		p.now = time.Now
	}
	opConfig := &op.Config{
		CryptoKey:             cfg.CryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       supportedScopes,
		SupportedClaims:       supportedClaims,
	}
	engine, err := op.NewProvider(opConfig, &storage{p: p}, issuerFromTenant)
	if err != nil {
		return nil, err
	}
	endpoints := op.Endpoints{
		Authorization: op.NewEndpoint(PathAuthorize),
		Token:         op.NewEndpoint(PathToken),
		Introspection: op.NewEndpoint(PathIntrospect),
		Userinfo:      op.NewEndpoint(PathUserinfo),
		Revocation:    op.NewEndpoint(PathRevoke),
		EndSession:    op.NewEndpoint(PathEndSession),
		JwksURI:       op.NewEndpoint(PathJWKS),
	}
	srv := &server{LegacyServer: op.NewLegacyServer(engine, endpoints), p: p}
	// The authorize callback is never routed to the engine: the login
	// handlers complete requests through Complete. CORS is Echo's.
	p.handler = op.RegisterLegacyServer(srv, http.NotFound, op.WithServerCORSOptions(nil))
	return p, nil
}

// Handler serves the engine's endpoints: token, introspection, revocation,
// userinfo, discovery and JWKS. The request context must carry the tenant.
func (p *Provider) Handler() http.Handler { return p.handler }

// issuerFromTenant gives the engine the issuer of the tenant that the host
// resolved to; it never looks at the Host or Forwarded headers itself.
func issuerFromTenant(bool) (op.IssuerFromRequest, error) {
	return func(r *http.Request) string {
		if t, ok := tenants.FromContext(r.Context()); ok {
			return t.Issuer
		}
		return ""
	}, nil
}

// tenantFrom returns the tenant of the request. The server only routes here
// after resolving it, so its absence is a server fault.
func tenantFrom(ctx context.Context) (*tenants.Tenant, error) {
	t, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, oidc.ErrServerError().WithParent(tenants.ErrNoTenant)
	}
	return t, nil
}

var (
	supportedScopes = []string{"openid", "profile", "email", "offline_access"}
	supportedClaims = []string{
		"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "at_hash",
		"name", "given_name", "family_name", "email", "email_verified", "updated_at",
	}
	// acrValuesSupported are the authentication context classes Gatehouse
	// can satisfy (OpenID PAPE policies), advertised in discovery; an
	// authorization request keeps only these of its acr_values.
	acrValuesSupported = []string{
		"http://schemas.openid.net/pape/policies/2007/06/multi-factor",
		"http://schemas.openid.net/pape/policies/2007/06/phishing-resistant",
	}
)
