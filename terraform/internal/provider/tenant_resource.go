package provider

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

var _ resource.ResourceWithImportState = (*tenantResource)(nil)

type tenantResource struct{ c *client }

func newTenantResource() resource.Resource { return &tenantResource{} }

// apiTenant is the API's tenant.
type apiTenant struct {
	ID                                 string   `json:"id"`
	Slug                               string   `json:"slug"`
	Name                               string   `json:"name"`
	Issuer                             string   `json:"issuer"`
	DiscoveryURL                       string   `json:"discovery_url"`
	LogoURL                            string   `json:"logo_url"`
	AccentColor                        string   `json:"accent_color"`
	GrantTypes                         []string `json:"grant_types"`
	AccessTokenLifetime                int64    `json:"access_token_lifetime"`
	IDTokenLifetime                    int64    `json:"id_token_lifetime"`
	RefreshTokenLifetime               int64    `json:"refresh_token_lifetime"`
	SessionLifetime                    int64    `json:"session_lifetime"`
	SignupMode                         string   `json:"signup_mode"`
	SignupDomains                      []string `json:"signup_domains"`
	PasswordMinLength                  int64    `json:"password_min_length"`
	MFAPolicy                          string   `json:"mfa_policy"`
	EmailFromName                      string   `json:"email_from_name"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests"`
	EmailReplyTo                       string   `json:"email_reply_to"`
	DefaultLocale                      string   `json:"default_locale"`
	TokenExchangeImpersonation         bool     `json:"token_exchange_impersonation"`
	ClientRegistration                 string   `json:"client_registration"`

	// UserMetadataFields are the user_metadata fields users may edit.
	UserMetadataFields []apiMetadataField `json:"user_metadata_fields"`
}

// apiMetadataField is a user_metadata field the tenant's users may edit.
type apiMetadataField struct {
	Name      string `json:"name"`
	Label     string `json:"label,omitempty"`
	Type      string `json:"type"`
	MaxLength int64  `json:"max_length,omitempty"`
}

type tenantModel struct {
	ID                                 types.String `tfsdk:"id"`
	Slug                               types.String `tfsdk:"slug"`
	Name                               types.String `tfsdk:"name"`
	TenantID                           types.String `tfsdk:"tenant_id"`
	Issuer                             types.String `tfsdk:"issuer"`
	DiscoveryURL                       types.String `tfsdk:"discovery_url"`
	LogoURL                            types.String `tfsdk:"logo_url"`
	AccentColor                        types.String `tfsdk:"accent_color"`
	GrantTypes                         types.Set    `tfsdk:"grant_types"`
	AccessTokenLifetime                types.Int64  `tfsdk:"access_token_lifetime"`
	IDTokenLifetime                    types.Int64  `tfsdk:"id_token_lifetime"`
	RefreshTokenLifetime               types.Int64  `tfsdk:"refresh_token_lifetime"`
	SessionLifetime                    types.Int64  `tfsdk:"session_lifetime"`
	SignupMode                         types.String `tfsdk:"signup_mode"`
	SignupDomains                      types.Set    `tfsdk:"signup_domains"`
	PasswordMinLength                  types.Int64  `tfsdk:"password_min_length"`
	MFAPolicy                          types.String `tfsdk:"mfa_policy"`
	EmailFromName                      types.String `tfsdk:"email_from_name"`
	RequirePushedAuthorizationRequests types.Bool   `tfsdk:"require_pushed_authorization_requests"`
	EmailReplyTo                       types.String `tfsdk:"email_reply_to"`
	DefaultLocale                      types.String `tfsdk:"default_locale"`
	TokenExchangeImpersonation         types.Bool   `tfsdk:"token_exchange_impersonation"`
	ClientRegistration                 types.String `tfsdk:"client_registration"`
	UserMetadataFields                 types.List   `tfsdk:"user_metadata_fields"`
}

var metadataFieldType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "label": types.StringType, "type": types.StringType, "max_length": types.Int64Type}}

func (r *tenantResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant"
}

// Plan modifiers of an attribute that is optional and computed: what the
// configuration leaves out keeps what the server has.
var (
	keepString = []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	keepInt    = []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}
	keepBool   = []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}
	keepSet    = []planmodifier.Set{setplanmodifier.UseStateForUnknown()}
	replaceStr = []planmodifier.String{stringplanmodifier.RequiresReplace()}
)

func optString(desc string) schema.StringAttribute {
	return schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keepString, Description: desc}
}

func optInt(desc string) schema.Int64Attribute {
	return schema.Int64Attribute{Optional: true, Computed: true, PlanModifiers: keepInt, Description: desc}
}

func optBool(desc string) schema.BoolAttribute {
	return schema.BoolAttribute{Optional: true, Computed: true, PlanModifiers: keepBool, Description: desc}
}

func optStringSet(desc string) schema.SetAttribute {
	return schema.SetAttribute{Optional: true, Computed: true, ElementType: types.StringType, PlanModifiers: keepSet, Description: desc}
}

func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{Computed: true, PlanModifiers: keepString, Description: desc}
}

func (r *tenantResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A tenant: one issuer, with its own users, applications, APIs and keys. Only operators create and delete tenants. Import by slug.",
		Attributes: map[string]schema.Attribute{
			"id":                                    computedString("The tenant's slug."),
			"slug":                                  schema.StringAttribute{Required: true, PlanModifiers: replaceStr, Description: "DNS label; the tenant is served at <slug>.<apex host>. Changing it replaces the tenant."},
			"name":                                  optString("Display name; defaults to the slug."),
			"tenant_id":                             computedString("The tenant's id."),
			"issuer":                                computedString("The tenant's issuer URL."),
			"discovery_url":                         computedString("The tenant's OpenID Connect discovery document."),
			"logo_url":                              optString("https URL of the logo on the login pages."),
			"accent_color":                          optString("Colour of the login pages, like #3b5bdb."),
			"grant_types":                           optStringSet("Grant types the tenant's applications may use."),
			"access_token_lifetime":                 optInt("Seconds, 60 to 86400."),
			"id_token_lifetime":                     optInt("Seconds, 60 to 86400."),
			"refresh_token_lifetime":                optInt("Seconds, 3600 to 31536000."),
			"session_lifetime":                      optInt("Seconds, 300 to 7776000."),
			"signup_mode":                           optString("off, open or domains."),
			"signup_domains":                        optStringSet("Email domains that may sign up when signup_mode is domains."),
			"password_min_length":                   optInt("Shortest password accepted, 8 to 64."),
			"mfa_policy":                            optString("off, optional or required."),
			"email_from_name":                       optString("Sender name of the tenant's email."),
			"require_pushed_authorization_requests": optBool("Every application must push its authorization requests (RFC 9126)."),
			"email_reply_to":                        optString("Where answers to the tenant's email go; empty for none."),
			"default_locale":                        optString("Language of the pages and email when a request names none Gatehouse speaks; empty is English."),
			"token_exchange_impersonation":          optBool("Token exchanges without an actor token may impersonate the subject (RFC 8693)."),
			"client_registration":                   optString("Who may register clients (RFC 7591): off, token or open."),
			"user_metadata_fields": schema.ListNestedAttribute{Optional: true, Computed: true, PlanModifiers: keepList,
				Description: "The user_metadata fields users may edit on their account page (at most 20); [] for none.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, Description: "The key in user_metadata: letters, digits and _, starting with a letter."},
					"label": schema.StringAttribute{Optional: true, Validators: []validator.String{trimmedNonEmpty{}},
						Description: "What the account page shows; the name when left out."},
					"type": schema.StringAttribute{Required: true, Description: "string, number or boolean."},
					"max_length": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{atLeastOne{}},
						Description: "A string field's longest value, 1 to 1000; 1000 when left out."},
				}}},
		},
	}
}

func (r *tenantResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.c = configured(req.ProviderData, &resp.Diagnostics)
}

// settings is the PATCH body of what m gives.
func (m *tenantModel) settings(ctx context.Context, diags *diag.Diagnostics) map[string]any {
	b := map[string]any{}
	put := func(k string, v any, ok bool) {
		if ok {
			b[k] = v
		}
	}
	put("name", m.Name.ValueString(), known(m.Name))
	put("logo_url", m.LogoURL.ValueString(), known(m.LogoURL))
	put("accent_color", m.AccentColor.ValueString(), known(m.AccentColor))
	put("grant_types", stringsOf(ctx, m.GrantTypes, diags), known(m.GrantTypes))
	put("access_token_lifetime", m.AccessTokenLifetime.ValueInt64(), known(m.AccessTokenLifetime))
	put("id_token_lifetime", m.IDTokenLifetime.ValueInt64(), known(m.IDTokenLifetime))
	put("refresh_token_lifetime", m.RefreshTokenLifetime.ValueInt64(), known(m.RefreshTokenLifetime))
	put("session_lifetime", m.SessionLifetime.ValueInt64(), known(m.SessionLifetime))
	put("signup_mode", m.SignupMode.ValueString(), known(m.SignupMode))
	put("signup_domains", stringsOf(ctx, m.SignupDomains, diags), known(m.SignupDomains))
	put("password_min_length", m.PasswordMinLength.ValueInt64(), known(m.PasswordMinLength))
	put("mfa_policy", m.MFAPolicy.ValueString(), known(m.MFAPolicy))
	put("email_from_name", m.EmailFromName.ValueString(), known(m.EmailFromName))
	put("require_pushed_authorization_requests", m.RequirePushedAuthorizationRequests.ValueBool(), known(m.RequirePushedAuthorizationRequests))
	put("email_reply_to", m.EmailReplyTo.ValueString(), known(m.EmailReplyTo))
	put("default_locale", m.DefaultLocale.ValueString(), known(m.DefaultLocale))
	put("token_exchange_impersonation", m.TokenExchangeImpersonation.ValueBool(), known(m.TokenExchangeImpersonation))
	put("client_registration", m.ClientRegistration.ValueString(), known(m.ClientRegistration))
	if known(m.UserMetadataFields) {
		b["user_metadata_fields"] = m.metadataFields(ctx, diags)
	}
	return b
}

// metadataFields are the user_metadata_fields of m, [] for none.
func (m *tenantModel) metadataFields(ctx context.Context, diags *diag.Diagnostics) []apiMetadataField {
	var objs []types.Object
	diags.Append(m.UserMetadataFields.ElementsAs(ctx, &objs, false)...)
	out := []apiMetadataField{}
	for _, o := range objs {
		var f struct {
			Name      types.String `tfsdk:"name"`
			Label     types.String `tfsdk:"label"`
			Type      types.String `tfsdk:"type"`
			MaxLength types.Int64  `tfsdk:"max_length"`
		}
		diags.Append(o.As(ctx, &f, basetypes.ObjectAsOptions{})...)
		out = append(out, apiMetadataField{Name: f.Name.ValueString(), Label: f.Label.ValueString(), Type: f.Type.ValueString(), MaxLength: f.MaxLength.ValueInt64()})
	}
	return out
}

func (m *tenantModel) from(t *apiTenant) {
	m.ID, m.Slug, m.Name, m.TenantID = types.StringValue(t.Slug), types.StringValue(t.Slug), types.StringValue(t.Name), types.StringValue(t.ID)
	m.Issuer, m.DiscoveryURL = types.StringValue(t.Issuer), types.StringValue(t.DiscoveryURL)
	m.LogoURL, m.AccentColor = types.StringValue(t.LogoURL), types.StringValue(t.AccentColor)
	m.GrantTypes, m.SignupDomains = stringSet(t.GrantTypes), stringSet(t.SignupDomains)
	m.AccessTokenLifetime, m.IDTokenLifetime = types.Int64Value(t.AccessTokenLifetime), types.Int64Value(t.IDTokenLifetime)
	m.RefreshTokenLifetime, m.SessionLifetime = types.Int64Value(t.RefreshTokenLifetime), types.Int64Value(t.SessionLifetime)
	m.SignupMode, m.PasswordMinLength, m.MFAPolicy = types.StringValue(t.SignupMode), types.Int64Value(t.PasswordMinLength), types.StringValue(t.MFAPolicy)
	m.EmailFromName, m.RequirePushedAuthorizationRequests = types.StringValue(t.EmailFromName), types.BoolValue(t.RequirePushedAuthorizationRequests)
	m.EmailReplyTo, m.DefaultLocale = types.StringValue(t.EmailReplyTo), types.StringValue(t.DefaultLocale)
	m.TokenExchangeImpersonation, m.ClientRegistration = types.BoolValue(t.TokenExchangeImpersonation), types.StringValue(t.ClientRegistration)
	fields := make([]attr.Value, len(t.UserMetadataFields))
	for i, f := range t.UserMetadataFields {
		// What the server leaves out (no label, the default max_length)
		// is null, as in a configuration that leaves it out.
		label, maxLength := types.StringNull(), types.Int64Null()
		if f.Label != "" {
			label = types.StringValue(f.Label)
		}
		if f.MaxLength != 0 {
			maxLength = types.Int64Value(f.MaxLength)
		}
		fields[i] = types.ObjectValueMust(metadataFieldType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(f.Name), "label": label, "type": types.StringValue(f.Type), "max_length": maxLength})
	}
	m.UserMetadataFields = types.ListValueMust(metadataFieldType, fields)
}

// trimmedNonEmpty refuses a label the server would store otherwise than
// given (it trims labels, and an empty one is no label): such a label
// would differ from the configuration after every apply.
type trimmedNonEmpty struct{}

func (trimmedNonEmpty) Description(context.Context) string {
	return "not empty, without leading or trailing spaces (leave it out for none)"
}

func (v trimmedNonEmpty) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v trimmedNonEmpty) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !known(req.ConfigValue) {
		return
	}
	if s := req.ConfigValue.ValueString(); s == "" || strings.TrimSpace(s) != s {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid label", "The label must be "+v.Description(ctx)+"; got "+strconv.Quote(s)+".")
	}
}

// atLeastOne refuses a max_length under 1: 0 is the server's default,
// which it does not show, so leaving it out says the same.
type atLeastOne struct{}

func (atLeastOne) Description(context.Context) string {
	return "at least 1 (leave it out for the default)"
}

func (v atLeastOne) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v atLeastOne) ValidateInt64(ctx context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if known(req.ConfigValue) && req.ConfigValue.ValueInt64() < 1 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid max_length", "max_length must be "+v.Description(ctx)+"; got "+strconv.FormatInt(req.ConfigValue.ValueInt64(), 10)+".")
	}
}

func (r *tenantResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m tenantModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var t apiTenant
	body := map[string]any{"slug": m.Slug.ValueString()}
	if known(m.Name) {
		body["name"] = m.Name.ValueString()
	}
	if err := r.c.do(ctx, http.MethodPost, "/tenants", body, &t); err != nil {
		fail(&resp.Diagnostics, "create tenant", err)
		return
	}
	if s := m.settings(ctx, &resp.Diagnostics); len(s) > 0 {
		if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", t.Slug), s, &t); err != nil {
			// The tenant exists: keep it in the state, tainted, so that
			// the next apply replaces it.
			m.from(&t)
			resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
			fail(&resp.Diagnostics, "set the new tenant's settings", err)
			return
		}
	}
	m.from(&t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *tenantResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m tenantModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	slug := m.Slug.ValueString()
	if slug == "" {
		slug = m.ID.ValueString()
	}
	var t apiTenant
	if err := r.c.do(ctx, http.MethodGet, apiPath("tenants", slug), nil, &t); err != nil {
		if notFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		fail(&resp.Diagnostics, "read tenant", err)
		return
	}
	m.from(&t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *tenantResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m tenantModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var t apiTenant
	if err := r.c.do(ctx, http.MethodPatch, apiPath("tenants", m.Slug.ValueString()), m.settings(ctx, &resp.Diagnostics), &t); err != nil {
		fail(&resp.Diagnostics, "update tenant", err)
		return
	}
	m.from(&t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *tenantResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m tenantModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.do(ctx, http.MethodDelete, apiPath("tenants", m.Slug.ValueString()), nil, nil); err != nil && !notFound(err) {
		fail(&resp.Diagnostics, "delete tenant", err)
	}
}

func (r *tenantResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathRoot("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathRoot("slug"), req.ID)...)
}
