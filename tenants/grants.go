package tenants

// GrantType is one OAuth grant of the registry. (Interim copy: the
// registry branch owns this file.)
type GrantType struct {
	Name     string
	Label    string
	Help     string
	Public   bool
	Redirect bool
	Machine  bool
	Needs    string
	Default  bool
}

// GrantTypes returns the registry in its order.
func GrantTypes() []GrantType {
	return []GrantType{
		{Name: GrantAuthorizationCode, Label: "Authorization code", Public: true, Redirect: true, Default: true},
		{Name: GrantRefreshToken, Label: "Refresh token", Public: true, Needs: GrantAuthorizationCode, Default: true},
		{Name: GrantClientCredentials, Label: "Client credentials", Machine: true, Default: true},
	}
}

// LookupGrant returns the grant called name.
func LookupGrant(name string) (GrantType, bool) {
	for _, g := range GrantTypes() {
		if g.Name == name {
			return g, true
		}
	}
	return GrantType{}, false
}
