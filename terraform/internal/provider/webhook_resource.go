package provider

import (
	"context"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*webhookResource)(nil)

type webhookResource struct{ c *client }

func newWebhookResource() resource.Resource { return &webhookResource{} }

type apiWebhook struct {
	ID      string   `json:"id"`
	URL     string   `json:"url"`
	Events  []string `json:"events"`
	Enabled bool     `json:"enabled"`
	Secret  string   `json:"secret"`
}

type webhookModel struct {
	ID        types.String `tfsdk:"id"`
	Tenant    types.String `tfsdk:"tenant"`
	WebhookID types.String `tfsdk:"webhook_id"`
	URL       types.String `tfsdk:"url"`
	Events    types.Set    `tfsdk:"events"`
	Enabled   types.Bool   `tfsdk:"enabled"`
	Secret    types.String `tfsdk:"secret"`
}

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A webhook endpoint of a tenant (Standard Webhooks). Import with TENANT/WEBHOOK_ID (the secret is then unknown).",
		Attributes: map[string]schema.Attribute{
			"id":         computedString("TENANT/WEBHOOK_ID."),
			"tenant":     schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"webhook_id": computedString("The endpoint's id."),
			"url":        schema.StringAttribute{Required: true, Description: "Where deliveries are POSTed (https)."},
			"events":     schema.SetAttribute{Required: true, ElementType: types.StringType, Description: "Event types delivered; * for every one."},
			"enabled":    optBool("false stops deliveries (they wait)."),
			"secret": schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: keepString,
				Description: "The signing secret (whsec_...), known from the endpoint's creation only."},
		},
	}
}

func (r *webhookResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (m *webhookModel) body(ctx context.Context, diags *diag.Diagnostics) map[string]any {
	b := map[string]any{"url": m.URL.ValueString(), "events": stringsOf(ctx, m.Events, diags)}
	if known(m.Enabled) {
		b["enabled"] = m.Enabled.ValueBool()
	}
	return b
}

func (m *webhookModel) from(tenant string, w *apiWebhook) {
	m.ID, m.Tenant, m.WebhookID = types.StringValue(tenant+"/"+w.ID), types.StringValue(tenant), types.StringValue(w.ID)
	m.URL, m.Events, m.Enabled = types.StringValue(w.URL), stringSet(w.Events), types.BoolValue(w.Enabled)
	if w.Secret != "" {
		m.Secret = types.StringValue(w.Secret)
	}
	if m.Secret.IsUnknown() {
		m.Secret = types.StringNull()
	}
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	enabled, setEnabled := body["enabled"], known(m.Enabled) && !m.Enabled.ValueBool()
	delete(body, "enabled")
	tenant := m.Tenant.ValueString()
	var out apiWebhook
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", tenant, "webhooks"), body, &out); err != nil {
		fail(&resp.Diagnostics, "create webhook", err)
		return
	}
	if setEnabled {
		secret := out.Secret
		if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", tenant, "webhooks", out.ID), map[string]any{"enabled": enabled}, &out); err != nil {
			fail(&resp.Diagnostics, "disable the new webhook", err)
		}
		out.Secret = secret
	}
	m.from(tenant, &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiWebhook
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "webhooks", m.WebhookID.ValueString()), nil, &out); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read webhook", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiWebhook
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "webhooks", prior.WebhookID.ValueString()), body, &out); err != nil {
		fail(&resp.Diagnostics, "update webhook", err)
		return
	}
	m.Secret = prior.Secret
	m.from(prior.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "webhooks", m.WebhookID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete webhook", err)
	}
}

func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "webhook_id")
}
