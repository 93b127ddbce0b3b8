package tenants

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CreateRole stores a new role and its permissions in the tenant of ctx. A
// permission must name an API of the tenant and one of its scopes.
func (s *Store) CreateRole(ctx context.Context, r *Role) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if r.ID == "" {
		r.ID = newID()
	}
	r.TenantID, r.CreatedAt, r.UpdatedAt = tid, now, now
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		return savePermissions(tx, tid, r.ID, r.Permissions, now)
	}))
}

// savePermissions writes the permissions of role roleID in tx, each checked
// against the APIs of tenant tid.
func savePermissions(tx *gorm.DB, tid, roleID string, perms []Permission, now time.Time) error {
	seen := map[Permission]bool{}
	for _, p := range perms {
		if seen[p] {
			continue
		}
		seen[p] = true
		var api API
		err := first(tx.Table("apis").Where("tenant_id = ? AND audience = ?", tid, p.Audience), &api)
		if errors.Is(err, ErrNotFound) {
			return Invalid("permissions", "there is no API %q", Truncate(p.Audience, 100))
		}
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Table("api_scopes").Where("tenant_id = ? AND api_id = ? AND name = ?", tid, api.ID, p.Scope).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return Invalid("permissions", "API %q has no scope %q", p.Audience, Truncate(p.Scope, 100))
		}
		row := &RolePermission{TenantID: tid, RoleID: roleID, APIID: api.ID, Scope: p.Scope, CreatedAt: now}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
	}
	return nil
}

// RoleByID returns the role with id, and its permissions, in the tenant of ctx.
func (s *Store) RoleByID(ctx context.Context, id string) (*Role, error) {
	return s.roleWhere(ctx, "id = ?", id)
}

// RoleByName returns the role named name, and its permissions, in the tenant of ctx.
func (s *Store) RoleByName(ctx context.Context, name string) (*Role, error) {
	return s.roleWhere(ctx, "name = ?", name)
}

func (s *Store) roleWhere(ctx context.Context, cond string, arg string) (*Role, error) {
	q, _, err := s.scoped(ctx, "roles")
	if err != nil {
		return nil, err
	}
	var r Role
	if err := first(q.Where(cond, arg), &r); err != nil {
		return nil, err
	}
	return &r, s.loadPermissions(ctx, []*Role{&r})
}

// ListRoles returns the roles of the tenant of ctx with their permissions,
// ordered by name.
func (s *Store) ListRoles(ctx context.Context) ([]Role, error) {
	q, _, err := s.scoped(ctx, "roles")
	if err != nil {
		return nil, err
	}
	var rs []Role
	if err := q.Order("name").Find(&rs).Error; err != nil {
		return nil, mapErr(err)
	}
	ptrs := make([]*Role, len(rs))
	for i := range rs {
		ptrs[i] = &rs[i]
	}
	return rs, s.loadPermissions(ctx, ptrs)
}

// loadPermissions fills the permissions of roles, in one query.
func (s *Store) loadPermissions(ctx context.Context, roles []*Role) error {
	if len(roles) == 0 {
		return nil
	}
	ids := make([]string, len(roles))
	byID := make(map[string]*Role, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
		byID[r.ID] = r
		r.Permissions = []Permission{}
	}
	q, _, err := s.scoped(ctx, "role_permissions")
	if err != nil {
		return err
	}
	var rows []struct {
		RoleID   string
		Audience string
		Scope    string
	}
	err = q.Select("role_permissions.role_id, apis.audience, role_permissions.scope").
		Joins("JOIN apis ON apis.tenant_id = role_permissions.tenant_id AND apis.id = role_permissions.api_id").
		Where("role_permissions.role_id IN ?", ids).
		Order("apis.audience, role_permissions.scope").Scan(&rows).Error
	if err != nil {
		return mapErr(err)
	}
	for _, row := range rows {
		r := byID[row.RoleID]
		r.Permissions = append(r.Permissions, Permission{Audience: row.Audience, Scope: row.Scope})
	}
	return nil
}

// UpdateRole saves a role's name and description and replaces its
// permissions with r.Permissions.
func (s *Store) UpdateRole(ctx context.Context, r *Role) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("roles").Where("tenant_id = ? AND id = ?", tid, r.ID).
			Updates(map[string]any{"name": r.Name, "description": r.Description, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Exec("DELETE FROM role_permissions WHERE tenant_id = ? AND role_id = ?", tid, r.ID).Error; err != nil {
			return err
		}
		r.UpdatedAt = now
		return savePermissions(tx, tid, r.ID, r.Permissions, now)
	}))
}

// DeleteRole deletes a role of the tenant of ctx, its permissions, and
// every user's and group's hold of it.
func (s *Store) DeleteRole(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		for _, table := range []string{"role_permissions", "user_roles", "group_roles"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND role_id = ?", tid, id).Error; err != nil {
				return err
			}
		}
		res := tx.Exec("DELETE FROM roles WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	}))
}

// CreateGroup stores a new group in the tenant of ctx.
func (s *Store) CreateGroup(ctx context.Context, g *Group) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if g.ID == "" {
		g.ID = newID()
	}
	g.TenantID, g.CreatedAt, g.UpdatedAt = tid, now, now
	return mapErr(s.conn(ctx).Create(g).Error)
}

// GroupByID returns the group with id in the tenant of ctx.
func (s *Store) GroupByID(ctx context.Context, id string) (*Group, error) {
	q, _, err := s.scoped(ctx, "user_groups")
	if err != nil {
		return nil, err
	}
	var g Group
	return &g, first(q.Where("id = ?", id), &g)
}

// GroupByName returns the group named name in the tenant of ctx.
func (s *Store) GroupByName(ctx context.Context, name string) (*Group, error) {
	q, _, err := s.scoped(ctx, "user_groups")
	if err != nil {
		return nil, err
	}
	var g Group
	return &g, first(q.Where("name = ?", name), &g)
}

// ListGroups returns the groups of the tenant of ctx, ordered by name.
func (s *Store) ListGroups(ctx context.Context) ([]Group, error) {
	q, _, err := s.scoped(ctx, "user_groups")
	if err != nil {
		return nil, err
	}
	var gs []Group
	return gs, mapErr(q.Order("name").Find(&gs).Error)
}

// UpdateGroup saves a group's name and description.
func (s *Store) UpdateGroup(ctx context.Context, g *Group) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	res := s.conn(ctx).Table("user_groups").Where("tenant_id = ? AND id = ?", tid, g.ID).
		Updates(map[string]any{"name": g.Name, "description": g.Description, "updated_at": now})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	g.UpdatedAt = now
	return nil
}

// DeleteGroup deletes a group of the tenant of ctx, its memberships and its
// roles.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		for _, table := range []string{"group_members", "group_roles"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE tenant_id = ? AND group_id = ?", tid, id).Error; err != nil {
				return err
			}
		}
		res := tx.Exec("DELETE FROM user_groups WHERE tenant_id = ? AND id = ?", tid, id)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	}))
}

// link inserts a link row of the tenant of ctx. Its foreign keys name rows
// by (tenant_id, id): a row of another tenant is not found. A link that
// exists already is left as it is.
func (s *Store) link(ctx context.Context, row any) error {
	err := mapErr(s.conn(ctx).Create(row).Error)
	if errors.Is(err, ErrAlreadyExists) {
		return nil
	}
	return err
}

// unlink deletes the link of table with cols = args in the tenant of ctx;
// ErrNotFound if there is none.
func (s *Store) unlink(ctx context.Context, table string, cols []string, args ...any) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	conds := []string{"tenant_id = ?"}
	for _, c := range cols {
		conds = append(conds, c+" = ?")
	}
	res := s.conn(ctx).Exec("DELETE FROM "+table+" WHERE "+strings.Join(conds, " AND "), append([]any{tid}, args...)...)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// AddGroupMember makes a user a member of a group, both of the tenant of
// ctx. A membership a connection's group mapping made becomes the admin's:
// sign-ins through the connection no longer end it.
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if err := s.link(ctx, &GroupMember{TenantID: tid, GroupID: groupID, UserID: userID, CreatedAt: s.now()}); err != nil {
		return err
	}
	return mapErr(s.conn(ctx).Exec("UPDATE group_members SET connection_id = '' WHERE tenant_id = ? AND group_id = ? AND user_id = ? AND connection_id <> ''",
		tid, groupID, userID).Error)
}

// RemoveGroupMember ends a user's membership of a group.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	return s.unlink(ctx, "group_members", []string{"group_id", "user_id"}, groupID, userID)
}

// ListGroupMembers returns the members of a group of the tenant of ctx,
// ordered by email.
func (s *Store) ListGroupMembers(ctx context.Context, groupID string) ([]User, error) {
	q, _, err := s.scoped(ctx, "users")
	if err != nil {
		return nil, err
	}
	var us []User
	err = q.Joins("JOIN group_members ON group_members.tenant_id = users.tenant_id AND group_members.user_id = users.id").
		Where("group_members.group_id = ?", groupID).Order("users.email_normalized, users.id").Find(&us).Error
	return us, mapErr(err)
}

// AddGroupRole gives a group's members a role, both of the tenant of ctx.
func (s *Store) AddGroupRole(ctx context.Context, groupID, roleID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return s.link(ctx, &GroupRole{TenantID: tid, GroupID: groupID, RoleID: roleID, CreatedAt: s.now()})
}

// RemoveGroupRole takes a role from a group.
func (s *Store) RemoveGroupRole(ctx context.Context, groupID, roleID string) error {
	return s.unlink(ctx, "group_roles", []string{"group_id", "role_id"}, groupID, roleID)
}

// GroupRoles returns the roles of a group of the tenant of ctx, with their
// permissions, ordered by name.
func (s *Store) GroupRoles(ctx context.Context, groupID string) ([]Role, error) {
	q, _, err := s.scoped(ctx, "roles")
	if err != nil {
		return nil, err
	}
	var rs []Role
	err = q.Joins("JOIN group_roles ON group_roles.tenant_id = roles.tenant_id AND group_roles.role_id = roles.id").
		Where("group_roles.group_id = ?", groupID).Order("roles.name").Find(&rs).Error
	if err != nil {
		return nil, mapErr(err)
	}
	ptrs := make([]*Role, len(rs))
	for i := range rs {
		ptrs[i] = &rs[i]
	}
	return rs, s.loadPermissions(ctx, ptrs)
}

// AddUserRole gives a user a role directly, both of the tenant of ctx.
func (s *Store) AddUserRole(ctx context.Context, userID, roleID string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return s.link(ctx, &UserRole{TenantID: tid, UserID: userID, RoleID: roleID, CreatedAt: s.now()})
}

// RemoveUserRole takes a role the user holds directly (not one held
// through a group).
func (s *Store) RemoveUserRole(ctx context.Context, userID, roleID string) error {
	return s.unlink(ctx, "user_roles", []string{"user_id", "role_id"}, userID, roleID)
}

// heldRoles is the SQL of the roles a user holds, one row per way the user
// holds each (group_id ” for a direct hold), for a query with the tenant
// and the user bound twice. The memberships are read first (CROSS JOIN
// keeps SQLite to that order; it would otherwise start from every group
// role of the tenant).
const heldRoles = `SELECT user_roles.role_id AS role_id, '' AS group_id FROM user_roles
  WHERE user_roles.tenant_id = ? AND user_roles.user_id = ?
UNION ALL
SELECT group_roles.role_id AS role_id, group_roles.group_id AS group_id FROM group_members CROSS JOIN group_roles
  WHERE group_members.tenant_id = ? AND group_members.user_id = ?
    AND group_roles.tenant_id = group_members.tenant_id AND group_roles.group_id = group_members.group_id`

// EffectiveRoles returns the roles a user of the tenant of ctx holds,
// directly or through groups, with where each comes from, ordered by role
// name: one query, however many groups. Permissions are not loaded.
func (s *Store) EffectiveRoles(ctx context.Context, userID string) ([]EffectiveRole, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		RoleID, RoleName, RoleDescription, GroupID, GroupName string
	}
	err = s.conn(ctx).Raw(`SELECT roles.id AS role_id, roles.name AS role_name, roles.description AS role_description,
  held.group_id AS group_id, COALESCE(user_groups.name, '') AS group_name
FROM (`+heldRoles+`) held
JOIN roles ON roles.tenant_id = ? AND roles.id = held.role_id
LEFT JOIN user_groups ON user_groups.tenant_id = ? AND user_groups.id = held.group_id
ORDER BY roles.name, group_name`, tid, userID, tid, userID, tid, tid).Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	var out []EffectiveRole
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Role.ID != r.RoleID {
			out = append(out, EffectiveRole{Role: Role{ID: r.RoleID, TenantID: tid, Name: r.RoleName, Description: r.RoleDescription}})
		}
		e := &out[len(out)-1]
		if r.GroupID == "" {
			e.Direct = true
		} else {
			e.Via = append(e.Via, Group{ID: r.GroupID, TenantID: tid, Name: r.GroupName})
		}
	}
	return out, nil
}

// UserGroups returns the groups a user of the tenant of ctx is a member of,
// ordered by name.
func (s *Store) UserGroups(ctx context.Context, userID string) ([]Group, error) {
	q, _, err := s.scoped(ctx, "user_groups")
	if err != nil {
		return nil, err
	}
	var gs []Group
	err = q.Joins("JOIN group_members ON group_members.tenant_id = user_groups.tenant_id AND group_members.group_id = user_groups.id").
		Where("group_members.user_id = ?", userID).Order("user_groups.name").Find(&gs).Error
	return gs, mapErr(err)
}

// UserPermissions returns the scopes of the API with audience that a user
// of the tenant of ctx holds through roles (direct or through groups),
// sorted: one query (UserAccess).
func (s *Store) UserPermissions(ctx context.Context, userID, audience string) ([]string, error) {
	a, err := s.UserAccess(ctx, userID, AccessQuery{PermissionsOf: audience})
	if err != nil {
		return nil, err
	}
	return a.Permissions, nil
}

// prunePermissions removes, in tx, the permissions of roles on API apiID
// for scopes it no longer defines.
func prunePermissions(tx *gorm.DB, tid, apiID string, kept []string) error {
	if len(kept) == 0 {
		return tx.Exec("DELETE FROM role_permissions WHERE tenant_id = ? AND api_id = ?", tid, apiID).Error
	}
	return tx.Exec("DELETE FROM role_permissions WHERE tenant_id = ? AND api_id = ? AND scope NOT IN ?", tid, apiID, kept).Error
}
