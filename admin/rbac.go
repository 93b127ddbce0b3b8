package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Audit actions of roles and groups.
const (
	ActionRoleCreated       = "role.created"
	ActionRoleUpdated       = "role.updated"
	ActionRoleDeleted       = "role.deleted"
	ActionUserRoleAdded     = "user.role_added"
	ActionUserRoleRemoved   = "user.role_removed"
	ActionGroupCreated      = "group.created"
	ActionGroupUpdated      = "group.updated"
	ActionGroupDeleted      = "group.deleted"
	ActionGroupMemberAdded  = "group.member_added"
	ActionGroupMemberRemove = "group.member_removed"
	ActionGroupRoleAdded    = "group.role_added"
	ActionGroupRoleRemoved  = "group.role_removed"
)

// Limits of roles and groups.
const (
	maxRBACName        = 100
	maxRBACDescription = 300
	maxPermissions     = 200
)

// Permission is one scope of one API, named by the API's audience.
type Permission struct {
	Audience string `json:"audience"`
	Scope    string `json:"scope"`
}

// Role is the public view of a role.
type Role struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

func roleView(r *tenants.Role) *Role {
	v := &Role{ID: r.ID, Name: r.Name, Description: r.Description, Permissions: []Permission{}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, p := range r.Permissions {
		v.Permissions = append(v.Permissions, Permission{Audience: p.Audience, Scope: p.Scope})
	}
	return v
}

// Group is the public view of a group.
type Group struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func groupView(g *tenants.Group) *Group {
	return &Group{ID: g.ID, Name: g.Name, Description: g.Description, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

// GroupRef names a group a role comes through.
type GroupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// EffectiveRole is a role a user holds and where it comes from: directly
// (direct) and/or through groups.
type EffectiveRole struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Direct      bool       `json:"direct"`
	Groups      []GroupRef `json:"groups"`
}

// RoleInput is what a role is made of; for an update, nil fields are left
// as they are and Permissions, when not nil, replaces the role's.
type RoleInput struct {
	Name        *string
	Description *string
	Permissions *[]Permission
}

// GroupInput is what a group is made of; nil fields are left as they are.
type GroupInput struct {
	Name        *string
	Description *string
}

func checkRBACName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := validateName("name", name, maxRBACName); err != nil {
		return "", err
	}
	return name, nil
}

func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > maxRBACDescription {
		return "", tenants.Invalid("description", "must be at most %d characters", maxRBACDescription)
	}
	if strings.ContainsFunc(d, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", tenants.Invalid("description", "must not contain control characters")
	}
	return d, nil
}

// permissionRows checks the shape of permissions; the store checks each
// names an API of the tenant and one of its scopes.
func permissionRows(in []Permission) ([]tenants.Permission, error) {
	if len(in) > maxPermissions {
		return nil, tenants.Invalid("permissions", "at most %d permissions", maxPermissions)
	}
	out := make([]tenants.Permission, 0, len(in))
	for i, p := range in {
		p.Audience, p.Scope = strings.TrimSpace(p.Audience), strings.TrimSpace(p.Scope)
		if p.Audience == "" || p.Scope == "" {
			return nil, tenants.Invalid("permissions", "permission %d needs an audience (an API's identifier) and a scope", i+1)
		}
		if len(p.Audience) > 2048 || len(p.Scope) > 256 || !utf8.ValidString(p.Audience+p.Scope) || strings.ContainsFunc(p.Audience+p.Scope, unicode.IsControl) {
			return nil, tenants.Invalid("permissions", "permission %d names no API scope", i+1)
		}
		out = append(out, tenants.Permission{Audience: p.Audience, Scope: p.Scope})
	}
	return out, nil
}

// referable reports whether ref could name a row: a short UTF-8 string
// without control characters. Anything else names nothing, and never
// reaches the database (PostgreSQL refuses a NUL in text).
func referable(ref string) bool {
	return ref != "" && len(ref) <= 256 && utf8.ValidString(ref) && !strings.ContainsFunc(ref, unicode.IsControl)
}

// roleByRef returns the role of the tenant in ctx named by ref: its id or
// its name.
func (s *Service) roleByRef(ctx context.Context, ref string) (*tenants.Role, error) {
	if !referable(ref) {
		return nil, fmt.Errorf("role: %w", tenants.ErrNotFound)
	}
	r, err := s.store.RoleByID(ctx, ref)
	if errors.Is(err, tenants.ErrNotFound) {
		r, err = s.store.RoleByName(ctx, ref)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("role %q: %w", tenants.Truncate(ref, 100), tenants.ErrNotFound)
	}
	return r, err
}

// groupByRef returns the group of the tenant in ctx named by ref: its id or
// its name.
func (s *Service) groupByRef(ctx context.Context, ref string) (*tenants.Group, error) {
	if !referable(ref) {
		return nil, fmt.Errorf("group: %w", tenants.ErrNotFound)
	}
	g, err := s.store.GroupByID(ctx, ref)
	if errors.Is(err, tenants.ErrNotFound) {
		g, err = s.store.GroupByName(ctx, ref)
	}
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("group %q: %w", tenants.Truncate(ref, 100), tenants.ErrNotFound)
	}
	return g, err
}

// userByID returns the user of the tenant in ctx with id.
func (s *Service) userByID(ctx context.Context, id string) (*tenants.User, error) {
	if !referable(id) {
		return nil, fmt.Errorf("user: %w", tenants.ErrNotFound)
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return nil, fmt.Errorf("user %q: %w", tenants.Truncate(id, 100), tenants.ErrNotFound)
	}
	return u, err
}

// CreateRole creates a role of the tenant in ctx.
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (*Role, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	r := &tenants.Role{}
	if in.Name == nil {
		return nil, tenants.Invalid("name", "is required")
	}
	if err := applyRole(r, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateRole(ctx, r); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("role %q: %w", r.Name, err)
		}
		return nil, err
	}
	v := roleView(r)
	return v, s.audit(ctx, t, ActionRoleCreated, "role", r.ID, nil, v)
}

func applyRole(r *tenants.Role, in RoleInput) error {
	var err error
	if in.Name != nil {
		if r.Name, err = checkRBACName(*in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if r.Description, err = checkDescription(*in.Description); err != nil {
			return err
		}
	}
	if in.Permissions != nil {
		if r.Permissions, err = permissionRows(*in.Permissions); err != nil {
			return err
		}
	}
	return nil
}

// ListRoles returns the roles of the tenant in ctx, by name.
func (s *Service) ListRoles(ctx context.Context) ([]*Role, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	rs, err := s.store.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Role, len(rs))
	for i := range rs {
		out[i] = roleView(&rs[i])
	}
	return out, nil
}

// GetRole returns the role named by ref (id or name).
func (s *Service) GetRole(ctx context.Context, ref string) (*Role, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	r, err := s.roleByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	return roleView(r), nil
}

// UpdateRole changes the role named by ref (id or name); its holders'
// tokens change from their next one.
func (s *Service) UpdateRole(ctx context.Context, ref string, in RoleInput) (*Role, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	r, err := s.roleByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	before := roleView(r)
	next := *r
	if err := applyRole(&next, in); err != nil {
		return nil, err
	}
	if err := s.store.UpdateRole(ctx, &next); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("role %q: %w", next.Name, err)
		}
		return nil, err
	}
	after := roleView(&next)
	return after, s.audit(ctx, t, ActionRoleUpdated, "role", r.ID, before, after)
}

// DeleteRole deletes the role named by ref; every user and group loses it.
func (s *Service) DeleteRole(ctx context.Context, ref string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	r, err := s.roleByRef(ctx, ref)
	if err != nil {
		return err
	}
	if err := s.store.DeleteRole(ctx, r.ID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionRoleDeleted, "role", r.ID, roleView(r), nil)
}

// UserRoles returns the roles a user holds, directly and through groups,
// with where each comes from.
func (s *Service) UserRoles(ctx context.Context, userID string) ([]*EffectiveRole, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return nil, err
	}
	return s.effectiveRoles(ctx, userID)
}

func (s *Service) effectiveRoles(ctx context.Context, userID string) ([]*EffectiveRole, error) {
	rs, err := s.store.EffectiveRoles(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]*EffectiveRole, len(rs))
	for i, r := range rs {
		v := &EffectiveRole{ID: r.Role.ID, Name: r.Role.Name, Description: r.Role.Description, Direct: r.Direct, Groups: []GroupRef{}}
		for _, g := range r.Via {
			v.Groups = append(v.Groups, GroupRef{ID: g.ID, Name: g.Name})
		}
		out[i] = v
	}
	return out, nil
}

// AddUserRole gives a user a role (named by id or name) directly, and
// returns the user's roles.
func (s *Service) AddUserRole(ctx context.Context, userID, roleRef string) ([]*EffectiveRole, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return nil, err
	}
	r, err := s.roleByRef(ctx, roleRef)
	if err != nil {
		return nil, err
	}
	if err := s.store.AddUserRole(ctx, userID, r.ID); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, t, ActionUserRoleAdded, "user", userID, nil, map[string]string{"role_id": r.ID, "role": r.Name}); err != nil {
		return nil, err
	}
	return s.effectiveRoles(ctx, userID)
}

// RemoveUserRole takes from a user a role they hold directly; one held
// through a group stays (remove the user from the group).
func (s *Service) RemoveUserRole(ctx context.Context, userID, roleRef string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return err
	}
	r, err := s.roleByRef(ctx, roleRef)
	if err != nil {
		return err
	}
	if err := s.store.RemoveUserRole(ctx, userID, r.ID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionUserRoleRemoved, "user", userID, map[string]string{"role_id": r.ID, "role": r.Name}, nil)
}

// UserGroups returns the groups a user is a member of.
func (s *Service) UserGroups(ctx context.Context, userID string) ([]*Group, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return nil, err
	}
	gs, err := s.store.UserGroups(ctx, userID)
	if err != nil {
		return nil, err
	}
	return groupViews(gs), nil
}

func groupViews(gs []tenants.Group) []*Group {
	out := make([]*Group, len(gs))
	for i := range gs {
		out[i] = groupView(&gs[i])
	}
	return out
}

// CreateGroup creates a group of the tenant in ctx.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, tenants.Invalid("name", "is required")
	}
	g := &tenants.Group{}
	if err := applyGroup(g, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateGroup(ctx, g); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("group %q: %w", g.Name, err)
		}
		return nil, err
	}
	v := groupView(g)
	return v, s.audit(ctx, t, ActionGroupCreated, "group", g.ID, nil, v)
}

func applyGroup(g *tenants.Group, in GroupInput) error {
	var err error
	if in.Name != nil {
		if g.Name, err = checkRBACName(*in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if g.Description, err = checkDescription(*in.Description); err != nil {
			return err
		}
	}
	return nil
}

// ListGroups returns the groups of the tenant in ctx, by name.
func (s *Service) ListGroups(ctx context.Context) ([]*Group, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	gs, err := s.store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	return groupViews(gs), nil
}

// GetGroup returns the group named by ref (id or name).
func (s *Service) GetGroup(ctx context.Context, ref string) (*Group, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	return groupView(g), nil
}

// UpdateGroup changes the group named by ref.
func (s *Service) UpdateGroup(ctx context.Context, ref string, in GroupInput) (*Group, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	before := groupView(g)
	next := *g
	if err := applyGroup(&next, in); err != nil {
		return nil, err
	}
	if err := s.store.UpdateGroup(ctx, &next); err != nil {
		if errors.Is(err, tenants.ErrAlreadyExists) {
			return nil, fmt.Errorf("group %q: %w", next.Name, err)
		}
		return nil, err
	}
	after := groupView(&next)
	return after, s.audit(ctx, t, ActionGroupUpdated, "group", g.ID, before, after)
}

// DeleteGroup deletes the group named by ref; its members lose its roles.
func (s *Service) DeleteGroup(ctx context.Context, ref string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return err
	}
	if err := s.store.DeleteGroup(ctx, g.ID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionGroupDeleted, "group", g.ID, groupView(g), nil)
}

// GroupMembers returns the members of the group named by ref.
func (s *Service) GroupMembers(ctx context.Context, ref string) ([]*User, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	us, err := s.store.ListGroupMembers(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*User, len(us))
	for i := range us {
		out[i] = userView(&us[i])
	}
	return out, nil
}

// AddGroupMember makes a user a member of the group named by ref.
func (s *Service) AddGroupMember(ctx context.Context, ref, userID string) ([]*User, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return nil, err
	}
	if err := s.store.AddGroupMember(ctx, g.ID, userID); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, t, ActionGroupMemberAdded, "group", g.ID, nil, map[string]string{"user_id": userID}); err != nil {
		return nil, err
	}
	return s.GroupMembers(ctx, g.ID)
}

// RemoveGroupMember ends a user's membership of the group named by ref.
func (s *Service) RemoveGroupMember(ctx context.Context, ref, userID string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return err
	}
	if err := s.store.RemoveGroupMember(ctx, g.ID, userID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionGroupMemberRemove, "group", g.ID, map[string]string{"user_id": userID}, nil)
}

// GroupRoles returns the roles of the group named by ref.
func (s *Service) GroupRoles(ctx context.Context, ref string) ([]*Role, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	rs, err := s.store.GroupRoles(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*Role, len(rs))
	for i := range rs {
		out[i] = roleView(&rs[i])
	}
	return out, nil
}

// AddGroupRole gives the members of the group named by ref a role (named
// by id or name).
func (s *Service) AddGroupRole(ctx context.Context, ref, roleRef string) ([]*Role, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	r, err := s.roleByRef(ctx, roleRef)
	if err != nil {
		return nil, err
	}
	if err := s.store.AddGroupRole(ctx, g.ID, r.ID); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, t, ActionGroupRoleAdded, "group", g.ID, nil, map[string]string{"role_id": r.ID, "role": r.Name}); err != nil {
		return nil, err
	}
	return s.GroupRoles(ctx, g.ID)
}

// RemoveGroupRole takes a role from the group named by ref.
func (s *Service) RemoveGroupRole(ctx context.Context, ref, roleRef string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	g, err := s.groupByRef(ctx, ref)
	if err != nil {
		return err
	}
	r, err := s.roleByRef(ctx, roleRef)
	if err != nil {
		return err
	}
	if err := s.store.RemoveGroupRole(ctx, g.ID, r.ID); err != nil {
		return err
	}
	return s.audit(ctx, t, ActionGroupRoleRemoved, "group", g.ID, map[string]string{"role_id": r.ID, "role": r.Name}, nil)
}
