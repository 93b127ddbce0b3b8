package provider

import (
	"context"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

var _ resource.ResourceWithImportState = (*samlAppResource)(nil)

type samlAppResource struct{ c *client }

func newSAMLAppResource() resource.Resource { return &samlAppResource{} }

type apiSAMLEndpoint struct {
	URL   string `json:"url"`
	Index int64  `json:"index"`
}

type apiSAMLAttribute struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

type apiSAMLApp struct {
	ID                    string             `json:"id"`
	Name                  string             `json:"name"`
	EntityID              string             `json:"entity_id"`
	ACS                   []apiSAMLEndpoint  `json:"acs"`
	SLOURL                string             `json:"slo_url"`
	NameIDFormat          string             `json:"name_id_format"`
	NameIDSource          string             `json:"name_id_source"`
	Attributes            []apiSAMLAttribute `json:"attributes"`
	SignResponse          bool               `json:"sign_response"`
	SignAssertion         bool               `json:"sign_assertion"`
	RequireSignedRequests bool               `json:"require_signed_requests"`
	SigningCerts          []string           `json:"signing_certificates"`
	EncryptionCert        string             `json:"encryption_certificate"`
	EncryptAssertions     bool               `json:"encrypt_assertions"`
	Access                string             `json:"access"`
	AccessRoles           []string           `json:"access_roles"`
	AccessGroups          []string           `json:"access_groups"`
	Enabled               bool               `json:"enabled"`
	MetadataURL           string             `json:"metadata_url"`
	SSOURL                string             `json:"sso_url"`
	LaunchURL             string             `json:"launch_url"`
}

type samlAppModel struct {
	ID                    types.String `tfsdk:"id"`
	Tenant                types.String `tfsdk:"tenant"`
	AppID                 types.String `tfsdk:"saml_app_id"`
	Name                  types.String `tfsdk:"name"`
	EntityID              types.String `tfsdk:"entity_id"`
	ACS                   types.List   `tfsdk:"acs"`
	SLOURL                types.String `tfsdk:"slo_url"`
	NameIDFormat          types.String `tfsdk:"name_id_format"`
	NameIDSource          types.String `tfsdk:"name_id_source"`
	Attributes            types.List   `tfsdk:"attributes"`
	SignResponse          types.Bool   `tfsdk:"sign_response"`
	SignAssertion         types.Bool   `tfsdk:"sign_assertion"`
	RequireSignedRequests types.Bool   `tfsdk:"require_signed_requests"`
	SigningCerts          types.Set    `tfsdk:"signing_certificates"`
	EncryptionCert        types.String `tfsdk:"encryption_certificate"`
	EncryptAssertions     types.Bool   `tfsdk:"encrypt_assertions"`
	Access                types.String `tfsdk:"access"`
	AccessRoles           types.Set    `tfsdk:"access_roles"`
	AccessGroups          types.Set    `tfsdk:"access_groups"`
	Enabled               types.Bool   `tfsdk:"enabled"`
	MetadataURL           types.String `tfsdk:"metadata_url"`
	SSOURL                types.String `tfsdk:"sso_url"`
	LaunchURL             types.String `tfsdk:"launch_url"`
}

var (
	acsType       = types.ObjectType{AttrTypes: map[string]attr.Type{"url": types.StringType, "index": types.Int64Type}}
	attributeType = types.ObjectType{AttrTypes: map[string]attr.Type{"name": types.StringType, "source": types.StringType}}
	keepList      = []planmodifier.List{listplanmodifier.UseStateForUnknown()}
)

func (r *samlAppResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_saml_app"
}

func (r *samlAppResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A SAML application (a service provider) that signs its users in through the tenant, Gatehouse being the identity provider. Import with TENANT/SAML_APP_ID.",
		Attributes: map[string]schema.Attribute{
			"id":          computedString("TENANT/SAML_APP_ID."),
			"tenant":      schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"saml_app_id": computedString("The application's id."),
			"name":        schema.StringAttribute{Required: true, Description: "Shown to users and in the console."},
			"entity_id":   schema.StringAttribute{Required: true, Description: "The SP's entity ID (the Audience of the assertions); unique in the tenant."},
			"acs": schema.ListNestedAttribute{Required: true, Description: "The SP's assertion consumer services (HTTP-POST); the lowest index is the default.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"url":   schema.StringAttribute{Required: true, Description: "https (http only on loopback hosts)."},
					"index": schema.Int64Attribute{Optional: true, Computed: true, PlanModifiers: keepInt, Description: "Defaults to its place in the list, from 1."},
				}}},
			"slo_url":        optString("The SP's single logout service; empty for none."),
			"name_id_format": optString("The NameID format; defaults from name_id_source."),
			"name_id_source": optString("email (the default), persistent or user_id."),
			"attributes": schema.ListNestedAttribute{Optional: true, Computed: true, PlanModifiers: keepList,
				Description: "The attribute statement: each attribute's name and source (email, email_verified, name, given_name, family_name, user_id, groups, roles).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":   schema.StringAttribute{Required: true},
					"source": schema.StringAttribute{Required: true},
				}}},
			"sign_response":           optBool("Sign the Response; defaults to true."),
			"sign_assertion":          optBool("Sign the Assertion; defaults to true."),
			"require_signed_requests": optBool("Refuse AuthnRequests not signed with one of signing_certificates."),
			"signing_certificates":    optStringSet("The SP's request-signing certificates, base64 DER."),
			"encryption_certificate":  optString("The SP's encryption certificate, base64 DER."),
			"encrypt_assertions":      optBool("Encrypt assertions to encryption_certificate."),
			"access":                  optString("everyone (the default), roles or groups."),
			"access_roles":            optStringSet("Role ids whose holders may use the application (access = roles)."),
			"access_groups":           optStringSet("Group ids whose members may use the application (access = groups)."),
			"enabled":                 optBool("A disabled application is refused sign-ins; defaults to true."),
			"metadata_url":            computedString("The tenant's IdP metadata (its entity ID): give it to the SP."),
			"sso_url":                 computedString("The IdP's single sign-on service."),
			"launch_url":              computedString("Starts an IdP-initiated sign-in to the application."),
		},
	}
}

func (r *samlAppResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (m *samlAppModel) body(ctx context.Context, diags *diag.Diagnostics) map[string]any {
	b := map[string]any{"name": m.Name.ValueString(), "entity_id": m.EntityID.ValueString()}
	var acs []types.Object
	diags.Append(m.ACS.ElementsAs(ctx, &acs, false)...)
	eps := []apiSAMLEndpoint{}
	for _, o := range acs {
		var e struct {
			URL   types.String `tfsdk:"url"`
			Index types.Int64  `tfsdk:"index"`
		}
		diags.Append(o.As(ctx, &e, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		eps = append(eps, apiSAMLEndpoint{URL: e.URL.ValueString(), Index: e.Index.ValueInt64()})
	}
	b["acs"] = eps
	if known(m.Attributes) {
		var objs []types.Object
		diags.Append(m.Attributes.ElementsAs(ctx, &objs, false)...)
		attrs := []apiSAMLAttribute{}
		for _, o := range objs {
			var a struct {
				Name   types.String `tfsdk:"name"`
				Source types.String `tfsdk:"source"`
			}
			diags.Append(o.As(ctx, &a, basetypes.ObjectAsOptions{})...)
			attrs = append(attrs, apiSAMLAttribute{Name: a.Name.ValueString(), Source: a.Source.ValueString()})
		}
		b["attributes"] = attrs
	}
	for k, v := range map[string]types.String{"slo_url": m.SLOURL, "name_id_format": m.NameIDFormat, "name_id_source": m.NameIDSource,
		"encryption_certificate": m.EncryptionCert, "access": m.Access} {
		if known(v) {
			b[k] = v.ValueString()
		}
	}
	for k, v := range map[string]types.Bool{"sign_response": m.SignResponse, "sign_assertion": m.SignAssertion,
		"require_signed_requests": m.RequireSignedRequests, "encrypt_assertions": m.EncryptAssertions, "enabled": m.Enabled} {
		if known(v) {
			b[k] = v.ValueBool()
		}
	}
	for k, v := range map[string]types.Set{"signing_certificates": m.SigningCerts, "access_roles": m.AccessRoles, "access_groups": m.AccessGroups} {
		if known(v) {
			b[k] = stringsOf(ctx, v, diags)
		}
	}
	return b
}

func (m *samlAppModel) from(tenant string, a *apiSAMLApp) {
	m.ID, m.Tenant, m.AppID = types.StringValue(tenant+"/"+a.ID), types.StringValue(tenant), types.StringValue(a.ID)
	m.Name, m.EntityID, m.SLOURL = types.StringValue(a.Name), types.StringValue(a.EntityID), types.StringValue(a.SLOURL)
	m.NameIDFormat, m.NameIDSource = types.StringValue(a.NameIDFormat), types.StringValue(a.NameIDSource)
	acs := make([]attr.Value, len(a.ACS))
	for i, e := range a.ACS {
		acs[i] = types.ObjectValueMust(acsType.AttrTypes, map[string]attr.Value{"url": types.StringValue(e.URL), "index": types.Int64Value(e.Index)})
	}
	m.ACS = types.ListValueMust(acsType, acs)
	attrs := make([]attr.Value, len(a.Attributes))
	for i, at := range a.Attributes {
		attrs[i] = types.ObjectValueMust(attributeType.AttrTypes, map[string]attr.Value{"name": types.StringValue(at.Name), "source": types.StringValue(at.Source)})
	}
	m.Attributes = types.ListValueMust(attributeType, attrs)
	m.SignResponse, m.SignAssertion = types.BoolValue(a.SignResponse), types.BoolValue(a.SignAssertion)
	m.RequireSignedRequests, m.EncryptAssertions = types.BoolValue(a.RequireSignedRequests), types.BoolValue(a.EncryptAssertions)
	m.SigningCerts, m.EncryptionCert = stringSet(a.SigningCerts), types.StringValue(a.EncryptionCert)
	m.Access, m.AccessRoles, m.AccessGroups = types.StringValue(a.Access), stringSet(a.AccessRoles), stringSet(a.AccessGroups)
	m.Enabled = types.BoolValue(a.Enabled)
	m.MetadataURL, m.SSOURL, m.LaunchURL = types.StringValue(a.MetadataURL), types.StringValue(a.SSOURL), types.StringValue(a.LaunchURL)
}

func (r *samlAppResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m samlAppModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiSAMLApp
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", m.Tenant.ValueString(), "saml-apps"), body, &out); err != nil {
		fail(&resp.Diagnostics, "create SAML application", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *samlAppResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m samlAppModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiSAMLApp
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "saml-apps", m.AppID.ValueString()), nil, &out); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read SAML application", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *samlAppResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior samlAppModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiSAMLApp
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "saml-apps", prior.AppID.ValueString()), body, &out); err != nil {
		fail(&resp.Diagnostics, "update SAML application", err)
		return
	}
	m.from(prior.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *samlAppResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m samlAppModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "saml-apps", m.AppID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete SAML application", err)
	}
}

func (r *samlAppResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "saml_app_id")
}
