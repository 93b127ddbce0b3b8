package tenants

import "testing"

func TestScopeVocabulary(t *testing.T) {
	for _, tc := range []struct {
		scope             string
		standard, ignored bool
	}{
		{"openid", true, false}, {"profile", true, false}, {"email", true, false}, {"offline_access", true, false},
		{"address", false, true}, {"phone", false, true},
		{"read:orders", false, false}, {"OPENID", false, false}, {"", false, false},
	} {
		if StandardScope(tc.scope) != tc.standard || IgnoredScope(tc.scope) != tc.ignored || OIDCScope(tc.scope) != (tc.standard || tc.ignored) {
			t.Errorf("%q: standard %v ignored %v", tc.scope, StandardScope(tc.scope), IgnoredScope(tc.scope))
		}
	}
	for _, s := range StandardScopes() {
		if ScopeWords(s) == s {
			t.Errorf("scope %s has no words for the consent page", s)
		}
	}
}
