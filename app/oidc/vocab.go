package oidc

import "github.com/gatehouse-id/gatehouse/tenants"

// The protocol vocabulary of the endpoints. Scopes live in tenants (their
// one home, which admin validation shares); ACR values and prompts in
// app/authn, whose policy decides on them.

// The OpenID Connect scopes, by name.
const (
	ScopeOpenID        = tenants.ScopeOpenID
	ScopeProfile       = tenants.ScopeProfile
	ScopeEmail         = tenants.ScopeEmail
	ScopeOfflineAccess = tenants.ScopeOfflineAccess
	ScopeGroups        = tenants.ScopeGroups
)

// The response modes Gatehouse answers authorization requests with: the
// query (OAuth 2.0 Multiple Response Type Encoding Practices §2.1, the
// default of the code flow) and a form the browser posts (OAuth 2.0 Form
// Post Response Mode §2).
const (
	ResponseModeQuery    = "query"
	ResponseModeFormPost = "form_post"
)

// ResponseModes are the response modes of discovery and of Authorize.
var ResponseModes = []string{ResponseModeQuery, ResponseModeFormPost}

// supportedClaims are the claims Gatehouse puts in ID tokens and userinfo,
// for discovery's claims_supported.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "idp",
	"name", "given_name", "family_name", "email", "email_verified", "updated_at", "groups",
}
