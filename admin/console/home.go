package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

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
	v.Chart = signInChart(o.SignIns)
	v.ActiveUsers, v.MFAUsers = o.ActiveUsers, o.MFAUsers
	if o.Users > 0 {
		v.MFAPercent = o.MFAUsers * 100 / o.Users
	}
	v.Checklist = checklist(t.Slug, o)
	cs, err := h.svc.ListConnections(ctx)
	if err != nil {
		return err
	}
	for _, cn := range cs {
		if w := certWarning(cn, h.now()); w != "" {
			worst, _ := cn.IdP.Expiry()
			v.Notices = append(v.Notices, vc.Notice{Text: cn.Name + ": " + w, Link: vc.TenantURL(t.Slug, "/connections/"+cn.ID), Urgent: worst == admin.CertExpired})
		}
	}
	for _, u := range o.RecentLogins {
		v.Recent = append(v.Recent, vc.RecentLogin{Email: u.Email, When: whenPtr(u.LastLoginAt), Link: vc.TenantURL(t.Slug, "/users/"+u.ID)})
	}
	return render(c, http.StatusOK, vc.Overview(v))
}

// Chart geometry, in SVG units.
const (
	chartWidth  = 560
	chartHeight = 120
	chartGap    = 4
)

// signInChart lays out days as stacked bars (succeeded under failed), the
// tallest day at full height; a day without sign-ins has no bar.
func signInChart(days []admin.DaySignIns) vc.SignInChart {
	c := vc.SignInChart{Width: chartWidth, Height: chartHeight}
	for _, d := range days {
		c.Max = max(c.Max, d.Succeeded+d.Failed)
		c.Succeeded += d.Succeeded
		c.Failed += d.Failed
	}
	if len(days) == 0 {
		return c
	}
	step := chartWidth / len(days)
	scale := func(n int64) int {
		if c.Max == 0 || n == 0 {
			return 0
		}
		return max(1, int(n*chartHeight/c.Max)) // a day with any shows
	}
	for i, d := range days {
		okH, failH := scale(d.Succeeded), scale(d.Failed)
		if okH+failH > chartHeight { // rounding up both of a full day
			okH = chartHeight - failH
		}
		label := ""
		if day, err := time.Parse("2006-01-02", d.Day); err == nil {
			label = day.Format("2")
			if i == 0 || day.Day() == 1 {
				label = day.Format("2 Jan")
			}
		}
		c.Bars = append(c.Bars, vc.ChartBar{X: i*step + chartGap/2, W: step - chartGap,
			OKY: chartHeight - okH, OKH: okH, FailY: chartHeight - okH - failH, FailH: failH, Label: label,
			Title: fmt.Sprintf("%s: %d succeeded, %d refused", d.Day, d.Succeeded, d.Failed)})
	}
	return c
}

// checklist is a new tenant's first steps, done or not; none once every
// one is done.
func checklist(slug string, o *admin.Overview) []vc.CheckItem {
	items := []vc.CheckItem{
		{Label: "Create an application", Help: "the app your users sign in to", Link: vc.TenantURL(slug, "/applications/new"), Done: o.Applications > 0},
		{Label: "Add a user", Help: "or let people sign up, in Settings", Link: vc.TenantURL(slug, "/users/new"), Done: o.Users > 0},
		{Label: "Try a sign-in", Help: `"Try it" on an application's page`, Link: vc.TenantURL(slug, "/applications"), Done: o.EverSignedIn},
		{Label: "Add a connection", Help: "Google, GitHub, Microsoft, an OpenID provider or a SAML IdP", Link: vc.TenantURL(slug, "/connections"), Done: o.Connections > 0},
	}
	for _, it := range items {
		if !it.Done {
			return items
		}
	}
	return nil
}
