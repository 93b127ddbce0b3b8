package admin

import (
	"context"
	"errors"
	"slices"
)

// Scopes of the management API (and of the console's own token).
const (
	ScopeTenantsRead  = "tenants:read"
	ScopeTenantsWrite = "tenants:write"
	ScopeAuditRead    = "audit:read"
	// ScopeExportHashes lets a user export carry password hashes: a
	// scope of its own, which no administrator holds unless given it.
	ScopeExportHashes = "users:export_hashes"
)

// AllScopes are every management scope, in the order they are shown.
func AllScopes() []string {
	return []string{ScopeTenantsRead, ScopeTenantsWrite, ScopeAuditRead, ScopeExportHashes}
}

// DefaultScopes are the scopes of a new administrator when none are
// named: all but ScopeExportHashes, which is given by name.
func DefaultScopes() []string { return []string{ScopeTenantsRead, ScopeTenantsWrite, ScopeAuditRead} }

// scopeDescriptions describe the management scopes in the management API.
var scopeDescriptions = map[string]string{
	ScopeTenantsRead:  "Read tenants, their applications, APIs, users and keys",
	ScopeTenantsWrite: "Change tenants, their applications, APIs, users and keys",
	ScopeAuditRead:    "Read audit logs",
	ScopeExportHashes: "Export users with their password hashes",
}

// Kinds of principals.
const (
	KindUser   = "user"   // an administrator signed in to the console
	KindClient = "client" // a machine-to-machine client of the system tenant
	KindCLI    = "cli"    // the gatehouse command, run by whoever runs the server
)

// Principal is who is acting through the console, the API or the CLI: its
// identity, its roles (operator, or admin of some tenants) and the scopes of
// its credentials. The tenant an admin acts on is checked against it in one
// place, [Service.Tenant].
type Principal struct {
	Kind     string
	ID       string
	Name     string
	Operator bool
	// TenantIDs are the tenants a tenant admin administers.
	TenantIDs []string
	Scopes    []string
}

// HasScope reports whether the principal's credentials carry scope;
// tenants:write implies tenants:read.
func (p *Principal) HasScope(scope string) bool {
	if slices.Contains(p.Scopes, scope) {
		return true
	}
	return scope == ScopeTenantsRead && slices.Contains(p.Scopes, ScopeTenantsWrite)
}

// Reaches reports whether the principal administers the tenant with id.
func (p *Principal) Reaches(tenantID string) bool {
	return p.Operator || slices.Contains(p.TenantIDs, tenantID)
}

// CLI is the principal of the gatehouse command: whoever can run it on the
// server with its configuration is an operator.
func CLI() *Principal {
	return &Principal{Kind: KindCLI, ID: "cli", Name: "gatehouse CLI", Operator: true, Scopes: AllScopes()}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// ErrForbidden is returned when the principal may see the thing but its
// credentials lack the scope or role for the action.
var ErrForbidden = errors.New("forbidden")

// ErrUnauthenticated is returned when there is no principal at all.
var ErrUnauthenticated = errors.New("not signed in")
