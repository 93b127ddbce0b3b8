package provider

import (
	"context"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type tenantDataSource struct{ c *client }

func newTenantDataSource() datasource.DataSource { return &tenantDataSource{} }

type tenantDataModel struct {
	Slug         types.String `tfsdk:"slug"`
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Issuer       types.String `tfsdk:"issuer"`
	DiscoveryURL types.String `tfsdk:"discovery_url"`
}

func (d *tenantDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant"
}

func (d *tenantDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Looks a tenant up by its slug: its issuer and discovery URL, for the relying parties configured next to it.",
		Attributes: map[string]schema.Attribute{
			"slug":          schema.StringAttribute{Required: true},
			"id":            schema.StringAttribute{Computed: true, Description: "The tenant's id."},
			"name":          schema.StringAttribute{Computed: true},
			"issuer":        schema.StringAttribute{Computed: true},
			"discovery_url": schema.StringAttribute{Computed: true},
		},
	}
}

func (d *tenantDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (d *tenantDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m tenantDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var t apiTenant
	if err := d.c.do(ctx, http.MethodGet, apiPath("tenants", m.Slug.ValueString()), nil, &t); err != nil {
		fail(&resp.Diagnostics, "look the tenant up", err)
		return
	}
	m.ID, m.Name, m.Issuer, m.DiscoveryURL = types.StringValue(t.ID), types.StringValue(t.Name), types.StringValue(t.Issuer), types.StringValue(t.DiscoveryURL)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

type apiDataSource struct{ c *client }

func newAPIDataSource() datasource.DataSource { return &apiDataSource{} }

type apiDataModel struct {
	Tenant   types.String `tfsdk:"tenant"`
	Audience types.String `tfsdk:"audience"`
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	Scopes   types.List   `tfsdk:"scopes"`
}

func (d *apiDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api"
}

func (d *apiDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Looks an API of a tenant up by its audience.",
		Attributes: map[string]schema.Attribute{
			"tenant":   schema.StringAttribute{Required: true, Description: "The tenant's slug."},
			"audience": schema.StringAttribute{Required: true},
			"id":       schema.StringAttribute{Computed: true, Description: "The API's id."},
			"name":     schema.StringAttribute{Computed: true},
			"scopes":   schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "The values of the API's scopes."},
		},
	}
}

func (d *apiDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (d *apiDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m apiDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	apis, err := list[apiAPI](ctx, d.c, apiPath("tenants", m.Tenant.ValueString(), "apis"))
	if err != nil {
		fail(&resp.Diagnostics, "list the tenant's APIs", err)
		return
	}
	for _, a := range apis {
		if a.Audience != m.Audience.ValueString() {
			continue
		}
		scopes := make([]string, len(a.Scopes))
		for i, s := range a.Scopes {
			scopes[i] = s.Value
		}
		m.ID, m.Name, m.Scopes = types.StringValue(a.ID), types.StringValue(a.Name), stringList(scopes)
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
		return
	}
	resp.Diagnostics.AddError("Gatehouse: no such API", "tenant "+m.Tenant.ValueString()+" has no API with audience "+m.Audience.ValueString())
}

type applicationDataSource struct{ c *client }

func newApplicationDataSource() datasource.DataSource { return &applicationDataSource{} }

type applicationDataModel struct {
	Tenant                  types.String `tfsdk:"tenant"`
	Name                    types.String `tfsdk:"name"`
	ClientID                types.String `tfsdk:"client_id"`
	Kind                    types.String `tfsdk:"kind"`
	TokenEndpointAuthMethod types.String `tfsdk:"token_endpoint_auth_method"`
	RedirectURIs            types.List   `tfsdk:"redirect_uris"`
}

func (d *applicationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_application"
}

func (d *applicationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Looks an application of a tenant up by its name (one application of that name): its client_id, for a relying party configured next to it. Its secret is never read.",
		Attributes: map[string]schema.Attribute{
			"tenant":                     schema.StringAttribute{Required: true, Description: "The tenant's slug."},
			"name":                       schema.StringAttribute{Required: true},
			"client_id":                  schema.StringAttribute{Computed: true},
			"kind":                       schema.StringAttribute{Computed: true, Description: "web, spa, native or machine."},
			"token_endpoint_auth_method": schema.StringAttribute{Computed: true},
			"redirect_uris":              schema.ListAttribute{Computed: true, ElementType: types.StringType},
		},
	}
}

func (d *applicationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (d *applicationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m applicationDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	apps, err := list[apiApplication](ctx, d.c, apiPath("tenants", m.Tenant.ValueString(), "applications"))
	if err != nil {
		fail(&resp.Diagnostics, "list the tenant's applications", err)
		return
	}
	var found *apiApplication
	for i := range apps {
		if apps[i].ClientName != m.Name.ValueString() {
			continue
		}
		if found != nil {
			resp.Diagnostics.AddError("Gatehouse: more than one application", "tenant "+m.Tenant.ValueString()+" has several applications named "+m.Name.ValueString())
			return
		}
		found = &apps[i]
	}
	if found == nil {
		resp.Diagnostics.AddError("Gatehouse: no such application", "tenant "+m.Tenant.ValueString()+" has no application named "+m.Name.ValueString())
		return
	}
	m.ClientID, m.Kind = types.StringValue(found.ClientID), types.StringValue(found.ApplicationType)
	m.TokenEndpointAuthMethod, m.RedirectURIs = types.StringValue(found.TokenEndpointAuthMethod), stringList(found.RedirectURIs)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
