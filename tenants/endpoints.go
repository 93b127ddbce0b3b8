package tenants

// Endpoint paths of a tenant's OpenID provider, relative to its issuer.
// app/oidc serves them; the console names them in its quickstarts. One
// home, so that a page never shows a path the provider does not serve.
const (
	PathAuthorize  = "/authorize"
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathRevoke     = "/oauth/revoke"
	PathPAR        = "/oauth/par"
	PathUserinfo   = "/userinfo"
	PathJWKS       = "/.well-known/jwks.json"
	PathDiscovery  = "/.well-known/openid-configuration"
	PathEndSession = "/logout"
)
