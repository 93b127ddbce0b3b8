package tenants

import (
	"context"
	"encoding/json"
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

// The branches of the statement of UserAccess, a row per fact with its
// kind: r a held role (once per way it is held), g a group, x the
// upstream groups of an identity at a connection that passes groups
// through (a JSON array), m a group name such a connection maps, p a
// permission on the API of an audience.
const (
	accessRoles = `SELECT 'r' AS kind, roles.id AS ref, roles.name AS name FROM (` + heldRoles + `) held
  JOIN roles ON roles.tenant_id = ? AND roles.id = held.role_id`
	accessGroups = `SELECT 'g' AS kind, user_groups.id AS ref, user_groups.name AS name FROM group_members
  JOIN user_groups ON user_groups.tenant_id = group_members.tenant_id AND user_groups.id = group_members.group_id
  WHERE group_members.tenant_id = ? AND group_members.user_id = ?`
	accessPassed = `SELECT 'x' AS kind, external_identities.connection_id AS ref, external_identities.upstream_groups AS name FROM external_identities
  JOIN connections ON connections.tenant_id = external_identities.tenant_id AND connections.id = external_identities.connection_id
  WHERE external_identities.tenant_id = ? AND external_identities.user_id = ? AND connections.pass_groups = ?
UNION ALL
SELECT 'm' AS kind, connection_group_maps.connection_id AS ref, connection_group_maps.upstream_group AS name FROM connection_group_maps
  WHERE connection_group_maps.tenant_id = ? AND connection_group_maps.connection_id IN (
    SELECT external_identities.connection_id FROM external_identities
    JOIN connections ON connections.tenant_id = external_identities.tenant_id AND connections.id = external_identities.connection_id
    WHERE external_identities.tenant_id = ? AND external_identities.user_id = ? AND connections.pass_groups = ?)`
	accessPermissions = `SELECT 'p' AS kind, '' AS ref, role_permissions.scope AS name FROM (` + heldRoles + `) held
  JOIN role_permissions ON role_permissions.tenant_id = ? AND role_permissions.role_id = held.role_id
  JOIN apis ON apis.tenant_id = role_permissions.tenant_id AND apis.id = role_permissions.api_id
  WHERE apis.audience = ?`
)

// accessStatement is the statement of q for the tenant tid and the user
// ("" when q asks for nothing) and its arguments.
func accessStatement(q AccessQuery, tid, userID string) (string, []any) {
	var parts []string
	var args []any
	if q.Roles {
		parts, args = append(parts, accessRoles), append(args, tid, userID, tid, userID, tid)
	}
	if q.Groups {
		parts, args = append(parts, accessGroups), append(args, tid, userID)
	}
	if q.Passed {
		parts, args = append(parts, accessPassed), append(args, tid, userID, true, tid, tid, userID, true)
	}
	if q.PermissionsOf != "" {
		parts, args = append(parts, accessPermissions), append(args, tid, userID, tid, userID, tid, q.PermissionsOf)
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
	var rows []struct{ Kind, Ref, Name string }
	if err := s.conn(ctx).Raw(query, args...).Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	upstream := map[string][]string{} // connection: its identities' groups
	mapped := map[string][]string{}   // connection: the names it maps
	for _, r := range rows {
		switch r.Kind {
		case "r":
			a.Roles = append(a.Roles, Named{r.Ref, r.Name})
		case "g":
			a.Groups = append(a.Groups, Named{r.Ref, r.Name})
		case "x":
			var gs []string
			if json.Unmarshal([]byte(r.Name), &gs) == nil {
				upstream[r.Ref] = append(upstream[r.Ref], gs...)
			}
		case "m":
			mapped[r.Ref] = append(mapped[r.Ref], r.Name)
		case "p":
			a.Permissions = append(a.Permissions, r.Name)
		}
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
