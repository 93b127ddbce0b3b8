package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

func (h *Handler) home(c echo.Context) error {
	ctx := c.Request().Context()
	pg, err := h.page(c, "Tenants", "", nil)
	if err != nil {
		return err
	}
	ts, err := h.svc.ListTenants(ctx)
	if err != nil {
		return err
	}
	p, _ := admin.PrincipalFrom(ctx)
	v := vc.HomeView{Page: pg, CanCreate: p.Operator && p.HasScope(admin.ScopeTenantsWrite)}
	for _, t := range ts {
		v.Rows = append(v.Rows, vc.TenantRow{Slug: t.Slug, Name: t.Name, Issuer: t.Issuer})
	}
	return render(c, http.StatusOK, vc.Home(v))
}

func (h *Handler) exampleIssuer(slug string) string {
	if slug == "" {
		slug = "your-slug"
	}
	return h.cfg.BaseURL.Scheme + "://" + slug + "." + h.cfg.BaseURL.Host
}

func (h *Handler) newTenant(c echo.Context) error {
	pg, err := h.page(c, "New tenant", "", nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, vc.NewTenant(vc.NewTenantView{Page: pg, Base: h.exampleIssuer("")}))
}

func (h *Handler) createTenant(c echo.Context) error {
	in := admin.CreateTenantInput{Slug: strings.TrimSpace(c.FormValue("slug")), Name: c.FormValue("name")}
	t, err := h.svc.CreateTenant(c.Request().Context(), in)
	if err != nil {
		errs := formErrors(err, "slug", "name")
		if errors.Is(err, tenants.ErrAlreadyExists) {
			errs = map[string]string{"slug": "A tenant with this slug already exists."}
		}
		if errs == nil {
			return err
		}
		pg, perr := h.page(c, "New tenant", "", nil)
		if perr != nil {
			return perr
		}
		return render(c, http.StatusUnprocessableEntity, vc.NewTenant(vc.NewTenantView{Page: pg, Slug: in.Slug, Name: in.Name,
			Base: h.exampleIssuer(in.Slug), Errors: errs}))
	}
	return c.Redirect(http.StatusSeeOther, vc.TenantURL(t.Slug, "")+"?done=tenant-created")
}

func (h *Handler) overview(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	o, err := h.svc.Overview(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, t.DisplayName, "overview", t)
	if err != nil {
		return err
	}
	v := vc.OverviewView{Page: pg, Issuer: t.Issuer, Discovery: t.Issuer + "/.well-known/openid-configuration",
		Users: o.Users, Applications: o.Applications, APIs: o.APIs}
	for _, u := range o.RecentLogins {
		v.Recent = append(v.Recent, vc.RecentLogin{Email: u.Email, When: whenPtr(u.LastLoginAt), Link: vc.TenantURL(t.Slug, "/users/"+u.ID)})
	}
	return render(c, http.StatusOK, vc.Overview(v))
}
