package tenants

import "slices"

// The OpenID Connect scopes Gatehouse serves (OIDC Core §5.4, §11), and
// groups, Gatehouse's own user-claim scope.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
	// ScopeGroups asks for the groups claim, the names of the user's
	// groups, in the ID token and userinfo (issue 10).
	ScopeGroups = "groups"
)

// standardScopes is the one home of the OpenID Connect scopes Gatehouse
// serves, each with the words the consent page says for it. Discovery, the
// authorization request, the consent page and API validation use it.
var standardScopes = []struct{ name, words string }{
	{ScopeOpenID, "Sign you in with your account"},
	{ScopeProfile, "See your name"},
	{ScopeEmail, "See your email address"},
	{ScopeOfflineAccess, "Stay connected when you are not using it"},
	{ScopeGroups, "See the groups you belong to"},
}

// ignoredScopes are OpenID Connect scopes Gatehouse has no claims for; a
// request may name them and they are dropped (OIDC Core §5.4 lets a
// provider ignore scopes).
var ignoredScopes = []string{"address", "phone"}

// StandardScopes lists the OpenID Connect scopes Gatehouse serves, for
// discovery's scopes_supported.
func StandardScopes() []string {
	out := make([]string, len(standardScopes))
	for i, s := range standardScopes {
		out[i] = s.name
	}
	return out
}

// StandardScope reports whether s is an OpenID Connect scope Gatehouse
// serves (not an API's).
func StandardScope(s string) bool { return slices.Contains(StandardScopes(), s) }

// IgnoredScope reports whether s is an OpenID Connect scope Gatehouse drops.
func IgnoredScope(s string) bool { return slices.Contains(ignoredScopes, s) }

// OIDCScope reports whether s is any scope OpenID Connect defines (served
// or ignored): no API may define it.
func OIDCScope(s string) bool { return StandardScope(s) || IgnoredScope(s) }

// ScopeWords is what the consent page says for OpenID Connect scope s.
func ScopeWords(s string) string {
	for _, x := range standardScopes {
		if x.name == s {
			return x.words
		}
	}
	return s
}
