package tenants

import (
	"slices"
	"time"
)

// Role bundles permissions (scopes of the tenant's APIs) under a name
// unique in its tenant. Users hold roles directly and through groups.
type Role struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	Name        string
	Description string
	// Permissions are the scopes the role grants, ordered by audience and
	// scope; loaded and saved with the role.
	Permissions []Permission `gorm:"-"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Permission is one scope of one API, the API named by its audience.
type Permission struct {
	Audience string
	Scope    string
}

// RolePermission is the row of a role's permission.
type RolePermission struct {
	TenantID  string
	RoleID    string
	APIID     string `gorm:"column:api_id"`
	Scope     string
	CreatedAt time.Time
}

// Group is a set of users of one tenant, named uniquely in it, whose
// members hold the group's roles.
type Group struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName implements gorm's tabler.
func (Group) TableName() string { return "user_groups" }

// GroupMember makes a user a member of a group.
type GroupMember struct {
	TenantID string
	GroupID  string
	UserID   string
	// ConnectionID is "" for a membership an admin made, else the
	// connection whose group mapping made it (see SyncUpstreamGroups).
	ConnectionID string
	CreatedAt    time.Time
}

// GroupMap maps an upstream group of a connection to a tenant group: a
// user whose sign-in through the connection asserts Upstream becomes a
// member of the group, and stops being one at the first sign-in that
// does not.
type GroupMap struct {
	TenantID      string
	ConnectionID  string
	UpstreamGroup string
	GroupID       string
	CreatedAt     time.Time
}

// TableName implements gorm's tabler.
func (GroupMap) TableName() string { return "connection_group_maps" }

// MaxGroupMaps caps the group mappings of one connection.
const MaxGroupMaps = 500

// GroupRole gives a group's members a role.
type GroupRole struct {
	TenantID  string
	GroupID   string
	RoleID    string
	CreatedAt time.Time
}

// UserRole gives a user a role directly.
type UserRole struct {
	TenantID  string
	UserID    string
	RoleID    string
	CreatedAt time.Time
}

// EffectiveRole is a role a user holds, and where it comes from: directly
// (Direct) and/or through the groups Via, ordered by name.
type EffectiveRole struct {
	Role   Role
	Direct bool
	Via    []Group
}

// The claims an API may ask its access tokens to carry (RFC 9068 §2.2.3.1):
// the names of the user's roles and groups.
const (
	ClaimRoles  = "roles"
	ClaimGroups = "groups"
)

// TokenClaimNames lists the claims an API may ask for, for validation and
// documentation.
func TokenClaimNames() []string { return []string{ClaimRoles, ClaimGroups} }

// MaxClaimNames caps how many names a roles or groups claim carries, so
// that a user in very many groups cannot grow a token past what headers
// and cookies hold: beyond it the list is cut, in name order.
const MaxClaimNames = 100

// ClaimNames returns names sorted, without duplicates, at most
// [MaxClaimNames] of them.
func ClaimNames(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxClaimNames {
		out = out[:MaxClaimNames]
	}
	return out
}

// GrantableScopes is the policy of an RBAC API (issue 10): of the scopes
// requested (and already checked against the client's grant), the OpenID
// Connect scopes pass and an API scope passes only if the user holds it
// (held: the user's permissions on the API). A scope the user lacks is
// dropped, never an error. For an API without RBAC every scope passes.
func GrantableScopes(api *API, requested, held []string) []string {
	if api == nil || !api.RBAC {
		return slices.Clone(requested)
	}
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		if StandardScope(s) || slices.Contains(held, s) {
			out = append(out, s)
		}
	}
	return out
}
