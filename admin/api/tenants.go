package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

type createTenantBody struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (h *Handler) listTenants(c echo.Context) error {
	ts, err := h.svc.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(ts))
}

func (h *Handler) createTenant(c echo.Context) error {
	var b createTenantBody
	if err := decode(c, &b); err != nil {
		return err
	}
	t, err := h.svc.CreateTenant(c.Request().Context(), admin.CreateTenantInput{Slug: b.Slug, Name: b.Name})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", admin.APIPath+"/tenants/"+t.Slug)
	return c.JSON(http.StatusCreated, t)
}

func (h *Handler) getTenant(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	t, err := h.svc.GetTenant(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// updateTenantBody is a partial update: absent fields are left as they are.
// Lifetimes are in seconds.
type updateTenantBody struct {
	Name                 *string  `json:"name"`
	LogoURL              *string  `json:"logo_url"`
	AccentColor          *string  `json:"accent_color"`
	GrantTypes           []string `json:"grant_types"`
	AccessTokenLifetime  *int64   `json:"access_token_lifetime"`
	IDTokenLifetime      *int64   `json:"id_token_lifetime"`
	RefreshTokenLifetime *int64   `json:"refresh_token_lifetime"`
	SessionLifetime      *int64   `json:"session_lifetime"`
}

func seconds(v *int64) *time.Duration {
	if v == nil {
		return nil
	}
	d := time.Duration(*v) * time.Second
	return &d
}

func (h *Handler) updateTenant(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b updateTenantBody
	if err := decode(c, &b); err != nil {
		return err
	}
	t, err := h.svc.UpdateTenant(ctx, admin.TenantSettings{
		Name: b.Name, LogoURL: b.LogoURL, AccentColor: b.AccentColor, GrantTypes: b.GrantTypes,
		AccessTokenLifetime: seconds(b.AccessTokenLifetime), IDTokenLifetime: seconds(b.IDTokenLifetime),
		RefreshTokenLifetime: seconds(b.RefreshTokenLifetime), SessionLifetime: seconds(b.SessionLifetime),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// deleteTenant deletes a tenant; the API's caller confirms by naming it in
// the path, so no further confirmation is asked.
func (h *Handler) deleteTenant(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteTenant(ctx, t.Slug); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) overview(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	o, err := h.svc.Overview(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}
