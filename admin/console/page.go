package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// pages lists the console's signed-in routes (besides the home page).
func (h *Handler) pages() []route {
	return []route{
		{http.MethodGet, "/tenants/new", h.newTenant},
		{http.MethodPost, "/tenants/new", h.createTenant},
		{http.MethodGet, "/t/:slug", h.overview},
	}
}

// page returns the frame of a signed-in page; tenant is nil outside a
// tenant.
func (h *Handler) page(c echo.Context, title, section string, tenant *tenants.Tenant) (vc.Page, error) {
	ctx := c.Request().Context()
	p, _ := admin.PrincipalFrom(ctx)
	sess := session(ctx)
	pg := vc.Page{Title: title, User: p.Name, Operator: p.Operator, CSRF: h.csrfToken(sess.ID), Section: section,
		Flash: flashText(c.QueryParam("done"))}
	ts, err := h.svc.ListTenants(ctx)
	if err != nil {
		return pg, err
	}
	for _, t := range ts {
		pg.Tenants = append(pg.Tenants, vc.TenantLink{Slug: t.Slug, Name: t.Name})
	}
	if tenant != nil {
		pg.Current = &vc.TenantLink{Slug: tenant.Slug, Name: tenant.DisplayName}
	}
	return pg, nil
}

// tenant resolves the :slug of the path for the signed-in principal; a
// tenant it does not administer is "not found".
func (h *Handler) tenant(c echo.Context) (context.Context, *tenants.Tenant, error) {
	return h.svc.Tenant(c.Request().Context(), c.Param("slug"))
}

// flashes are the messages a redirect after a change may ask for: a fixed
// table, so that a link cannot make the console say anything else.
var flashes = map[string]string{
	"tenant-created":  "Tenant created.",
	"tenant-updated":  "Settings saved.",
	"tenant-deleted":  "Tenant deleted.",
	"app-updated":     "Application saved.",
	"app-deleted":     "Application deleted.",
	"grants-updated":  "API access saved.",
	"api-created":     "API created.",
	"api-updated":     "API saved.",
	"api-deleted":     "API deleted.",
	"user-created":    "User created.",
	"user-updated":    "User saved.",
	"user-disabled":   "User disabled: their sessions ended and their tokens were revoked.",
	"user-enabled":    "User enabled.",
	"user-deleted":    "User deleted.",
	"password-set":    "Password set: the user's sessions ended and their tokens were revoked.",
	"session-revoked": "Session revoked.",
	"consent-revoked": "Access revoked: the application's tokens for this user were revoked.",
	"key-rotated":     "New signing key active. The previous key stays published until the tokens it signed expire.",
	"setup-complete":  "Operator created. Sign in with it.",
	"secret-rotated":  "New secret created.",
	"redirects-saved": "Redirect URIs saved.",
}

func flashText(key string) string { return flashes[key] }

// fieldErrors turns a validation error into the form's field messages, or
// returns nil for any other error.
func fieldErrors(err error) map[string]string {
	var ve *tenants.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	field := ve.Field
	if field == "" {
		field = "form"
	}
	return map[string]string{field: ve.Message}
}
