// Package provider is the Terraform provider of Gatehouse, over the
// management API (/api/v1): tenants, applications, APIs, roles, groups,
// connections and webhooks as resources, and data sources to look tenants
// and APIs up.
package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Address is the provider's source address, as a configuration's
// required_providers names it.
const Address = "registry.terraform.io/gatehouse-id/gatehouse"

var _ provider.Provider = (*gatehouseProvider)(nil)

type gatehouseProvider struct{ version string }

// New returns a constructor of the provider, for providerserver.Serve and
// the acceptance tests.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &gatehouseProvider{version: version} }
}

type providerModel struct {
	URL          types.String `tfsdk:"url"`
	TokenURL     types.String `tfsdk:"token_url"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
}

func (p *gatehouseProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "gatehouse"
	resp.Version = p.version
}

func (p *gatehouseProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages Gatehouse tenants and what they own through the management API, as a management client (gatehouse admin client create).",
		Attributes: map[string]schema.Attribute{
			"url": schema.StringAttribute{Optional: true,
				Description: "The apex URL of Gatehouse (GATEHOUSE_BASE_URL), such as https://id.example.com; or GATEHOUSE_URL."},
			"token_url": schema.StringAttribute{Optional: true,
				Description: "The system tenant's token endpoint; defaults to https://admin.<apex host>/oauth/token; or GATEHOUSE_TOKEN_URL."},
			"client_id": schema.StringAttribute{Optional: true,
				Description: "The management client's client_id; or GATEHOUSE_CLIENT_ID."},
			"client_secret": schema.StringAttribute{Optional: true, Sensitive: true,
				Description: "The management client's secret; or GATEHOUSE_CLIENT_SECRET."},
		},
	}
}

func (p *gatehouseProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pick := func(v types.String, env string) string {
		if !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
			return v.ValueString()
		}
		return os.Getenv(env)
	}
	apex, tokenURL := pick(m.URL, "GATEHOUSE_URL"), pick(m.TokenURL, "GATEHOUSE_TOKEN_URL")
	id, secret := pick(m.ClientID, "GATEHOUSE_CLIENT_ID"), pick(m.ClientSecret, "GATEHOUSE_CLIENT_SECRET")
	if apex == "" || id == "" || secret == "" {
		resp.Diagnostics.AddError("Gatehouse provider is not configured",
			"Set url, client_id and client_secret (or GATEHOUSE_URL, GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET) to those of a management client.")
		return
	}
	c, err := newClient(apex, tokenURL, id, secret)
	if err != nil {
		resp.Diagnostics.AddError("Gatehouse provider: bad url", err.Error())
		return
	}
	resp.ResourceData, resp.DataSourceData = c, c
}

func (p *gatehouseProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newTenantResource, newApplicationResource, newAPIResource, newRoleResource, newGroupResource, newWebhookResource, newConnectionResource,
		newClaimRuleResource, newSAMLAppResource,
	}
}

func (p *gatehouseProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newTenantDataSource, newAPIDataSource, newApplicationDataSource}
}
