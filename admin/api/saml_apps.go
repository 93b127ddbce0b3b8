package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// samlAppBody creates a SAML application or, every field optional,
// changes one: a field left out (or null) keeps its value; a list given
// replaces it.
type samlAppBody struct {
	Name                  *string                 `json:"name" doc:"shown to users (My applications) and in the console; required at creation"`
	MetadataXML           *string                 `json:"metadata_xml" doc:"the SP's metadata (an EntityDescriptor with an SPSSODescriptor): fills entity_id, acs, slo_url, the NameID format and the certificates; fields given besides override it. The body is at most 64 KiB: give larger metadata by metadata_url"`
	MetadataURL           *string                 `json:"metadata_url" doc:"where the SP publishes its metadata; fetched once, when the application is saved, from a public address or a host in GATEHOUSE_UPSTREAM_ALLOW_HOSTS"`
	EntityID              *string                 `json:"entity_id" doc:"the SP's entity ID (the Issuer of its AuthnRequests, the Audience of the assertions); unique in the tenant. Required unless the metadata gives it"`
	ACS                   []admin.SAMLEndpoint    `json:"acs" doc:"the SP's assertion consumer services: https URLs (http only on loopback hosts) with the HTTP-POST binding. Required unless the metadata gives them"`
	SLOURL                *string                 `json:"slo_url" doc:"the SP's single logout service, empty for none (no Single Logout with this application)"`
	SLOBinding            *string                 `json:"slo_binding" doc:"the binding of slo_url: HTTP-Redirect (the default) or HTTP-POST, by short name or URN"`
	NameIDFormat          *string                 `json:"name_id_format" doc:"the NameID format of the assertions (urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress, ...); defaults from name_id_source"`
	NameIDSource          *string                 `json:"name_id_source" enum:"email,persistent,user_id" doc:"what the NameID is: the user's email (the default), an opaque id per user and application, or the user's id"`
	Attributes            []tenants.SAMLAttribute `json:"attributes" doc:"the attribute statement: each attribute name with its source (email, email_verified, name, given_name, family_name, user_id, groups, roles). Defaults to email and name"`
	SignResponse          *bool                   `json:"sign_response" doc:"sign the Response (RSA-SHA256, the tenant's RS256 key); on by default"`
	SignAssertion         *bool                   `json:"sign_assertion" doc:"sign the Assertion; on by default. At least one of the two is signed"`
	RequireSignedRequests *bool                   `json:"require_signed_requests" doc:"refuse AuthnRequests not signed with one of signing_certificates (a signed request is verified in any case)"`
	SigningCerts          []string                `json:"signing_certificates" doc:"the SP's request-signing certificates, PEM or base64 DER"`
	EncryptionCert        *string                 `json:"encryption_certificate" doc:"the SP's encryption certificate, PEM or base64 DER"`
	EncryptAssertions     *bool                   `json:"encrypt_assertions" doc:"encrypt assertions to encryption_certificate"`
	Access                *string                 `json:"access" enum:"everyone,roles,groups" doc:"who may use the application: every user of the tenant (the default), holders of access_roles, or members of access_groups"`
	AccessRoles           []string                `json:"access_roles" doc:"role ids or names"`
	AccessGroups          []string                `json:"access_groups" doc:"group ids or names"`
	Enabled               *bool                   `json:"enabled" doc:"a disabled application is refused sign-ins"`
}

func (b samlAppBody) input() admin.SAMLAppInput {
	return admin.SAMLAppInput{Name: b.Name, MetadataXML: b.MetadataXML, MetadataURL: b.MetadataURL, EntityID: b.EntityID, ACS: b.ACS,
		SLOURL: b.SLOURL, SLOBinding: b.SLOBinding, NameIDFormat: b.NameIDFormat, NameIDSource: b.NameIDSource, Attributes: b.Attributes, SignResponse: b.SignResponse,
		SignAssertion: b.SignAssertion, RequireSignedRequests: b.RequireSignedRequests, SigningCerts: b.SigningCerts,
		EncryptionCert: b.EncryptionCert, EncryptAssertions: b.EncryptAssertions, Access: b.Access, AccessRoles: b.AccessRoles,
		AccessGroups: b.AccessGroups, Enabled: b.Enabled}
}

func (h *Handler) listSAMLApps(c echo.Context) error {
	ctx, _, err := h.tenant(c)
	if err != nil {
		return err
	}
	as, err := h.svc.ListSAMLApps(ctx)
	if err != nil {
		return err
	}
	page, err := paginate(c, as, func(a *admin.SAMLApp) string { return a.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) createSAMLApp(c echo.Context) error {
	ctx, t, err := h.tenant(c)
	if err != nil {
		return err
	}
	var b samlAppBody
	if err := decode(c, &b); err != nil {
		return err
	}
	a, err := h.svc.CreateSAMLApp(ctx, b.input())
	if err != nil {
		return err
	}
	return created(c, "/tenants/"+t.Slug+"/saml-apps/"+a.ID, a)
}

func (h *Handler) getSAMLApp(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.GetSAMLApp(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) updateSAMLApp(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	var b samlAppBody
	if err := decode(c, &b); err != nil {
		return err
	}
	a, err := h.svc.UpdateSAMLApp(ctx, id, b.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) deleteSAMLApp(c echo.Context) error {
	ctx, id, err := h.object(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSAMLApp(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
