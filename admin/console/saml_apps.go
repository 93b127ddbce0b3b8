package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	vc "github.com/gatehouse-id/gatehouse/views/console"
)

func (h *Handler) samlApps(c echo.Context) error {
	return h.renderSAMLApps(c, http.StatusOK, vc.SAMLAppsView{})
}

func (h *Handler) renderSAMLApps(c echo.Context, status int, v vc.SAMLAppsView) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	if v.SLOBindings == nil {
		v.SLOBindings = sloBindings("")
	}
	as, err := h.svc.ListSAMLApps(ctx)
	if err != nil {
		return err
	}
	if v.Page, err = h.page(c, "SAML applications", "saml-apps", t); err != nil {
		return err
	}
	v.MetadataURL = t.SAMLIdPEntityID()
	for _, a := range as {
		state := "Enabled"
		if !a.Enabled {
			state = "Disabled"
		}
		v.Rows = append(v.Rows, vc.SAMLAppRow{Name: a.Name, EntityID: a.EntityID, Link: vc.TenantURL(t.Slug, "/saml-apps/"+a.ID), State: state})
	}
	return render(c, status, vc.SAMLApps(v))
}

func (h *Handler) createSAMLApp(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	v := vc.SAMLAppsView{Name: c.FormValue("name"), Metadata: c.FormValue("metadata"), EntityID: c.FormValue("entity_id"), ACS: c.FormValue("acs"),
		SLOURL: c.FormValue("slo_url")}
	binding := c.FormValue("slo_binding")
	v.SLOBindings = sloBindings(binding)
	in := admin.SAMLAppInput{Name: &v.Name}
	if strings.TrimSpace(v.Metadata) != "" {
		in.MetadataXML = &v.Metadata
	}
	if v.EntityID != "" {
		in.EntityID = &v.EntityID
	}
	if v.ACS != "" {
		in.ACS = []admin.SAMLEndpoint{{URL: v.ACS}}
	}
	if v.SLOURL != "" {
		in.SLOURL, in.SLOBinding = &v.SLOURL, &binding
	}
	a, err := h.svc.CreateSAMLApp(ctx, in)
	if v.Errors = formErrors(err, "name", "metadata", "entity_id", "acs", "slo_url", "slo_binding"); v.Errors != nil {
		return h.renderSAMLApps(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/saml-apps/"+a.ID), "saml-app-created")
}

func (h *Handler) loadSAMLApp(c echo.Context) (context.Context, *tenants.Tenant, *admin.SAMLApp, error) {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := h.svc.GetSAMLApp(ctx, c.Param("samlapp"))
	if err != nil {
		return nil, nil, nil, err
	}
	return ctx, t, a, nil
}

func (h *Handler) samlApp(c echo.Context) error {
	ctx, t, a, err := h.loadSAMLApp(c)
	if err != nil {
		return err
	}
	cert, err := h.svc.SAMLIdPCertificate(ctx)
	if err != nil {
		return err
	}
	pg, err := h.page(c, a.Name, "saml-apps", t)
	if err != nil {
		return err
	}
	v := vc.SAMLAppView{Page: pg, ID: a.ID, Name: a.Name, Enabled: a.Enabled, EntityID: a.EntityID, NameID: a.NameIDFormat + " (" + a.NameIDSource + ")",
		IdPEntityID: a.IdPEntityID, SSOURL: a.SSOURL, SLOService: a.SLOServiceURL, MetadataURL: a.MetadataURL, Certificate: cert, Created: when(a.CreatedAt)}
	for _, e := range a.ACS {
		v.ACS = append(v.ACS, e.URL)
	}
	if a.SLOURL != "" {
		v.SLO = a.SLOURL + " (" + strings.TrimPrefix(a.SLOBinding, "urn:oasis:names:tc:SAML:2.0:bindings:") + ")"
	}
	for _, at := range a.Attributes {
		v.Attributes = append(v.Attributes, at.Name+" ← "+at.Source)
	}
	switch {
	case a.SignResponse && a.SignAssertion:
		v.Signing = "response and assertion"
	case a.SignResponse:
		v.Signing = "response"
	default:
		v.Signing = "assertion"
	}
	if a.EncryptAssertions {
		v.Signing += "; assertions encrypted"
	}
	if a.RequireSignedRequests {
		v.Signing += "; requests must be signed"
	}
	switch a.Access {
	case tenants.SAMLAccessRoles:
		v.Access = "holders of " + strings.Join(a.AccessRoles, ", ")
	case tenants.SAMLAccessGroups:
		v.Access = "members of " + strings.Join(a.AccessGroups, ", ")
	default:
		v.Access = "every user"
	}
	return render(c, http.StatusOK, vc.SAMLApp(v))
}

func (h *Handler) setSAMLAppEnabled(c echo.Context) error {
	ctx, t, a, err := h.loadSAMLApp(c)
	if err != nil {
		return err
	}
	on := c.FormValue("enabled") == "true"
	if _, err := h.svc.UpdateSAMLApp(ctx, a.ID, admin.SAMLAppInput{Enabled: &on}); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/saml-apps/"+a.ID), "saml-app-updated")
}

func (h *Handler) deleteSAMLApp(c echo.Context) error {
	ctx, t, a, err := h.loadSAMLApp(c)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSAMLApp(ctx, a.ID); err != nil {
		return err
	}
	return done(c, vc.TenantURL(t.Slug, "/saml-apps"), "saml-app-deleted")
}

// sloBindings are the single logout bindings the form offers, selected
// first HTTP-Redirect.
func sloBindings(selected string) []vc.Option {
	var out []vc.Option
	for _, b := range tenants.SAMLBindings() {
		short := strings.TrimPrefix(b, "urn:oasis:names:tc:SAML:2.0:bindings:")
		out = append(out, vc.Option{Value: short, Label: short, Selected: selected == short || selected == b})
	}
	return out
}
