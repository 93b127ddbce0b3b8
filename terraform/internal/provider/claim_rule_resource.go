package provider

import (
	"context"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*claimRuleResource)(nil)

type claimRuleResource struct{ c *client }

func newClaimRuleResource() resource.Resource { return &claimRuleResource{} }

type apiClaimRule struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Position    int64             `json:"position"`
	Enabled     bool              `json:"enabled"`
	Condition   string            `json:"condition"`
	IDToken     map[string]string `json:"id_token"`
	AccessToken map[string]string `json:"access_token"`
	Deny        string            `json:"deny"`
}

type claimRuleModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	RuleID      types.String `tfsdk:"rule_id"`
	Name        types.String `tfsdk:"name"`
	Position    types.Int64  `tfsdk:"position"`
	Enabled     types.Bool   `tfsdk:"enabled"`
	Condition   types.String `tfsdk:"condition"`
	IDToken     types.Map    `tfsdk:"id_token"`
	AccessToken types.Map    `tfsdk:"access_token"`
	Deny        types.String `tfsdk:"deny"`
}

func (r *claimRuleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_claim_rule"
}

func optStringMap(desc string) schema.MapAttribute {
	return schema.MapAttribute{Optional: true, Computed: true, ElementType: types.StringType,
		PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()}, Description: desc}
}

func (r *claimRuleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A claim rule of a tenant: a CEL condition and the claims it adds to the ID and access tokens, or a message that refuses the sign-in. Import with TENANT/RULE_ID.",
		Attributes: map[string]schema.Attribute{
			"id":           computedString("TENANT/RULE_ID."),
			"tenant":       schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"rule_id":      computedString("The rule's id."),
			"name":         schema.StringAttribute{Required: true, Description: "Unique in the tenant."},
			"position":     optInt("Rules run in order of position; defaults to after the tenant's last."),
			"enabled":      optBool("A disabled rule is skipped; defaults to true."),
			"condition":    optString("CEL expression of type bool over user, client, api, connection and request; empty: always."),
			"id_token":     optStringMap("Claims to add to the ID token: claim name to the CEL expression of its value."),
			"access_token": optStringMap("Claims to add to the access token, likewise."),
			"deny":         optString("Instead of claims: when the condition holds, the sign-in is refused with this message."),
		},
	}
}

func (r *claimRuleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func stringMapOf(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	out := map[string]string{}
	if known(v) {
		diags.Append(v.ElementsAs(ctx, &out, false)...)
	}
	return out
}

func stringMap(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func (m *claimRuleModel) body(ctx context.Context, diags *diag.Diagnostics) map[string]any {
	b := map[string]any{"name": m.Name.ValueString()}
	if known(m.Position) {
		b["position"] = m.Position.ValueInt64()
	}
	if known(m.Enabled) {
		b["enabled"] = m.Enabled.ValueBool()
	}
	if known(m.Condition) {
		b["condition"] = m.Condition.ValueString()
	}
	if known(m.IDToken) {
		b["id_token"] = stringMapOf(ctx, m.IDToken, diags)
	}
	if known(m.AccessToken) {
		b["access_token"] = stringMapOf(ctx, m.AccessToken, diags)
	}
	if known(m.Deny) {
		b["deny"] = m.Deny.ValueString()
	}
	return b
}

func (m *claimRuleModel) from(tenant string, r *apiClaimRule) {
	m.ID, m.Tenant, m.RuleID = types.StringValue(tenant+"/"+r.ID), types.StringValue(tenant), types.StringValue(r.ID)
	m.Name, m.Position, m.Enabled = types.StringValue(r.Name), types.Int64Value(r.Position), types.BoolValue(r.Enabled)
	m.Condition, m.Deny = types.StringValue(r.Condition), types.StringValue(r.Deny)
	m.IDToken, m.AccessToken = stringMap(r.IDToken), stringMap(r.AccessToken)
}

func (r *claimRuleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m claimRuleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiClaimRule
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", m.Tenant.ValueString(), "claim-rules"), body, &out); err != nil {
		fail(&resp.Diagnostics, "create claim rule", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *claimRuleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m claimRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiClaimRule
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "claim-rules", m.RuleID.ValueString()), nil, &out); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read claim rule", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *claimRuleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior claimRuleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiClaimRule
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "claim-rules", prior.RuleID.ValueString()), body, &out); err != nil {
		fail(&resp.Diagnostics, "update claim rule", err)
		return
	}
	m.from(prior.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *claimRuleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m claimRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "claim-rules", m.RuleID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete claim rule", err)
	}
}

func (r *claimRuleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "rule_id")
}
