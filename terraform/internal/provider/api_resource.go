package provider

import (
	"context"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

var _ resource.ResourceWithImportState = (*apiResource)(nil)

type apiResource struct{ c *client }

func newAPIResource() resource.Resource { return &apiResource{} }

type apiScope struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

type apiAPI struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Audience    string     `json:"audience"`
	Scopes      []apiScope `json:"scopes"`
	SigningAlg  string     `json:"signing_alg"`
	RBAC        bool       `json:"rbac"`
	TokenClaims []string   `json:"token_claims"`
	// ResourceServerClientID and RegistrationScopes: see the schema.
	ResourceServerClientID string   `json:"resource_server_client_id"`
	RegistrationScopes     []string `json:"registration_scopes"`
}

type apiModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	APIID       types.String `tfsdk:"api_id"`
	Name        types.String `tfsdk:"name"`
	Audience    types.String `tfsdk:"audience"`
	Scopes      types.List   `tfsdk:"scopes"`
	SigningAlg  types.String `tfsdk:"signing_alg"`
	RBAC        types.Bool   `tfsdk:"rbac"`
	TokenClaims types.Set    `tfsdk:"token_claims"`
	// ResourceServerClientID and RegistrationScopes: see the schema.
	ResourceServerClientID types.String `tfsdk:"resource_server_client_id"`
	RegistrationScopes     types.Set    `tfsdk:"registration_scopes"`
}

var scopeType = types.ObjectType{AttrTypes: map[string]attr.Type{"value": types.StringType, "description": types.StringType}}

func (r *apiResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api"
}

func (r *apiResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "An API (resource server) of a tenant and its scopes. Import with TENANT/API_ID.",
		Attributes: map[string]schema.Attribute{
			"id":       computedString("TENANT/API_ID."),
			"tenant":   schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"api_id":   computedString("The API's id."),
			"audience": schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The API's identifier, an absolute URI (RFC 8707); changing it replaces the API."},
			"name":     optString("Defaults to the audience."),
			"scopes": schema.ListNestedAttribute{Optional: true, Description: "The API's scopes; a scope left out is withdrawn from every application.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"value":       schema.StringAttribute{Required: true, Description: "The scope, such as read:orders."},
					"description": schema.StringAttribute{Optional: true, Computed: true, Description: "Shown on the consent page; defaults to the value in words."},
				}}},
			"signing_alg":               optString("JWS algorithm of the API's access tokens."),
			"rbac":                      optBool("Users get only the scopes their roles hold."),
			"token_claims":              optStringSet("Claims the API's access tokens carry for a user: roles, groups."),
			"resource_server_client_id": optString("The client_id of the confidential application that may introspect the API's tokens (RFC 7662); empty for none."),
			"registration_scopes":       optStringSet("The API's scopes a client that registers itself (RFC 7591) may be granted."),
		},
	}
}

func (r *apiResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (m *apiModel) body(ctx context.Context, diags *diag.Diagnostics, create bool) map[string]any {
	b := map[string]any{}
	if create {
		b["audience"] = m.Audience.ValueString()
	}
	if known(m.Name) {
		b["name"] = m.Name.ValueString()
	}
	scopes := []apiScope{}
	if known(m.Scopes) {
		var objs []types.Object
		diags.Append(m.Scopes.ElementsAs(ctx, &objs, false)...)
		for _, o := range objs {
			var s struct {
				Value       types.String `tfsdk:"value"`
				Description types.String `tfsdk:"description"`
			}
			diags.Append(o.As(ctx, &s, basetypes.ObjectAsOptions{})...)
			scopes = append(scopes, apiScope{Value: s.Value.ValueString(), Description: s.Description.ValueString()})
		}
	}
	b["scopes"] = scopes
	if known(m.SigningAlg) {
		b["signing_alg"] = m.SigningAlg.ValueString()
	}
	if known(m.RBAC) {
		b["rbac"] = m.RBAC.ValueBool()
	}
	if known(m.TokenClaims) {
		b["token_claims"] = stringsOf(ctx, m.TokenClaims, diags)
	}
	if known(m.ResourceServerClientID) {
		b["resource_server_client_id"] = m.ResourceServerClientID.ValueString()
	}
	if known(m.RegistrationScopes) {
		b["registration_scopes"] = stringsOf(ctx, m.RegistrationScopes, diags)
	}
	return b
}

func (m *apiModel) from(tenant string, a *apiAPI) {
	m.ID, m.Tenant, m.APIID = types.StringValue(tenant+"/"+a.ID), types.StringValue(tenant), types.StringValue(a.ID)
	m.Name, m.Audience, m.SigningAlg = types.StringValue(a.Name), types.StringValue(a.Audience), types.StringValue(a.SigningAlg)
	m.RBAC, m.TokenClaims = types.BoolValue(a.RBAC), stringSet(a.TokenClaims)
	m.ResourceServerClientID, m.RegistrationScopes = types.StringValue(a.ResourceServerClientID), stringSet(a.RegistrationScopes)
	if len(a.Scopes) == 0 && m.Scopes.IsNull() {
		return // none configured, none there
	}
	elems := make([]attr.Value, len(a.Scopes))
	for i, s := range a.Scopes {
		elems[i] = types.ObjectValueMust(scopeType.AttrTypes, map[string]attr.Value{"value": types.StringValue(s.Value), "description": types.StringValue(s.Description)})
	}
	m.Scopes = types.ListValueMust(scopeType, elems)
}

func (r *apiResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m apiModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.body(ctx, &resp.Diagnostics, true)
	if resp.Diagnostics.HasError() {
		return
	}
	var a apiAPI
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", m.Tenant.ValueString(), "apis"), body, &a); err != nil {
		fail(&resp.Diagnostics, "create API", err)
		return
	}
	m.from(m.Tenant.ValueString(), &a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *apiResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m apiModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var a apiAPI
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "apis", m.APIID.ValueString()), nil, &a); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read API", err)
		return
	}
	m.from(m.Tenant.ValueString(), &a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *apiResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior apiModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body := m.body(ctx, &resp.Diagnostics, false)
	if resp.Diagnostics.HasError() {
		return
	}
	var a apiAPI
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "apis", prior.APIID.ValueString()), body, &a); err != nil {
		fail(&resp.Diagnostics, "update API", err)
		return
	}
	m.from(prior.Tenant.ValueString(), &a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *apiResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m apiModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "apis", m.APIID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete API", err)
	}
}

func (r *apiResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "api_id")
}
