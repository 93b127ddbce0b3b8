package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

// domains shows the tenant's custom domains.
func (h *Handler) domains(c echo.Context) error {
	return h.renderDomains(c, http.StatusOK, vc.DomainsView{})
}

func (h *Handler) renderDomains(c echo.Context, status int, v vc.DomainsView) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	ds, err := h.svc.ListDomains(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "Custom domains", "domains", t); err != nil {
		return err
	}
	v.Issuer = t.Issuer
	for _, d := range ds {
		row := vc.DomainRow{Domain: d.Domain, Verified: d.Verified, Issuer: d.Issuer, Discovery: d.Discovery, Created: when(d.CreatedAt)}
		for _, r := range d.DNSRecords {
			row.Records = append(row.Records, vc.DNSRecordRow{Type: r.Type, Name: r.Name, Value: r.Value})
		}
		v.Rows = append(v.Rows, row)
	}
	return render(c, status, vc.Domains(v))
}

func (h *Handler) addDomain(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	domain := c.FormValue("domain")
	_, err = h.svc.AddDomain(ctx, domain)
	if errors.Is(err, tenants.ErrAlreadyExists) {
		err = tenants.Invalid("domain", "is taken: it is a custom domain already")
	}
	if errs := formErrors(err, "domain"); errs != nil {
		return h.renderDomains(c, http.StatusUnprocessableEntity, vc.DomainsView{Domain: domain, Errors: errs})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/domains"), "domain-added")
}

func (h *Handler) verifyDomain(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	_, err = h.svc.VerifyDomain(ctx, c.Param("domain"))
	var ve *tenants.ValidationError
	if errors.As(err, &ve) {
		return h.renderDomains(c, http.StatusUnprocessableEntity, vc.DomainsView{Alert: ve.Message})
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/domains"), "domain-verified")
}

func (h *Handler) removeDomain(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveDomain(ctx, c.Param("domain")); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/domains"), "domain-removed")
}
