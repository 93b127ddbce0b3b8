package provider

import (
	"context"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*connectionResource)(nil)

type connectionResource struct{ c *client }

func newConnectionResource() resource.Resource { return &connectionResource{} }

type apiConnection struct {
	ID              string   `json:"id"`
	Type            string   `json:"type"`
	Name            string   `json:"name"`
	Enabled         bool     `json:"enabled"`
	Domains         []string `json:"domains"`
	TrustEmail      bool     `json:"trust_email"`
	Provisioning    string   `json:"provisioning"`
	ClientID        string   `json:"client_id"`
	Issuer          string   `json:"issuer"`
	CallbackURL     string   `json:"callback_url"`
	EntityID        string   `json:"entity_id"`
	ACSURL          string   `json:"acs_url"`
	IdPMetadataURL  string   `json:"idp_metadata_url"`
	MicrosoftTenant string   `json:"microsoft_tenant"`
}

type connectionModel struct {
	ID              types.String `tfsdk:"id"`
	Tenant          types.String `tfsdk:"tenant"`
	ConnectionID    types.String `tfsdk:"connection_id"`
	Type            types.String `tfsdk:"type"`
	Name            types.String `tfsdk:"name"`
	Enabled         types.Bool   `tfsdk:"enabled"`
	Domains         types.Set    `tfsdk:"domains"`
	TrustEmail      types.Bool   `tfsdk:"trust_email"`
	Provisioning    types.String `tfsdk:"provisioning"`
	ClientID        types.String `tfsdk:"client_id"`
	ClientSecret    types.String `tfsdk:"client_secret"`
	Issuer          types.String `tfsdk:"issuer"`
	MetadataXML     types.String `tfsdk:"metadata_xml"`
	MetadataURL     types.String `tfsdk:"metadata_url"`
	MicrosoftTenant types.String `tfsdk:"microsoft_tenant"`
	CallbackURL     types.String `tfsdk:"callback_url"`
	EntityID        types.String `tfsdk:"entity_id"`
	ACSURL          types.String `tfsdk:"acs_url"`
}

func (r *connectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_connection"
}

func (r *connectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A connection of a tenant: an upstream identity provider (google, github, microsoft, oidc, saml). " +
			"The client secret and SAML metadata XML are write-only at the server: terraform keeps what the configuration gives. Import with TENANT/CONNECTION_ID.",
		Attributes: map[string]schema.Attribute{
			"id":               computedString("TENANT/CONNECTION_ID."),
			"tenant":           schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"connection_id":    computedString("The connection's id."),
			"type":             schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "google, github, microsoft, oidc or saml; changing it replaces the connection."},
			"name":             optString("Shown on the login page's button; unique in the tenant."),
			"enabled":          optBool("Offered on the login page."),
			"domains":          optStringSet("Email domains that go straight to this connection."),
			"trust_email":      optBool("Link a first login to the account with the same verified address."),
			"provisioning":     optString("tenant, create or existing: whether a first login creates a user."),
			"client_id":        schema.StringAttribute{Optional: true, Description: "google, github, microsoft, oidc: the client id at the provider."},
			"client_secret":    schema.StringAttribute{Optional: true, Sensitive: true, Description: "google, github, microsoft, oidc: the client secret at the provider (write-only)."},
			"issuer":           schema.StringAttribute{Optional: true, Description: "oidc: the provider's issuer URL."},
			"metadata_xml":     schema.StringAttribute{Optional: true, Description: "saml: the IdP's metadata (write-only)."},
			"metadata_url":     schema.StringAttribute{Optional: true, Description: "saml: where the IdP publishes its metadata."},
			"microsoft_tenant": optString("microsoft: the Entra tenant users sign in from."),
			"callback_url":     computedString("Where the provider sends users back (register it there)."),
			"entity_id":        computedString("saml: this service provider's entity id."),
			"acs_url":          computedString("saml: this service provider's assertion consumer service URL."),
		},
	}
}

func (r *connectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

// body is the create or update body; the secret and the metadata are sent
// when withSecrets (at creation, or when the configuration changed them).
func (m *connectionModel) body(ctx context.Context, diags *diag.Diagnostics, withSecrets bool) map[string]any {
	b := map[string]any{}
	put := func(k string, v any, ok bool) {
		if ok {
			b[k] = v
		}
	}
	put("name", m.Name.ValueString(), known(m.Name))
	put("enabled", m.Enabled.ValueBool(), known(m.Enabled))
	put("domains", stringsOf(ctx, m.Domains, diags), known(m.Domains))
	put("trust_email", m.TrustEmail.ValueBool(), known(m.TrustEmail))
	put("provisioning", m.Provisioning.ValueString(), known(m.Provisioning))
	put("client_id", m.ClientID.ValueString(), known(m.ClientID))
	put("issuer", m.Issuer.ValueString(), known(m.Issuer))
	put("metadata_url", m.MetadataURL.ValueString(), known(m.MetadataURL))
	put("microsoft_tenant", m.MicrosoftTenant.ValueString(), known(m.MicrosoftTenant))
	if withSecrets {
		put("client_secret", m.ClientSecret.ValueString(), known(m.ClientSecret))
		put("metadata_xml", m.MetadataXML.ValueString(), known(m.MetadataXML))
	}
	return b
}

func (m *connectionModel) from(tenant string, c *apiConnection) {
	m.ID, m.Tenant, m.ConnectionID = types.StringValue(tenant+"/"+c.ID), types.StringValue(tenant), types.StringValue(c.ID)
	m.Type, m.Name, m.Enabled = types.StringValue(c.Type), types.StringValue(c.Name), types.BoolValue(c.Enabled)
	m.Domains, m.TrustEmail, m.Provisioning = stringSet(c.Domains), types.BoolValue(c.TrustEmail), types.StringValue(c.Provisioning)
	m.MicrosoftTenant = types.StringValue(c.MicrosoftTenant)
	m.CallbackURL, m.EntityID, m.ACSURL = types.StringValue(c.CallbackURL), types.StringValue(c.EntityID), types.StringValue(c.ACSURL)
	// Optional values the server holds follow it (so that an import reads
	// them); ones it does not hold stay unset.
	for _, v := range []struct {
		dst *types.String
		val string
	}{{&m.ClientID, c.ClientID}, {&m.Issuer, c.Issuer}, {&m.MetadataURL, c.IdPMetadataURL}} {
		if v.val != "" {
			*v.dst = types.StringValue(v.val)
		} else if v.dst.IsUnknown() {
			*v.dst = types.StringNull()
		}
	}
}

func (r *connectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.body(ctx, &resp.Diagnostics, true)
	if resp.Diagnostics.HasError() {
		return
	}
	body["type"] = m.Type.ValueString()
	var out apiConnection
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", m.Tenant.ValueString(), "connections"), body, &out); err != nil {
		fail(&resp.Diagnostics, "create connection", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *connectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiConnection
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "connections", m.ConnectionID.ValueString()), nil, &out); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read connection", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *connectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	changed := !m.ClientSecret.Equal(prior.ClientSecret) || !m.MetadataXML.Equal(prior.MetadataXML)
	body := m.body(ctx, &resp.Diagnostics, changed)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiConnection
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "connections", prior.ConnectionID.ValueString()), body, &out); err != nil {
		fail(&resp.Diagnostics, "update connection", err)
		return
	}
	m.from(prior.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *connectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "connections", m.ConnectionID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete connection", err)
	}
}

func (r *connectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "connection_id")
}
