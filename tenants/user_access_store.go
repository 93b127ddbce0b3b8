package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// UserAccess is what a user's roles and groups say for one token: the
// roles the user holds (directly or through groups), the groups the user
// is a member of, the upstream groups passed through, and the user's
// permissions on one API. It is read in one statement (Store.UserAccess),
// once per token, of what the token needs, and it is what the access token's roles and groups
// claims, an RBAC API's scopes, the groups claim of the ID token and
// userinfo, and the claim rules' user.roles and user.groups are made of.
type UserAccess struct {
	// Roles and Groups are sorted by name, each once.
	Roles, Groups []Named
	// Passed are the upstream groups that connections passing groups
	// through asserted at the user's last sign-in through them and that
	// map to no tenant group (by name: they have no id); sorted, each once.
	Passed []string
	// Permissions are the scopes the user holds on the API read for
	// (none when read without one), sorted.
	Permissions []string
	// Read is what was read: what it did not ask for is empty.
	Read AccessQuery
}

// Named is a role or a group as tokens name it.
type Named struct{ ID, Name string }

// RoleClaim is the roles claim: role names, or ids when byID.
func (a *UserAccess) RoleClaim(byID bool) []string { return claimOf(a.Roles, nil, byID) }

// GroupClaim is the groups claim: group names (ids when byID) and the
// groups passed through.
func (a *UserAccess) GroupClaim(byID bool) []string { return claimOf(a.Groups, a.Passed, byID) }

func claimOf(ns []Named, passed []string, byID bool) []string {
	out := make([]string, 0, len(ns)+len(passed))
	for _, n := range ns {
		if byID {
			out = append(out, n.ID)
		} else {
			out = append(out, n.Name)
		}
	}
	return ClaimNames(append(out, passed...))
}

// AccessQuery says what of a user's access to read (Store.UserAccess): a
// token reads only what it needs, and what a statement does not name costs
// it nothing.
type AccessQuery struct {
	Roles  bool
	Groups bool
	// Passed reads the upstream groups passed through (see
	// UserAccess.Passed): only a tenant with a connection that passes
	// groups through has any.
	Passed bool
	// PermissionsOf reads the user's permissions on the API of this
	// audience ("": none).
	PermissionsOf string
}

// AllAccess reads everything but permissions.
var AllAccess = AccessQuery{Roles: true, Groups: true, Passed: true}

// The branches of the statement of UserAccess, a row per fact: its kind,
// a reference and a name, and for a membership the role it gives. r is a
// role held directly, g a group membership (once per role the group
// gives, with the role; once without when it gives none), x the upstream
// groups of an identity at a connection that passes groups through (a
// JSON array), m a group name such a connection maps, p a permission on
// the API of an audience. SQLite parses every statement it runs, and its
// cost grows with the tables named: roles through groups come with the
// memberships rather than from a second look at group_members.
const (
	// accessColumns names the columns and gives no row.
	accessColumns     = `SELECT '' AS kind, '' AS ref, '' AS name, '' AS role_ref, '' AS role_name WHERE 1 = 0`
	accessDirectRoles = `SELECT 'r', roles.id, roles.name, '', '' FROM user_roles
  JOIN roles ON roles.tenant_id = user_roles.tenant_id AND roles.id = user_roles.role_id
  WHERE user_roles.tenant_id = ? AND user_roles.user_id = ?`
	accessMemberships = `SELECT 'g', user_groups.id, user_groups.name, COALESCE(roles.id, ''), COALESCE(roles.name, '') FROM group_members
  JOIN user_groups ON user_groups.tenant_id = group_members.tenant_id AND user_groups.id = group_members.group_id
  LEFT JOIN group_roles ON group_roles.tenant_id = group_members.tenant_id AND group_roles.group_id = group_members.group_id
  LEFT JOIN roles ON roles.tenant_id = group_roles.tenant_id AND roles.id = group_roles.role_id
  WHERE group_members.tenant_id = ? AND group_members.user_id = ?`
	accessGroups = `SELECT 'g', user_groups.id, user_groups.name, '', '' FROM group_members
  JOIN user_groups ON user_groups.tenant_id = group_members.tenant_id AND user_groups.id = group_members.group_id
  WHERE group_members.tenant_id = ? AND group_members.user_id = ?`
	accessPassed = `SELECT 'x', external_identities.connection_id, external_identities.upstream_groups, '', '' FROM external_identities
  JOIN connections ON connections.tenant_id = external_identities.tenant_id AND connections.id = external_identities.connection_id
  WHERE external_identities.tenant_id = ? AND external_identities.user_id = ? AND connections.pass_groups = ?
UNION ALL
SELECT 'm', connection_group_maps.connection_id, connection_group_maps.upstream_group, '', '' FROM connection_group_maps
  WHERE connection_group_maps.tenant_id = ? AND connection_group_maps.connection_id IN (
    SELECT external_identities.connection_id FROM external_identities
    JOIN connections ON connections.tenant_id = external_identities.tenant_id AND connections.id = external_identities.connection_id
    WHERE external_identities.tenant_id = ? AND external_identities.user_id = ? AND connections.pass_groups = ?)`
	accessPermissions = `SELECT 'p', '', role_permissions.scope, '', '' FROM (` + heldRoles + `) held
  JOIN role_permissions ON role_permissions.tenant_id = ? AND role_permissions.role_id = held.role_id
  JOIN apis ON apis.tenant_id = role_permissions.tenant_id AND apis.id = role_permissions.api_id
  WHERE apis.audience = ?`
)

// accessStatement is the statement of q for the tenant tid and the user
// ("" when q asks for nothing) and its arguments.
func accessStatement(q AccessQuery, tid, userID string) (string, []any) {
	parts := []string{accessColumns}
	var args []any
	if q.Roles {
		parts, args = append(parts, accessDirectRoles, accessMemberships), append(args, tid, userID, tid, userID)
	} else if q.Groups {
		parts, args = append(parts, accessGroups), append(args, tid, userID)
	}
	if q.Passed {
		parts, args = append(parts, accessPassed), append(args, tid, userID, true, tid, tid, userID, true)
	}
	if q.PermissionsOf != "" {
		parts, args = append(parts, accessPermissions), append(args, tid, userID, tid, userID, tid, q.PermissionsOf)
	}
	if len(parts) == 1 {
		return "", nil
	}
	return strings.Join(parts, "\nUNION ALL\n"), args
}

// UserAccess reads what q asks of what a user of the tenant of ctx holds
// (UserAccess): one statement, however many roles, groups and
// connections; none when q asks for nothing.
func (s *Store) UserAccess(ctx context.Context, userID string, q AccessQuery) (*UserAccess, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	a := &UserAccess{Read: q}
	query, args := accessStatement(q, tid, userID)
	if query == "" {
		return a, nil
	}
	rows, err := s.conn(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	upstream := map[string][]string{} // connection: its identities' groups
	mapped := map[string][]string{}   // connection: the names it maps
	for rows.Next() {
		var kind, ref, name, roleRef, roleName string
		if err := rows.Scan(&kind, &ref, &name, &roleRef, &roleName); err != nil {
			return nil, mapErr(err)
		}
		switch kind {
		case "r":
			a.Roles = append(a.Roles, Named{ref, name})
		case "g":
			if q.Groups {
				a.Groups = append(a.Groups, Named{ref, name})
			}
			if roleRef != "" {
				a.Roles = append(a.Roles, Named{roleRef, roleName})
			}
		case "x":
			var gs []string
			if err := json.Unmarshal([]byte(name), &gs); err != nil {
				return nil, fmt.Errorf("tenants: upstream groups of an identity at connection %s: %w", ref, err)
			}
			upstream[ref] = append(upstream[ref], gs...)
		case "m":
			mapped[ref] = append(mapped[ref], name)
		case "p":
			a.Permissions = append(a.Permissions, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	a.Roles, a.Groups = sortedNamed(a.Roles), sortedNamed(a.Groups)
	for conn, gs := range upstream {
		for _, g := range gs {
			if !slices.Contains(mapped[conn], g) {
				a.Passed = append(a.Passed, g)
			}
		}
	}
	slices.Sort(a.Passed)
	a.Passed = slices.Compact(a.Passed)
	slices.Sort(a.Permissions)
	a.Permissions = slices.Compact(a.Permissions)
	return a, nil
}

// sortedNamed sorts ns by name (then id), each once.
func sortedNamed(ns []Named) []Named {
	slices.SortFunc(ns, func(a, b Named) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return slices.Compact(ns)
}
