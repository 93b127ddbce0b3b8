package admin

import (
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// grantSet checks names against the grant registry (tenants.GrantTypes):
// every name registered, none retired or repeated, and every grant's Needs
// in the set. It returns the set in registry order.
func grantSet(names []string) ([]string, error) {
	if err := tenants.CheckGrantTypes(names); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, g := range tenants.GrantTypes() {
		if !slices.Contains(names, g.Name) {
			continue
		}
		if !g.NeedsMet(names) {
			return nil, tenants.Invalid("grant_types", "%s needs %s", g.Name, g.NeedsWords())
		}
		out = append(out, g.Name)
	}
	return out, nil
}

// tenantGrants validates the grant types a tenant allows.
func tenantGrants(names []string) ([]string, error) { return grantSet(names) }

// clientGrants validates the grant types of a client of kind at tenant t:
// a registered, allowed set (see grantSet) of at least one grant, every one
// allowed by the tenant, only Public grants for a public client and only
// Machine grants for a machine-to-machine one. Whether Redirect grants have
// a redirect URI is applyClient's to check, once the URIs are valid.
func clientGrants(t *tenants.Tenant, kind string, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, tenants.Invalid("grant_types", "choose at least one grant type")
	}
	gts, err := grantSet(names)
	if err != nil {
		return nil, err
	}
	public := kind == KindSPA || kind == KindNative
	for _, n := range gts {
		g, _ := tenants.LookupGrant(n)
		switch {
		case public && !g.Public:
			return nil, tenants.Invalid("grant_types", "a public client cannot use %s: it has no secret", n)
		case kind == KindMachine && !g.Machine:
			return nil, tenants.Invalid("grant_types", "a machine-to-machine application has no end user: it cannot use %s (only %s)", n, grantWords(machineGrants()))
		case !t.AllowsGrant(n):
			return nil, tenants.Invalid("grant_types", "this tenant does not allow the %s grant", n)
		}
	}
	return gts, nil
}

// DefaultClientGrants are the grant types a new application of kind gets
// when none are given: the registry's Default grants that fit the kind
// (Machine ones for a machine-to-machine application, the others for an
// application with users, Public ones only for a public client), among
// those tenant t allows, and only where what they need is there too.
func DefaultClientGrants(kind string, t *tenants.Tenant) []string {
	public := kind == KindSPA || kind == KindNative
	var fits []string
	for _, g := range tenants.GrantTypes() {
		if g.Default && t.AllowsGrant(g.Name) && g.Machine == (kind == KindMachine) && (!public || g.Public) {
			fits = append(fits, g.Name)
		}
	}
	var out []string
	for _, n := range fits {
		if g, _ := tenants.LookupGrant(n); g.NeedsMet(fits) {
			out = append(out, n)
		}
	}
	return out
}

// ClientGrantOptions are the grant types an application of kind may be
// given at all (before the tenant's settings), in registry order.
func ClientGrantOptions(kind string) []tenants.GrantType {
	public := kind == KindSPA || kind == KindNative
	var out []tenants.GrantType
	for _, g := range tenants.GrantTypes() {
		if (kind != KindMachine || g.Machine) && (!public || g.Public) {
			out = append(out, g)
		}
	}
	return out
}

// machineGrants names the grants a machine-to-machine application may use.
func machineGrants() []string {
	var out []string
	for _, g := range tenants.GrantTypes() {
		if g.Machine {
			out = append(out, g.Name)
		}
	}
	return out
}

// onlyMachineGrants reports whether names is a non-empty list of grants
// machine-to-machine applications use (none of them needs an end user).
func onlyMachineGrants(names []string) bool {
	for _, n := range names {
		if g, ok := tenants.LookupGrant(n); !ok || !g.Machine {
			return false
		}
	}
	return len(names) > 0
}

// grantWords joins names as "a, b or c".
func grantWords(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
