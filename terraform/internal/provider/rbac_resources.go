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

var (
	_ resource.ResourceWithImportState = (*roleResource)(nil)
	_ resource.ResourceWithImportState = (*groupResource)(nil)
)

type roleResource struct{ c *client }

func newRoleResource() resource.Resource { return &roleResource{} }

type apiPermission struct {
	Audience string `json:"audience"`
	Scope    string `json:"scope"`
}

type apiRole struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Permissions []apiPermission `json:"permissions"`
}

type roleModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	RoleID      types.String `tfsdk:"role_id"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
	Permissions types.Set    `tfsdk:"permissions"`
}

var permissionType = types.ObjectType{AttrTypes: map[string]attr.Type{"audience": types.StringType, "scope": types.StringType}}

func (r *roleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (r *roleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A role of a tenant: a name (the roles claim) and the API scopes it grants. Import with TENANT/ROLE_ID.",
		Attributes: map[string]schema.Attribute{
			"id":          computedString("TENANT/ROLE_ID."),
			"tenant":      schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"role_id":     computedString("The role's id."),
			"name":        schema.StringAttribute{Required: true, Description: "Unique in the tenant."},
			"description": optString("At most 300 characters."),
			"permissions": schema.SetNestedAttribute{Optional: true, Description: "The API scopes the role grants.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"audience": schema.StringAttribute{Required: true, Description: "The API's audience."},
					"scope":    schema.StringAttribute{Required: true, Description: "One of the API's scopes."},
				}}},
		},
	}
}

func (r *roleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (m *roleModel) body(ctx context.Context, diags *diag.Diagnostics) map[string]any {
	b := map[string]any{"name": m.Name.ValueString()}
	if known(m.Description) {
		b["description"] = m.Description.ValueString()
	}
	perms := []apiPermission{}
	if known(m.Permissions) {
		var objs []types.Object
		diags.Append(m.Permissions.ElementsAs(ctx, &objs, false)...)
		for _, o := range objs {
			var p struct {
				Audience types.String `tfsdk:"audience"`
				Scope    types.String `tfsdk:"scope"`
			}
			diags.Append(o.As(ctx, &p, basetypes.ObjectAsOptions{})...)
			perms = append(perms, apiPermission{Audience: p.Audience.ValueString(), Scope: p.Scope.ValueString()})
		}
	}
	b["permissions"] = perms
	return b
}

func (m *roleModel) from(tenant string, r *apiRole) {
	m.ID, m.Tenant, m.RoleID = types.StringValue(tenant+"/"+r.ID), types.StringValue(tenant), types.StringValue(r.ID)
	m.Name, m.Description = types.StringValue(r.Name), types.StringValue(r.Description)
	if len(r.Permissions) == 0 && m.Permissions.IsNull() {
		return
	}
	elems := make([]attr.Value, len(r.Permissions))
	for i, p := range r.Permissions {
		elems[i] = types.ObjectValueMust(permissionType.AttrTypes, map[string]attr.Value{"audience": types.StringValue(p.Audience), "scope": types.StringValue(p.Scope)})
	}
	m.Permissions = types.SetValueMust(permissionType, elems)
}

func (r *roleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiRole
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", m.Tenant.ValueString(), "roles"), body, &out); err != nil {
		fail(&resp.Diagnostics, "create role", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *roleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiRole
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "roles", m.RoleID.ValueString()), nil, &out); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read role", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *roleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body := m.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiRole
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "roles", prior.RoleID.ValueString()), body, &out); err != nil {
		fail(&resp.Diagnostics, "update role", err)
		return
	}
	m.from(prior.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *roleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "roles", m.RoleID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete role", err)
	}
}

func (r *roleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "role_id")
}

type groupResource struct{ c *client }

func newGroupResource() resource.Resource { return &groupResource{} }

type apiGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

type groupModel struct {
	ID          types.String `tfsdk:"id"`
	Tenant      types.String `tfsdk:"tenant"`
	GroupID     types.String `tfsdk:"group_id"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
}

func (r *groupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_group"
}

func (r *groupResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A group of a tenant's users (the groups claim). Import with TENANT/GROUP_ID.",
		Attributes: map[string]schema.Attribute{
			"id":          computedString("TENANT/GROUP_ID."),
			"tenant":      schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "The tenant's slug."},
			"group_id":    computedString("The group's id."),
			"name":        schema.StringAttribute{Required: true, Description: "Unique in the tenant."},
			"description": optString("At most 300 characters."),
		},
	}
}

func (r *groupResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

func (m *groupModel) body() map[string]any {
	b := map[string]any{"name": m.Name.ValueString()}
	if known(m.Description) {
		b["description"] = m.Description.ValueString()
	}
	return b
}

func (m *groupModel) from(tenant string, g *apiGroup) {
	m.ID, m.Tenant, m.GroupID = types.StringValue(tenant+"/"+g.ID), types.StringValue(tenant), types.StringValue(g.ID)
	m.Name, m.Description = types.StringValue(g.Name), types.StringValue(g.Description)
}

func (r *groupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m groupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiGroup
	if err := r.c.do(ctx, http.MethodPost, apiPath("tenants", m.Tenant.ValueString(), "groups"), m.body(), &out); err != nil {
		fail(&resp.Diagnostics, "create group", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *groupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m groupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiGroup
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", m.Tenant.ValueString(), "groups", m.GroupID.ValueString()), nil, &out); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read group", err)
		return
	}
	m.from(m.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *groupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior groupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var out apiGroup
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", prior.Tenant.ValueString(), "groups", prior.GroupID.ValueString()), m.body(), &out); err != nil {
		fail(&resp.Diagnostics, "update group", err)
		return
	}
	m.from(prior.Tenant.ValueString(), &out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *groupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m groupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Tenant.ValueString(), "groups", m.GroupID.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete group", err)
	}
}

func (r *groupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTenantObject(ctx, req, resp, "group_id")
}
