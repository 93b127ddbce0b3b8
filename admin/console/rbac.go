package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// The pages of roles and groups (issue 10): lists with a creation form, a
// role's permissions as a check per API scope, a group's members and
// roles, and a user's effective roles on the user's page.

func (h *Handler) renderRoles(c echo.Context, ctx context.Context, t *tenants.Tenant, status int, v vc.RolesView) error {
	rs, err := h.svc.ListRoles(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Roles", "roles", t); err != nil {
		return err
	}
	for _, r := range rs {
		v.Rows = append(v.Rows, vc.RoleRow{Name: r.Name, Description: r.Description, Link: vc.TenantURL(t.Slug, "/roles/"+r.ID), Permissions: len(r.Permissions)})
	}
	return render(c, status, vc.Roles(v))
}

func (h *Handler) roles(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	return h.renderRoles(c, ctx, t, http.StatusOK, vc.RolesView{})
}

func (h *Handler) createRole(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	name, desc := c.FormValue("name"), c.FormValue("description")
	perms := []admin.Permission{}
	r, err := h.svc.CreateRole(ctx, admin.RoleInput{Name: &name, Description: &desc, Permissions: &perms})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("name", "this tenant has a role of this name already")
	}
	if errs := formErrors(err, "name", "description"); errs != nil {
		return h.renderRoles(c, ctx, t, http.StatusUnprocessableEntity, vc.RolesView{FormName: name, FormDesc: desc, Errors: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/roles/"+r.ID), "role-created")
}

func (h *Handler) loadRole(c echo.Context) (context.Context, *tenants.Tenant, *admin.Role, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := h.svc.GetRole(ctx, c.Param("role"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, r, nil
}

// roleEdit is what the admin typed in a role's forms when one comes back
// with errors.
type roleEdit struct {
	name, desc      *string
	perms           []admin.Permission // as submitted, when permsSubmitted
	permsSubmitted  bool
	errs, permsErrs map[string]string
}

// permValue is a permission as a checkbox value: the audience, a space,
// the scope (audiences are URIs, without spaces).
func permValue(p admin.Permission) string { return p.Audience + " " + p.Scope }

func (h *Handler) renderRole(c echo.Context, ctx context.Context, t *tenants.Tenant, r *admin.Role, status int, e roleEdit) error {
	pg, err := h.page(c, r.Name, "roles", t)
	if err != nil {
		return err
	}
	apis, err := h.svc.ListAPIs(ctx)
	if err != nil {
		return err
	}
	v := vc.RoleView{Page: pg, ID: r.ID, Name: r.Name, Created: when(r.CreatedAt), FormName: r.Name, FormDesc: r.Description,
		Errors: e.errs, PermsErrors: e.permsErrs}
	if e.name != nil {
		v.FormName = *e.name
	}
	if e.desc != nil {
		v.FormDesc = *e.desc
	}
	held := r.Permissions
	if e.permsSubmitted {
		held = e.perms
	}
	for _, a := range apis {
		pa := vc.PermissionAPI{Name: a.Name, Audience: a.Audience, RBAC: a.RBAC}
		for _, s := range a.Scopes {
			p := admin.Permission{Audience: a.Audience, Scope: s.Value}
			pa.Scopes = append(pa.Scopes, vc.Check{Name: "permission", Value: permValue(p), Label: s.Value, Help: s.Description, Checked: slices.Contains(held, p)})
		}
		v.APIs = append(v.APIs, pa)
	}
	return render(c, status, vc.RolePage(v))
}

func (h *Handler) role(c echo.Context) error {
	ctx, t, r, err := h.loadRole(c)
	if err != nil {
		return err
	}
	return h.renderRole(c, ctx, t, r, http.StatusOK, roleEdit{})
}

func (h *Handler) updateRole(c echo.Context) error {
	ctx, t, r, err := h.loadRole(c)
	if err != nil {
		return err
	}
	name, desc := c.FormValue("name"), c.FormValue("description")
	_, err = h.svc.UpdateRole(ctx, r.ID, admin.RoleInput{Name: &name, Description: &desc})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("name", "this tenant has a role of this name already")
	}
	if errs := formErrors(err, "name", "description"); errs != nil {
		return h.renderRole(c, ctx, t, r, http.StatusUnprocessableEntity, roleEdit{name: &name, desc: &desc, errs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/roles/"+r.ID), "role-updated")
}

func (h *Handler) updateRolePermissions(c echo.Context) error {
	ctx, t, r, err := h.loadRole(c)
	if err != nil {
		return err
	}
	perms := []admin.Permission{}
	for _, v := range formValues(c, "permission") {
		aud, scope, _ := strings.Cut(v, " ")
		perms = append(perms, admin.Permission{Audience: aud, Scope: scope})
	}
	_, err = h.svc.UpdateRole(ctx, r.ID, admin.RoleInput{Permissions: &perms})
	if errs := formErrors(err, "permissions"); errs != nil {
		return h.renderRole(c, ctx, t, r, http.StatusUnprocessableEntity, roleEdit{perms: perms, permsSubmitted: true, permsErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/roles/"+r.ID), "permissions-saved")
}

func (h *Handler) deleteRole(c echo.Context) error {
	ctx, t, r, err := h.loadRole(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteRole(ctx, r.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/roles"), "role-deleted")
}

func (h *Handler) renderGroups(c echo.Context, ctx context.Context, t *tenants.Tenant, status int, v vc.GroupsView) error {
	gs, err := h.svc.ListGroups(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Groups", "groups", t); err != nil {
		return err
	}
	for _, g := range gs {
		v.Rows = append(v.Rows, vc.GroupRow{Name: g.Name, Description: g.Description, Link: vc.TenantURL(t.Slug, "/groups/"+g.ID)})
	}
	return render(c, status, vc.Groups(v))
}

func (h *Handler) groups(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	return h.renderGroups(c, ctx, t, http.StatusOK, vc.GroupsView{})
}

func (h *Handler) createGroup(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	name, desc := c.FormValue("name"), c.FormValue("description")
	g, err := h.svc.CreateGroup(ctx, admin.GroupInput{Name: &name, Description: &desc})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("name", "this tenant has a group of this name already")
	}
	if errs := formErrors(err, "name", "description"); errs != nil {
		return h.renderGroups(c, ctx, t, http.StatusUnprocessableEntity, vc.GroupsView{FormName: name, FormDesc: desc, Errors: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups/"+g.ID), "group-created")
}

func (h *Handler) loadGroup(c echo.Context) (context.Context, *tenants.Tenant, *admin.Group, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := h.svc.GetGroup(ctx, c.Param("group"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, g, nil
}

// groupEdit is what the admin typed in a group's forms when one comes back
// with errors.
type groupEdit struct {
	name, desc                 *string
	member                     string
	errs, memberErrs, roleErrs map[string]string
}

func (h *Handler) renderGroup(c echo.Context, ctx context.Context, t *tenants.Tenant, g *admin.Group, status int, e groupEdit) error {
	pg, err := h.page(c, g.Name, "groups", t)
	if err != nil {
		return err
	}
	members, err := h.svc.GroupMembers(ctx, g.ID)
	if err != nil {
		return err
	}
	roles, err := h.svc.GroupRoles(ctx, g.ID)
	if err != nil {
		return err
	}
	all, err := h.svc.ListRoles(ctx)
	if err != nil {
		return err
	}
	v := vc.GroupView{Page: pg, ID: g.ID, Name: g.Name, Created: when(g.CreatedAt), FormName: g.Name, FormDesc: g.Description,
		Errors: e.errs, MemberErrors: e.memberErrs, RoleErrors: e.roleErrs, NewMember: e.member}
	if e.name != nil {
		v.FormName = *e.name
	}
	if e.desc != nil {
		v.FormDesc = *e.desc
	}
	for _, m := range members {
		v.Members = append(v.Members, vc.MemberRow{ID: m.ID, Email: m.Email, Link: vc.TenantURL(t.Slug, "/users/"+m.ID)})
	}
	has := map[string]bool{}
	for _, r := range roles {
		has[r.ID] = true
		v.Roles = append(v.Roles, vc.RoleLink{ID: r.ID, Name: r.Name, Link: vc.TenantURL(t.Slug, "/roles/"+r.ID)})
	}
	v.RoleOptions = roleOptions(all, has)
	return render(c, status, vc.GroupPage(v))
}

// roleOptions are the roles of all not in has, to choose one from.
func roleOptions(all []*admin.Role, has map[string]bool) []vc.Option {
	var out []vc.Option
	for _, r := range all {
		if !has[r.ID] {
			out = append(out, vc.Option{Value: r.ID, Label: r.Name})
		}
	}
	return out
}

func (h *Handler) group(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	return h.renderGroup(c, ctx, t, g, http.StatusOK, groupEdit{})
}

func (h *Handler) updateGroup(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	name, desc := c.FormValue("name"), c.FormValue("description")
	_, err = h.svc.UpdateGroup(ctx, g.ID, admin.GroupInput{Name: &name, Description: &desc})
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("name", "this tenant has a group of this name already")
	}
	if errs := formErrors(err, "name", "description"); errs != nil {
		return h.renderGroup(c, ctx, t, g, http.StatusUnprocessableEntity, groupEdit{name: &name, desc: &desc, errs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups/"+g.ID), "group-updated")
}

func (h *Handler) addMember(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	email := strings.TrimSpace(c.FormValue("email"))
	u, err := h.svc.UserByEmail(ctx, email)
	if errors.Is(err, tenants.ErrNotFound) {
		err = tenants.Invalid("email", "no user of this tenant has this address")
	}
	if err == nil {
		_, err = h.svc.AddGroupMember(ctx, g.ID, u.ID)
	}
	if errs := formErrors(err, "email"); errs != nil {
		return h.renderGroup(c, ctx, t, g, http.StatusUnprocessableEntity, groupEdit{member: email, memberErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups/"+g.ID), "member-added")
}

func (h *Handler) removeMember(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveGroupMember(ctx, g.ID, c.Param("user")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups/"+g.ID), "member-removed")
}

func (h *Handler) addGroupRole(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	_, err = h.svc.AddGroupRole(ctx, g.ID, c.FormValue("role"))
	if errors.Is(err, tenants.ErrNotFound) {
		// The form offers this tenant's roles only: one that is gone.
		err = tenants.Invalid("role", "choose one of this tenant's roles")
	}
	if errs := formErrors(err, "role"); errs != nil {
		return h.renderGroup(c, ctx, t, g, http.StatusUnprocessableEntity, groupEdit{roleErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups/"+g.ID), "group-role-added")
}

func (h *Handler) removeGroupRole(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveGroupRole(ctx, g.ID, c.Param("role")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups/"+g.ID), "group-role-removed")
}

func (h *Handler) deleteGroup(c echo.Context) error {
	ctx, t, g, err := h.loadGroup(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteGroup(ctx, g.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/groups"), "group-deleted")
}

// userAccess is the roles panel of a user's page.
func (h *Handler) userAccess(ctx context.Context, t *tenants.Tenant, userID string, errs map[string]string) (vc.UserRoles, error) {
	eff, err := h.svc.UserRoles(ctx, userID)
	if err != nil {
		return vc.UserRoles{}, err
	}
	all, err := h.svc.ListRoles(ctx)
	if err != nil {
		return vc.UserRoles{}, err
	}
	out := vc.UserRoles{Errors: errs}
	direct := map[string]bool{}
	for _, r := range eff {
		row := vc.EffectiveRoleRow{ID: r.ID, Name: r.Name, Link: vc.TenantURL(t.Slug, "/roles/"+r.ID), Direct: r.Direct}
		for _, g := range r.Groups {
			row.Groups = append(row.Groups, vc.GroupRow{Name: g.Name, Link: vc.TenantURL(t.Slug, "/groups/"+g.ID)})
		}
		if r.Direct {
			direct[r.ID] = true
		}
		out.Roles = append(out.Roles, row)
	}
	out.Options = roleOptions(all, direct)
	return out, nil
}

func (h *Handler) addUserRole(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	_, err = h.svc.AddUserRole(ctx, u.ID, c.FormValue("role"))
	if errors.Is(err, tenants.ErrNotFound) {
		err = tenants.Invalid("role", "choose one of this tenant's roles")
	}
	if errs := formErrors(err, "role"); errs != nil {
		return h.renderUser(c, ctx, t, u, http.StatusUnprocessableEntity, userEdit{roleErrs: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "user-role-added")
}

func (h *Handler) removeUserRole(c echo.Context) error {
	ctx, t, u, err := h.loadUser(c)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveUserRole(ctx, u.ID, c.Param("role")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/users/"+u.ID), "user-role-removed")
}
