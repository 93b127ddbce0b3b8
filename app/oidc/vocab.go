package oidc

import "slices"

// The OpenID Connect scopes, by name.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// ResponseModes are the response modes Gatehouse answers authorization
// requests with (OAuth 2.0 Multiple Response Type Encoding Practices §2).
var ResponseModes = []string{"query"}

// supportedClaims are the claims Gatehouse puts in ID tokens and userinfo,
// for discovery's claims_supported.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "idp",
	"name", "given_name", "family_name", "email", "email_verified", "updated_at",
}

// The OpenID Connect scopes Gatehouse serves (OIDC Core §5.4, §11), each
// with the words the consent page says for it: the one home of the list
// that discovery, validation and the pages use.
var standardScopes = []struct{ name, words string }{
	{ScopeOpenID, "Sign you in with your account"},
	{ScopeProfile, "See your name"},
	{ScopeEmail, "See your email address"},
	{ScopeOfflineAccess, "Stay connected when you are not using it"},
}

// ignoredScopes are OpenID Connect scopes Gatehouse has no claims for; a
// request may name them and they are dropped (OIDC Core §5.4 lets a
// provider ignore scopes).
var ignoredScopes = []string{"address", "phone"}

// SupportedScopes lists the OpenID Connect scopes, for discovery's
// scopes_supported.
var SupportedScopes = func() []string {
	out := make([]string, len(standardScopes))
	for i, s := range standardScopes {
		out[i] = s.name
	}
	return out
}()

// StandardScope reports whether s is an OpenID Connect scope Gatehouse
// serves (not an API's).
func StandardScope(s string) bool { return slices.Contains(SupportedScopes, s) }

// ScopeWords is what the consent page says for OpenID Connect scope s.
func ScopeWords(s string) string {
	for _, x := range standardScopes {
		if x.name == s {
			return x.words
		}
	}
	return s
}
