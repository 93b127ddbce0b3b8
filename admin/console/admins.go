package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// The console's pages of administrators and management clients: the
// list, and a page each with the form that changes its access and the one
// that revokes it. Who may see and change whom is the admin service's
// decision (admin/principals.go); these handlers only parse and render.

func adminLink(id string) string { return admin.ConsolePath + "/administrators/" + url.PathEscape(id) }
func clientLink(id string) string {
	return admin.ConsolePath + "/management-clients/" + url.PathEscape(id)
}

func (h *Handler) principalsPage(c echo.Context) error {
	ctx := c.Request().Context()
	me, _ := admin.PrincipalFrom(ctx)
	as, err := h.svc.ListAdmins(ctx)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListAdminClients(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, "Administrators", "", nil)
	if err != nil {
		return err
	}
	v := vc.AdminsView{Page: pg}
	for _, a := range as {
		v.Admins = append(v.Admins, vc.PrincipalRow{Name: a.User.Email, Link: adminLink(a.User.ID), Operator: a.Role == tenants.RoleOperator,
			Tenants: a.Slugs, Scopes: a.Scopes, You: me.Kind == admin.KindUser && me.ID == a.User.ID})
	}
	for _, cl := range cs {
		v.Clients = append(v.Clients, vc.PrincipalRow{Name: cl.Name, ClientID: cl.ClientID, Link: clientLink(cl.ClientID),
			Operator: cl.Role == tenants.RoleOperator, Tenants: cl.Slugs, Scopes: cl.Scopes})
	}
	return render(c, http.StatusOK, vc.Admins(v))
}

// principalForm is what an access form shows: the principal as it is, or
// what the administrator chose when the form comes back with errors.
type principalForm struct {
	kind, name, id, link string
	operator             bool
	slugs, scopes        []string
	errs                 map[string]string
}

func (h *Handler) renderPrincipal(c echo.Context, status int, f principalForm) error {
	ctx := c.Request().Context()
	me, _ := admin.PrincipalFrom(ctx)
	pg, err := h.page(c, f.name, "", nil)
	if err != nil {
		return err
	}
	v := vc.PrincipalView{Page: pg, Kind: f.kind, Name: f.name, ID: f.id, Action: f.link, Delete: f.link + "/delete", Operator: f.operator,
		Errors: f.errs, You: me.ID == f.id}
	if me.Operator {
		v.Roles = []vc.Choice{
			{Value: tenants.RoleOperator, Label: "Operator", Help: "administers every tenant, creates and deletes tenants", Checked: f.operator},
			{Value: tenants.RoleTenantAdmin, Label: "Tenant admin", Help: "administers the tenants checked below", Checked: !f.operator},
		}
	}
	// The tenants the signed-in administrator may give: theirs.
	for _, t := range pg.Tenants {
		v.Tenants = append(v.Tenants, vc.Check{Name: "tenants", Value: t.Slug, Label: t.Slug, Help: t.Name, Checked: slices.Contains(f.slugs, t.Slug)})
	}
	for _, s := range admin.AllScopes() {
		v.Scopes = append(v.Scopes, vc.Check{Name: "scopes", Value: s, Label: s, Checked: slices.Contains(f.scopes, s)})
	}
	return render(c, status, vc.PrincipalPage(v))
}

// accessInput reads an access form: the role (offered to operators only),
// the tenants and the scopes checked. Unchecked boxes mean none.
func accessInput(c echo.Context) admin.UpdateAccessInput {
	in := admin.UpdateAccessInput{Tenants: nonNil(formValues(c, "tenants")), Scopes: nonNil(formValues(c, "scopes"))}
	switch c.FormValue("role") {
	case tenants.RoleOperator:
		yes := true
		in.Operator, in.Tenants = &yes, nil
	case tenants.RoleTenantAdmin:
		no := false
		in.Operator = &no
	}
	return in
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// accessErrors are the messages of an access form for err, or nil when err
// is not about the form: bad input, and the last operator's removal.
func accessErrors(err error) map[string]string {
	if errors.Is(err, tenants.ErrLastOperator) {
		return map[string]string{"form": sentence(err.Error())}
	}
	return formErrors(err, "tenants", "scopes")
}

func adminForm(a *admin.Admin) principalForm {
	return principalForm{kind: "administrator", name: a.User.Email, id: a.User.ID, link: adminLink(a.User.ID),
		operator: a.Role == tenants.RoleOperator, slugs: a.Slugs, scopes: a.Scopes}
}

func clientForm(a *admin.AdminClient) principalForm {
	return principalForm{kind: "management client", name: a.Name, id: a.ClientID, link: clientLink(a.ClientID),
		operator: a.Role == tenants.RoleOperator, slugs: a.Slugs, scopes: a.Scopes}
}

func (h *Handler) adminPage(c echo.Context) error {
	a, err := h.svc.GetAdmin(c.Request().Context(), c.Param("admin"))
	if err != nil {
		return err
	}
	return h.renderPrincipal(c, http.StatusOK, adminForm(a))
}

func (h *Handler) updateAdminAccess(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.svc.GetAdmin(ctx, c.Param("admin"))
	if err != nil {
		return err
	}
	in := accessInput(c)
	_, err = h.svc.UpdateAdmin(ctx, a.User.ID, in)
	if errs := accessErrors(err); errs != nil {
		f := adminForm(a)
		f.errs, f.slugs, f.scopes = errs, in.Tenants, in.Scopes
		if in.Operator != nil {
			f.operator = *in.Operator
		}
		return h.renderPrincipal(c, statusOf(err), f)
	}
	if err != nil {
		return err
	}
	return done(c, adminLink(a.User.ID), "admin-updated")
}

func (h *Handler) deleteAdminAccess(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.svc.GetAdmin(ctx, c.Param("admin"))
	if err != nil {
		return err
	}
	err = h.svc.DeleteAdmin(ctx, a.User.ID)
	if errs := accessErrors(err); errs != nil {
		f := adminForm(a)
		f.errs = errs
		return h.renderPrincipal(c, statusOf(err), f)
	}
	if err != nil {
		return err
	}
	if me, _ := admin.PrincipalFrom(ctx); me.Kind == admin.KindUser && me.ID == a.User.ID {
		// They deleted themselves: their session went with them.
		h.setCookie(c, sessionCookie, "", -1)
		return c.Redirect(http.StatusSeeOther, admin.ConsolePath+"/signed-out")
	}
	return done(c, admin.ConsolePath+"/administrators", "admin-deleted")
}

func (h *Handler) adminClientPage(c echo.Context) error {
	a, err := h.svc.GetAdminClient(c.Request().Context(), c.Param("mclient"))
	if err != nil {
		return err
	}
	return h.renderPrincipal(c, http.StatusOK, clientForm(a))
}

func (h *Handler) updateAdminClientAccess(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.svc.GetAdminClient(ctx, c.Param("mclient"))
	if err != nil {
		return err
	}
	in := accessInput(c)
	_, err = h.svc.UpdateAdminClient(ctx, a.ClientID, in)
	if errs := accessErrors(err); errs != nil {
		f := clientForm(a)
		f.errs, f.slugs, f.scopes = errs, in.Tenants, in.Scopes
		if in.Operator != nil {
			f.operator = *in.Operator
		}
		return h.renderPrincipal(c, statusOf(err), f)
	}
	if err != nil {
		return err
	}
	return done(c, clientLink(a.ClientID), "admin-client-updated")
}

func (h *Handler) deleteAdminClientAccess(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := h.svc.GetAdminClient(ctx, c.Param("mclient"))
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAdminClient(ctx, a.ClientID); err != nil {
		return err
	}
	return done(c, admin.ConsolePath+"/administrators", "admin-client-deleted")
}

// statusOf is the status of a form that comes back with err: 409 for the
// last operator, 422 for bad input.
func statusOf(err error) int {
	if errors.Is(err, tenants.ErrLastOperator) {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}
