package tenants

import (
	"fmt"
	"slices"
)

// Grant type names (RFC 6749 §4, RFC 7591 §2).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4).
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	// GrantTokenExchange is OAuth 2.0 Token Exchange (RFC 8693 §2.1).
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// GrantType describes one OAuth grant Gatehouse serves. The registry of
// them is the one list that discovery, the token endpoint, tenant and
// client validation, the console, the management API and the CLI derive
// from: adding a grant is a row here (and the file that serves it).
type GrantType struct {
	Name     string // RFC name, e.g. "authorization_code"
	Label    string // console label
	Help     string // one-line help for console and CLI
	Public   bool   // public clients (no secret) may use it
	Redirect bool   // needs a redirect URI
	Machine  bool   // usable by machine clients (no end user)
	// Needs are the grants of which it requires one, e.g. refresh_token
	// needs a grant that signs a user in (nil: none). A grant needed
	// needs nothing itself.
	Needs   []string
	Default bool // offered by default to new tenants / the default kind's clients
}

// grantTypes is the registry, in the order every list shows it.
var grantTypes = []GrantType{
	{
		Name: GrantAuthorizationCode, Label: "Authorization code",
		Help:   "sign users in through the browser (always with PKCE)",
		Public: true, Redirect: true, Default: true,
	},
	{
		Name: GrantRefreshToken, Label: "Refresh token",
		Help:   "keep users signed in: refresh tokens, rotated on every use",
		Public: true, Needs: []string{GrantAuthorizationCode, GrantDeviceCode}, Default: true,
	},
	{
		Name: GrantClientCredentials, Label: "Client credentials",
		Help:    "machine-to-machine: call APIs as the application itself, with its secret",
		Machine: true, Default: true,
	},
	{
		Name: GrantDeviceCode, Label: "Device authorization",
		Help:   "sign users in on devices without a browser (TVs, CLIs): they enter a code on another device",
		Public: true,
	},
	{
		Name: GrantTokenExchange, Label: "Token exchange",
		Help:    "exchange an access token issued to this application for one for another API it is granted, acting for the token's subject (RFC 8693)",
		Machine: true,
	},
}

// retiredGrants are grants the OAuth 2.0 Security BCP (RFC 9700 §2.1.2,
// §2.4) says not to use; Gatehouse refuses them by name.
var retiredGrants = []string{"implicit", "password"}

// NeedsWords says what g needs, as "a or b" ("" for nothing): the one
// wording of the console, the API's description and the CLI's help.
func (g GrantType) NeedsWords() string { return listWords(g.Needs) }

// NeedsMet reports whether names hold one of the grants g needs.
func (g GrantType) NeedsMet(names []string) bool {
	if len(g.Needs) == 0 {
		return true
	}
	for _, n := range g.Needs {
		if slices.Contains(names, n) {
			return true
		}
	}
	return false
}

// GrantTypes returns the registry, in registry order. The slice is a copy
// (Needs included).
func GrantTypes() []GrantType {
	out := slices.Clone(grantTypes)
	for i := range out {
		out[i].Needs = slices.Clone(out[i].Needs)
	}
	return out
}

// LookupGrant returns the registered grant called name.
func LookupGrant(name string) (GrantType, bool) {
	for _, g := range grantTypes {
		if g.Name == name {
			g.Needs = slices.Clone(g.Needs)
			return g, true
		}
	}
	return GrantType{}, false
}

// GrantNames returns the names of the registered grants, in registry order.
func GrantNames() []string {
	out := make([]string, len(grantTypes))
	for i, g := range grantTypes {
		out[i] = g.Name
	}
	return out
}

// DefaultGrantTypes returns the names of the grants a new tenant allows, in
// registry order.
func DefaultGrantTypes() []string {
	var out []string
	for _, g := range grantTypes {
		if g.Default {
			out = append(out, g.Name)
		}
	}
	return out
}

// CheckGrantTypes reports the first name in names that is not a registered
// grant, is retired (implicit, password) or is repeated, as a
// *ValidationError of field grant_types naming the value. It does not
// check what grants need of each other or of a client.
func CheckGrantTypes(names []string) error {
	for i, n := range names {
		if slices.Contains(retiredGrants, n) {
			return Invalid("grant_types", "the %s grant is not supported (OAuth 2.0 Security BCP, RFC 9700)", n)
		}
		if _, ok := LookupGrant(n); !ok {
			return Invalid("grant_types", "unknown grant type %s (one of %s)", quoteShort(n), listWords(GrantNames()))
		}
		if slices.Contains(names[:i], n) {
			return Invalid("grant_types", "%s is listed twice", n)
		}
	}
	return nil
}

// quoteShort quotes s for an error message, cut to a readable length: the
// value is the caller's, possibly huge or binary.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q…", Truncate(s, max))
	}
	return fmt.Sprintf("%q", s)
}

// listWords joins names as "a, b or c".
func listWords(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	out := ""
	for i, n := range names[:len(names)-1] {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out + " or " + names[len(names)-1]
}
