package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// updateAccessBody changes what an administrator or a management client may
// do: absent fields are left as they are.
type updateAccessBody struct {
	Operator *bool    `json:"operator" doc:"true: an operator, administering every tenant; false: a tenant admin of tenants (or of the tenants it has)"`
	Tenants  []string `json:"tenants" doc:"slugs of the tenants it administers as a tenant admin; at least one"`
	Scopes   []string `json:"scopes" enum:"tenants:read,tenants:write,audit:read" doc:"its management scopes; at least one"`
}

func (b updateAccessBody) input() admin.UpdateAccessInput {
	return admin.UpdateAccessInput{Operator: b.Operator, Tenants: b.Tenants, Scopes: b.Scopes}
}

func (h *Handler) listAdmins(c echo.Context) error {
	as, err := h.svc.ListAdmins(c.Request().Context())
	if err != nil {
		return err
	}
	page, err := paginate(c, as, func(a *admin.Admin) string { return a.User.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) getAdmin(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.GetAdmin(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) updateAdmin(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	var b updateAccessBody
	if err := decode(c, &b); err != nil {
		return err
	}
	a, err := h.svc.UpdateAdmin(c.Request().Context(), id, b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) deleteAdmin(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAdmin(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listAdminClients(c echo.Context) error {
	cs, err := h.svc.ListAdminClients(c.Request().Context())
	if err != nil {
		return err
	}
	page, err := paginate(c, cs, func(a *admin.AdminClient) string { return a.ClientID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) getAdminClient(c echo.Context) error {
	id, err := pathParam(c, "client_id")
	if err != nil {
		return err
	}
	a, err := h.svc.GetAdminClient(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) updateAdminClient(c echo.Context) error {
	id, err := pathParam(c, "client_id")
	if err != nil {
		return err
	}
	var b updateAccessBody
	if err := decode(c, &b); err != nil {
		return err
	}
	a, err := h.svc.UpdateAdminClient(c.Request().Context(), id, b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) deleteAdminClient(c echo.Context) error {
	id, err := pathParam(c, "client_id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAdminClient(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
