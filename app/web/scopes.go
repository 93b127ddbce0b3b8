package web

import "github.com/gatehouse-id/gatehouse/tenants"

// scopeKeys are the catalog messages that say the OpenID Connect scopes
// in words, on the consent page and the account page.
var scopeKeys = map[string]string{
	tenants.ScopeOpenID:        "scope.openid",
	tenants.ScopeProfile:       "scope.profile",
	tenants.ScopeEmail:         "scope.email",
	tenants.ScopeOfflineAccess: "scope.offline_access",
	tenants.ScopeGroups:        "scope.groups",
}

// ScopeKey returns the catalog message of an OpenID Connect scope in
// words, or the vocabulary's English words (tenants.ScopeWords) for one
// the catalogs do not name.
func ScopeKey(scope string) string {
	if key, ok := scopeKeys[scope]; ok {
		return key
	}
	return tenants.ScopeWords(scope)
}
