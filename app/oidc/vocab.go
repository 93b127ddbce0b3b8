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

// ResponseModes are the response modes Gatehouse answers authorization
// requests with (OAuth 2.0 Multiple Response Type Encoding Practices §2).
var ResponseModes = []string{"query"}

// supportedClaims are the claims Gatehouse puts in ID tokens and userinfo,
// for discovery's claims_supported.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "idp",
	"name", "given_name", "family_name", "email", "email_verified", "updated_at", "groups",
}
