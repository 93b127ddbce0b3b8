package api

import (
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// exportTenant answers the tenant's document (admin.TenantDocument).
func (h *Handler) exportTenant(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var opts admin.ExportOptions
	for name, dst := range map[string]*bool{"omit_secrets": &opts.OmitSecrets, "users": &opts.Users, "password_hashes": &opts.PasswordHashes} {
		if *dst, err = boolParam(c, name); err != nil {
			return err
		}
	}
	doc, err := h.svc.ExportTenant(ctx, opts)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="tenant-`+t.Slug+`.json"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, doc)
}

// importTenant creates a tenant from the document in the body, all at once.
func (h *Handler) importTenant(c echo.Context) error {
	r := c.Request()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return badRequest("", "send the tenant document with Content-Type: application/json")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, admin.MaxTenantDocument+1))
	if err != nil {
		return badRequest("", "the body could not be read")
	}
	if len(raw) > admin.MaxTenantDocument {
		return &httperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Request too large", Description: "the document must be at most 64 MiB"}
	}
	doc, err := admin.DecodeTenantDocument(raw)
	if err != nil {
		return err
	}
	res, err := h.svc.ImportTenant(r.Context(), doc, admin.ImportTenantOptions{Slug: c.QueryParam("slug")})
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+res.Tenant.Slug, res)
}
