package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// permissionBody is one scope of one API.
type permissionBody struct {
	Audience string `json:"audience" required:"true" doc:"the API's identifier (its audience)"`
	Scope    string `json:"scope" required:"true" doc:"one of the API's scopes"`
}

type createRoleBody struct {
	Name        string           `json:"name" required:"true" doc:"unique in the tenant, at most 100 characters; the roles claim carries it"`
	Description string           `json:"description" doc:"at most 300 characters"`
	Permissions []permissionBody `json:"permissions" doc:"the API scopes the role grants; each must be a scope of an API of the tenant"`
}

// updateRoleBody is a partial update; permissions, when given, replace the
// role's.
type updateRoleBody struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	Permissions *[]permissionBody `json:"permissions" doc:"replaces every permission of the role; its holders' next tokens follow"`
}

type roleRefBody struct {
	Role string `json:"role" required:"true" doc:"the role's id or name"`
}

type createGroupBody struct {
	Name        string `json:"name" required:"true" doc:"unique in the tenant, at most 100 characters; the groups claim carries it"`
	Description string `json:"description" doc:"at most 300 characters"`
}

type updateGroupBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

type memberBody struct {
	User string `json:"user" required:"true" doc:"the user's id"`
}

func (b *roleRefBody) ref() (string, string, string) {
	return b.Role, "role", "name the role by its id or name"
}

func (b *memberBody) ref() (string, string, string) {
	return b.User, "user", "name the user by their id"
}

func permissionInputs(in *[]permissionBody) *[]admin.Permission {
	if in == nil {
		return nil
	}
	out := make([]admin.Permission, len(*in))
	for i, p := range *in {
		out[i] = admin.Permission{Audience: p.Audience, Scope: p.Scope}
	}
	return &out
}

func (h *Handler) listRoles(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	rs, err := h.svc.ListRoles(ctx)
	if err != nil {
		return err
	}
	page, err := paginate(c, rs, func(r *admin.Role) string { return r.Name })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createRole(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createRoleBody
	if err := decode(c, &b); err != nil {
		return err
	}
	perms := []permissionBody{}
	if b.Permissions != nil {
		perms = b.Permissions
	}
	r, err := h.svc.CreateRole(ctx, admin.RoleInput{Name: &b.Name, Description: &b.Description, Permissions: permissionInputs(&perms)})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/roles/"+r.ID, r)
}

func (h *Handler) updateRole(c echo.Context) error {
	ctx, ref, err := h.object(c, "role")
	if err != nil {
		return err
	}
	var b updateRoleBody
	if err := decode(c, &b); err != nil {
		return err
	}
	r, err := h.svc.UpdateRole(ctx, ref, admin.RoleInput{Name: b.Name, Description: b.Description, Permissions: permissionInputs(b.Permissions)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *Handler) listGroups(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	gs, err := h.svc.ListGroups(ctx)
	if err != nil {
		return err
	}
	page, err := paginate(c, gs, func(g *admin.Group) string { return g.Name })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createGroup(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b createGroupBody
	if err := decode(c, &b); err != nil {
		return err
	}
	g, err := h.svc.CreateGroup(ctx, admin.GroupInput{Name: &b.Name, Description: &b.Description})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/groups/"+g.ID, g)
}

func (h *Handler) updateGroup(c echo.Context) error {
	ctx, ref, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b updateGroupBody
	if err := decode(c, &b); err != nil {
		return err
	}
	g, err := h.svc.UpdateGroup(ctx, ref, admin.GroupInput{Name: b.Name, Description: b.Description})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}
