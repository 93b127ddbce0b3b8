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

var _ resource.ResourceWithImportState = (*applicationResource)(nil)

type applicationResource struct{ c *client }

func newApplicationResource() resource.Resource { return &applicationResource{} }

type apiGrant struct {
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

type apiApplication struct {
	ClientID                           string     `json:"client_id"`
	ClientSecret                       string     `json:"client_secret"`
	ClientName                         string     `json:"client_name"`
	ApplicationType                    string     `json:"application_type"`
	TokenEndpointAuthMethod            string     `json:"token_endpoint_auth_method"`
	GrantTypes                         []string   `json:"grant_types"`
	RedirectURIs                       []string   `json:"redirect_uris"`
	PostLogoutRedirectURIs             []string   `json:"post_logout_redirect_uris"`
	APIGrants                          []apiGrant `json:"api_grants"`
	IDTokenSignedResponseAlg           string     `json:"id_token_signed_response_alg"`
	RequirePushedAuthorizationRequests bool       `json:"require_pushed_authorization_requests"`
	Consent                            string     `json:"consent"`
	RefreshTokenGracePeriod            int64      `json:"refresh_token_grace_period"`
	DPoPBoundAccessTokens              bool       `json:"dpop_bound_access_tokens"`
	BackchannelLogoutURI               string     `json:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired   bool       `json:"backchannel_logout_session_required"`
	JWKSURI                            string     `json:"jwks_uri"`
	ClaimFormat                        string     `json:"claim_format"`
	LogoURI                            string     `json:"logo_uri"`
}

type applicationModel struct {
	ID                                 types.String `tfsdk:"id"`
	Tenant                             types.String `tfsdk:"tenant"`
	Kind                               types.String `tfsdk:"kind"`
	Name                               types.String `tfsdk:"name"`
	ClientID                           types.String `tfsdk:"client_id"`
	ClientSecret                       types.String `tfsdk:"client_secret"`
	TokenEndpointAuthMethod            types.String `tfsdk:"token_endpoint_auth_method"`
	GrantTypes                         types.Set    `tfsdk:"grant_types"`
	RedirectURIs                       types.List   `tfsdk:"redirect_uris"`
	PostLogoutRedirectURIs             types.List   `tfsdk:"post_logout_redirect_uris"`
	Grants                             types.Set    `tfsdk:"api_grants"`
	IDTokenSignedResponseAlg           types.String `tfsdk:"id_token_signed_response_alg"`
	RequirePushedAuthorizationRequests types.Bool   `tfsdk:"require_pushed_authorization_requests"`
	Consent                            types.String `tfsdk:"consent"`
	RefreshTokenGracePeriod            types.Int64  `tfsdk:"refresh_token_grace_period"`
	DPoPBoundAccessTokens              types.Bool   `tfsdk:"dpop_bound_access_tokens"`
	BackchannelLogoutURI               types.String `tfsdk:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired   types.Bool   `tfsdk:"backchannel_logout_session_required"`
	JWKSURI                            types.String `tfsdk:"jwks_uri"`
	ClaimFormat                        types.String `tfsdk:"claim_format"`
	LogoURI                            types.String `tfsdk:"logo_uri"`
}

var grantType = types.ObjectType{AttrTypes: map[string]attr.Type{"audience": types.StringType, "scopes": types.SetType{ElemType: types.StringType}}}

func (r *applicationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_application"
}

func optStringList(desc string) schema.ListAttribute {
	return schema.ListAttribute{Optional: true, Computed: true, ElementType: types.StringType,
		PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()}, Description: desc}
}

func (r *applicationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "An application (OAuth client) of a tenant. Import with TENANT/CLIENT_ID (the secret is then unknown).",
		Attributes: map[string]schema.Attribute{
			"id":        computedString("TENANT/CLIENT_ID."),
			"tenant":    schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"kind":      schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "web, spa, native or machine."},
			"name":      schema.StringAttribute{Required: true, Description: "The application's name, shown on the consent page."},
			"client_id": computedString("The application's client_id."),
			"client_secret": schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: keepString,
				Description: "The secret of a web or machine application, known from its creation only."},
			"token_endpoint_auth_method":            optString("client_secret_basic, client_secret_post, client_secret_jwt or private_key_jwt (confidential), none (public)."),
			"grant_types":                           optStringSet("Grant types the application uses; defaults by kind."),
			"redirect_uris":                         optStringList("Exact redirect URIs."),
			"post_logout_redirect_uris":             optStringList("Where the application may send users after logout."),
			"id_token_signed_response_alg":          optString("JWS algorithm of the application's ID tokens."),
			"require_pushed_authorization_requests": optBool("The application must push its authorization requests (RFC 9126)."),
			"consent":                               optString("required (the default): users are asked to consent; skip: a first-party application of the tenant."),
			"refresh_token_grace_period":            optInt("Seconds (0 to 60) after a refresh token was rotated that the application may present it again."),
			"dpop_bound_access_tokens":              optBool("The application must send a DPoP proof with every token request (RFC 9449)."),
			"backchannel_logout_uri":                optString("Where the application hears of its users' logouts (OpenID Connect Back-Channel Logout); empty for nowhere."),
			"backchannel_logout_session_required":   optBool("Every logout token the application gets names the session (sid)."),
			"jwks_uri":                              optString("private_key_jwt: where the application publishes its JSON Web Key Set."),
			"claim_format":                          optString("names (the default): the roles and groups claims of the application's tokens carry names; ids: their stable ids."),
			"logo_uri":                              optString("https URL of the logo the consent page shows; empty for none."),
			"api_grants": schema.SetNestedAttribute{Optional: true, Computed: true, Description: "The API scopes the application may request, per API audience.",
				PlanModifiers: keepSet,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"audience": schema.StringAttribute{Required: true, Description: "The API's audience."},
					"scopes":   schema.SetAttribute{Required: true, ElementType: types.StringType, Description: "Scopes of the API."},
				}}},
		},
	}
}

func (r *applicationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (m *applicationModel) body(ctx context.Context, diags *diag.Diagnostics, create bool) map[string]any {
	b := map[string]any{"client_name": m.Name.ValueString()}
	if create {
		b["kind"] = m.Kind.ValueString()
	}
	if known(m.TokenEndpointAuthMethod) {
		b["token_endpoint_auth_method"] = m.TokenEndpointAuthMethod.ValueString()
	}
	if known(m.GrantTypes) {
		b["grant_types"] = stringsOf(ctx, m.GrantTypes, diags)
	}
	if known(m.RedirectURIs) {
		b["redirect_uris"] = stringsOf(ctx, m.RedirectURIs, diags)
	}
	if known(m.PostLogoutRedirectURIs) {
		b["post_logout_redirect_uris"] = stringsOf(ctx, m.PostLogoutRedirectURIs, diags)
	}
	if known(m.IDTokenSignedResponseAlg) {
		b["id_token_signed_response_alg"] = m.IDTokenSignedResponseAlg.ValueString()
	}
	if known(m.RequirePushedAuthorizationRequests) {
		b["require_pushed_authorization_requests"] = m.RequirePushedAuthorizationRequests.ValueBool()
	}
	if known(m.Consent) {
		b["consent"] = m.Consent.ValueString()
	}
	if known(m.RefreshTokenGracePeriod) {
		b["refresh_token_grace_period"] = m.RefreshTokenGracePeriod.ValueInt64()
	}
	if known(m.DPoPBoundAccessTokens) {
		b["dpop_bound_access_tokens"] = m.DPoPBoundAccessTokens.ValueBool()
	}
	if known(m.BackchannelLogoutURI) {
		b["backchannel_logout_uri"] = m.BackchannelLogoutURI.ValueString()
	}
	if known(m.BackchannelLogoutSessionRequired) {
		b["backchannel_logout_session_required"] = m.BackchannelLogoutSessionRequired.ValueBool()
	}
	if known(m.ClaimFormat) {
		b["claim_format"] = m.ClaimFormat.ValueString()
	}
	if known(m.LogoURI) {
		b["logo_uri"] = m.LogoURI.ValueString()
	}
	if known(m.JWKSURI) && m.JWKSURI.ValueString() != "" {
		b["jwks_uri"] = m.JWKSURI.ValueString()
	}
	return b
}

// grants returns the api_grants of m; nil when they are not known.
func (m *applicationModel) grants(ctx context.Context, diags *diag.Diagnostics) []apiGrant {
	if !known(m.Grants) {
		return nil
	}
	var objs []types.Object
	diags.Append(m.Grants.ElementsAs(ctx, &objs, false)...)
	out := []apiGrant{}
	for _, o := range objs {
		var g struct {
			Audience types.String `tfsdk:"audience"`
			Scopes   types.Set    `tfsdk:"scopes"`
		}
		diags.Append(o.As(ctx, &g, basetypes.ObjectAsOptions{})...)
		out = append(out, apiGrant{Audience: g.Audience.ValueString(), Scopes: stringsOf(ctx, g.Scopes, diags)})
	}
	return out
}

func (m *applicationModel) from(tenant string, a *apiApplication) {
	m.ID, m.Tenant, m.ClientID = types.StringValue(tenant+"/"+a.ClientID), types.StringValue(tenant), types.StringValue(a.ClientID)
	m.Kind, m.Name = types.StringValue(a.ApplicationType), types.StringValue(a.ClientName)
	m.TokenEndpointAuthMethod, m.GrantTypes = types.StringValue(a.TokenEndpointAuthMethod), stringSet(a.GrantTypes)
	m.RedirectURIs, m.PostLogoutRedirectURIs = stringList(a.RedirectURIs), stringList(a.PostLogoutRedirectURIs)
	m.IDTokenSignedResponseAlg = types.StringValue(a.IDTokenSignedResponseAlg)
	m.RequirePushedAuthorizationRequests = types.BoolValue(a.RequirePushedAuthorizationRequests)
	m.Consent, m.RefreshTokenGracePeriod = types.StringValue(a.Consent), types.Int64Value(a.RefreshTokenGracePeriod)
	m.DPoPBoundAccessTokens, m.BackchannelLogoutURI = types.BoolValue(a.DPoPBoundAccessTokens), types.StringValue(a.BackchannelLogoutURI)
	m.BackchannelLogoutSessionRequired, m.JWKSURI = types.BoolValue(a.BackchannelLogoutSessionRequired), types.StringValue(a.JWKSURI)
	m.ClaimFormat, m.LogoURI = types.StringValue(a.ClaimFormat), types.StringValue(a.LogoURI)
	elems := make([]attr.Value, len(a.APIGrants))
	for i, g := range a.APIGrants {
		elems[i] = types.ObjectValueMust(grantType.AttrTypes, map[string]attr.Value{"audience": types.StringValue(g.Audience), "scopes": stringSet(g.Scopes)})
	}
	m.Grants = types.SetValueMust(grantType, elems)
	if a.ClientSecret != "" {
		m.ClientSecret = types.StringValue(a.ClientSecret)
	}
	if m.ClientSecret.IsUnknown() {
		m.ClientSecret = types.StringNull()
	}
}

func (r *applicationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m applicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	grants := m.grants(ctx, &resp.Diagnostics)
	body := m.body(ctx, &resp.Diagnostics, true)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant := m.Tenant.ValueString()
	var a apiApplication
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", tenant, "applications"), body, &a); err != nil {
		fail(&resp.Diagnostics, "create application", err)
		return
	}
	secret := a.ClientSecret
	if grants != nil {
		if err := r.c.do(ctx, http.MethodPut, apiPath("tenants", tenant, "applications", a.ClientID, "grants"), grants, &a); err != nil {
			a.ClientSecret = secret
			m.from(tenant, &a)
			resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
			fail(&resp.Diagnostics, "grant the new application its API scopes", err)
			return
		}
		a.ClientSecret = secret
	}
	m.from(tenant, &a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *applicationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m applicationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, clientID := m.Tenant.ValueString(), m.ClientID.ValueString()
	var a apiApplication
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", tenant, "applications", clientID), nil, &a); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read application", err)
		return
	}
	m.from(tenant, &a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *applicationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior applicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	grants := m.grants(ctx, &resp.Diagnostics)
	body := m.body(ctx, &resp.Diagnostics, false)
	if resp.Diagnostics.HasError() {
		return
	}
	tenant, clientID := prior.Tenant.ValueString(), prior.ClientID.ValueString()
	var a apiApplication
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", tenant, "applications", clientID), body, &a); err != nil {
		fail(&resp.Diagnostics, "update application", err)
		return
	}
	if grants != nil {
		if err := r.c.do(ctx, http.MethodPut, apiPath("tenants", tenant, "applications", clientID, "grants"), grants, &a); err != nil {
			fail(&resp.Diagnostics, "set the application's API scopes", err)
			return
		}
	}
	m.ClientSecret = prior.ClientSecret
	m.from(tenant, &a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *applicationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m applicationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "applications", m.ClientID.ValueString()), nil, nil)
	if err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete application", err)
	}
}

func (r *applicationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "client_id")
}
