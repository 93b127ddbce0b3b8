package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gatehouse-id/gatehouse/terraform/internal/provider"
)

// revision is what changes between the configurations of the tests besides
// the tenant's name and the API's second scope: the web application's
// claim_format and logo_uri and the tenant's user_metadata_fields (HCL).
type revision struct{ claimFormat, logoURI, metadataFields string }

var (
	created = revision{"ids", "https://shop.acme.test/logo.png",
		`[{ name = "plan", label = "Plan", type = "string", max_length = 20 }, { name = "seats", type = "number" }]`}
	changed = revision{"names", "https://cdn.acme.test/storefront.svg",
		`[{ name = "plan", label = "Your plan", type = "string" }, { name = "newsletter", label = "Newsletter", type = "boolean" }]`}
)

// config is the configuration of the tests, as the README shows it, with
// the tenant's name, the API's second scope and r to change between steps.
func config(name, secondScope string, r revision) string {
	return fmt.Sprintf(`
resource "gatehouse_tenant" "acme" {
  slug         = "acme"
  name         = %q
  accent_color = "#3b5bdb"
  mfa_policy   = "optional"

  default_locale               = "de"
  email_reply_to               = "help@acme.test"
  client_registration          = "token"
  token_exchange_impersonation = true

  user_metadata_fields = %s
}

resource "gatehouse_api" "orders" {
  tenant   = gatehouse_tenant.acme.slug
  audience = "https://api.acme.test"
  name     = "Orders API"
  scopes = [
    { value = "read:orders", description = "Read your orders" },
    { value = %q, description = "Second scope" },
  ]
  token_claims = ["roles"]

  registration_scopes       = ["read:orders"]
  resource_server_client_id = gatehouse_application.introspector.client_id
}

resource "gatehouse_application" "introspector" {
  tenant      = gatehouse_tenant.acme.slug
  kind        = "machine"
  name        = "Orders API itself"
  grant_types = ["client_credentials"]
}

resource "gatehouse_application" "web" {
  tenant        = gatehouse_tenant.acme.slug
  kind          = "web"
  name          = "Storefront"
  redirect_uris = ["https://shop.acme.test/callback"]
  grant_types   = ["authorization_code", "refresh_token"]
  api_grants = [
    { audience = gatehouse_api.orders.audience, scopes = ["read:orders"] },
  ]

  token_endpoint_auth_method          = "client_secret_post"
  consent                             = "skip"
  refresh_token_grace_period          = 30
  dpop_bound_access_tokens            = true
  backchannel_logout_session_required = true
  claim_format                        = %q
  logo_uri                            = %q
}

resource "gatehouse_application" "spa" {
  tenant        = gatehouse_tenant.acme.slug
  kind          = "spa"
  name          = "Dashboard"
  redirect_uris = ["https://app.acme.test/callback"]
}

resource "gatehouse_role" "clerk" {
  tenant      = gatehouse_tenant.acme.slug
  name        = "clerk"
  description = "Reads orders"
  permissions = [{ audience = gatehouse_api.orders.audience, scope = "read:orders" }]
}

resource "gatehouse_group" "staff" {
  tenant = gatehouse_tenant.acme.slug
  name   = "staff"
}

resource "gatehouse_connection" "github" {
  tenant        = gatehouse_tenant.acme.slug
  type          = "github"
  client_id     = "gh-client"
  client_secret = "gh-secret"
  domains       = ["acme.test"]
}

resource "gatehouse_webhook" "audit" {
  tenant = gatehouse_tenant.acme.slug
  url    = "https://hooks.acme.test/in"
  events = ["user.created"]
}

resource "gatehouse_claim_rule" "plan" {
  tenant       = gatehouse_tenant.acme.slug
  name         = "plan"
  enabled      = true
  condition    = "user.email.endsWith('@acme.test')"
  id_token     = { plan = "'gold'" }
  access_token = { tier = "'one'" }
}

resource "gatehouse_saml_app" "expenses" {
  tenant         = gatehouse_tenant.acme.slug
  name           = "Expenses"
  entity_id      = "https://expenses.acme.test/sp"
  acs            = [{ url = "https://expenses.acme.test/acs" }, { url = "https://expenses.acme.test/acs2", index = 5 }]
  name_id_source = "persistent"
  attributes     = [{ name = "mail", source = "email" }]
  access         = "roles"
  access_roles   = [gatehouse_role.clerk.role_id]
  enabled        = true
}

data "gatehouse_tenant" "acme" {
  slug = gatehouse_tenant.acme.slug
}

data "gatehouse_application" "web" {
  tenant = gatehouse_tenant.acme.slug
  name   = gatehouse_application.web.name
}

data "gatehouse_api" "orders" {
  tenant   = gatehouse_tenant.acme.slug
  audience = gatehouse_api.orders.audience
}
`, name, r.metadataFields, secondScope, r.claimFormat, r.logoURI)
}

// providers serves the provider in the test's process: terraform reaches
// it through TF_REATTACH_PROVIDERS, and the dev_overrides configuration
// keeps it from asking a registry for it.
var providers = map[string]func() (tfprotov6.ProviderServer, error){
	"gatehouse": providerserver.NewProtocol6WithError(provider.New("test")()),
}

// TestAccResources creates, changes, imports and destroys every resource
// with the real terraform binary; a change made through the API behind
// terraform's back shows in the next plan.
func TestAccResources(t *testing.T) {
	g := acceptance(t)
	issuer := strings.Replace(g.url, "://", "://acme.", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers,
		Steps: []resource.TestStep{
			{
				Config: config("Acme Inc", "write:orders", created),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "issuer", issuer),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "name", "Acme Inc"),
					resource.TestCheckResourceAttr("data.gatehouse_tenant.acme", "discovery_url", issuer+"/.well-known/openid-configuration"),
					resource.TestCheckResourceAttrSet("gatehouse_application.web", "client_id"),
					resource.TestCheckResourceAttrSet("gatehouse_application.web", "client_secret"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "token_endpoint_auth_method", "client_secret_post"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "consent", "skip"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "refresh_token_grace_period", "30"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "dpop_bound_access_tokens", "true"),
					resource.TestCheckResourceAttr("gatehouse_application.spa", "consent", "required"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "claim_format", "ids"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "logo_uri", "https://shop.acme.test/logo.png"),
					resource.TestCheckResourceAttr("gatehouse_application.spa", "claim_format", "names"),
					resource.TestCheckResourceAttr("gatehouse_application.spa", "logo_uri", ""),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.#", "2"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.0.name", "plan"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.0.label", "Plan"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.0.type", "string"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.0.max_length", "20"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.name", "seats"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.type", "number"),
					resource.TestCheckNoResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.label"),
					resource.TestCheckNoResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.max_length"),
					serverHas(t, g, "/tenants/acme", "user_metadata_fields",
						[]any{map[string]any{"name": "plan", "label": "Plan", "type": "string", "max_length": 20}, map[string]any{"name": "seats", "type": "number"}}),
					serverHas(t, g, "/tenants/acme/applications/{web}", "logo_uri", "https://shop.acme.test/logo.png"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "default_locale", "de"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "client_registration", "token"),
					resource.TestCheckResourceAttrPair("gatehouse_api.orders", "resource_server_client_id", "gatehouse_application.introspector", "client_id"),
					resource.TestCheckResourceAttr("gatehouse_api.orders", "registration_scopes.#", "1"),
					resource.TestCheckResourceAttrPair("data.gatehouse_application.web", "client_id", "gatehouse_application.web", "client_id"),
					resource.TestCheckResourceAttr("data.gatehouse_application.web", "kind", "web"),
					resource.TestCheckResourceAttr("gatehouse_claim_rule.plan", "enabled", "true"),
					resource.TestCheckResourceAttr("gatehouse_claim_rule.plan", "position", "1"),
					resource.TestCheckResourceAttr("gatehouse_claim_rule.plan", "id_token.plan", "'gold'"),
					resource.TestCheckResourceAttr("gatehouse_saml_app.expenses", "acs.0.index", "1"),
					resource.TestCheckResourceAttr("gatehouse_saml_app.expenses", "acs.1.index", "5"),
					resource.TestCheckResourceAttr("gatehouse_saml_app.expenses", "sign_assertion", "true"),
					resource.TestCheckResourceAttrPair("gatehouse_saml_app.expenses", "access_roles.0", "gatehouse_role.clerk", "role_id"),
					resource.TestCheckResourceAttrSet("gatehouse_saml_app.expenses", "launch_url"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "api_grants.#", "1"),
					resource.TestCheckNoResourceAttr("gatehouse_application.spa", "client_secret"),
					resource.TestCheckResourceAttr("gatehouse_application.spa", "token_endpoint_auth_method", "none"),
					resource.TestCheckResourceAttr("gatehouse_api.orders", "scopes.#", "2"),
					resource.TestCheckResourceAttr("data.gatehouse_api.orders", "scopes.1", "write:orders"),
					resource.TestCheckResourceAttr("gatehouse_role.clerk", "permissions.#", "1"),
					resource.TestCheckResourceAttrSet("gatehouse_webhook.audit", "secret"),
					resource.TestCheckResourceAttr("gatehouse_connection.github", "name", "GitHub"),
					resource.TestCheckResourceAttrSet("gatehouse_connection.github", "callback_url"),
				),
			},
			{
				Config: config("Acme Corporation", "ship:orders", changed),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "name", "Acme Corporation"),
					resource.TestCheckResourceAttr("gatehouse_api.orders", "scopes.1.value", "ship:orders"),
					resource.TestCheckResourceAttrSet("gatehouse_application.web", "client_secret"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "claim_format", "names"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "logo_uri", "https://cdn.acme.test/storefront.svg"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.#", "2"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.0.label", "Your plan"),
					resource.TestCheckNoResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.0.max_length"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.name", "newsletter"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.type", "boolean"),
					serverHas(t, g, "/tenants/acme", "user_metadata_fields",
						[]any{map[string]any{"name": "plan", "label": "Your plan", "type": "string"}, map[string]any{"name": "newsletter", "label": "Newsletter", "type": "boolean"}}),
					serverHas(t, g, "/tenants/acme/applications/{web}", "claim_format", "names"),
				),
			},
			{ResourceName: "gatehouse_tenant.acme", ImportState: true, ImportStateId: "acme", ImportStateVerify: true},
			{ResourceName: "gatehouse_application.web", ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"client_secret"}},
			{ResourceName: "gatehouse_api.orders", ImportState: true, ImportStateVerify: true},
			{ResourceName: "gatehouse_role.clerk", ImportState: true, ImportStateVerify: true},
			{ResourceName: "gatehouse_group.staff", ImportState: true, ImportStateVerify: true},
			{ResourceName: "gatehouse_webhook.audit", ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"secret"}},
			{ResourceName: "gatehouse_connection.github", ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"client_secret"}},
			{ResourceName: "gatehouse_claim_rule.plan", ImportState: true, ImportStateVerify: true},
			{ResourceName: "gatehouse_saml_app.expenses", ImportState: true, ImportStateVerify: true},
			{
				// Drift: the tenant renamed through the API shows in the plan.
				PreConfig:          func() { g.api(t, http.MethodPatch, "/tenants/acme", map[string]any{"name": "Renamed in the console"}) },
				Config:             config("Acme Corporation", "ship:orders", changed),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Applying puts it back.
				Config: config("Acme Corporation", "ship:orders", changed),
				Check:  resource.TestCheckResourceAttr("gatehouse_tenant.acme", "name", "Acme Corporation"),
			},
			{
				// Drift of the new fields: an application asking for
				// consent again, changed through the API, shows in the plan.
				PreConfig: func() {
					g.api(t, http.MethodPatch, "/tenants/acme/applications/"+clientIDOf(t, g, "Storefront"), map[string]any{"consent": "required", "refresh_token_grace_period": 0})
				},
				Config:             config("Acme Corporation", "ship:orders", changed),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// A claim rule disabled in the console shows too.
				PreConfig: func() {
					var page struct {
						Items []struct {
							ID string `json:"id"`
						} `json:"items"`
					}
					if code := g.call(t, http.MethodGet, "/tenants/acme/claim-rules", nil, &page); code != http.StatusOK || len(page.Items) != 1 {
						t.Fatalf("claim rules: %d %v", code, page)
					}
					g.api(t, http.MethodPatch, "/tenants/acme/claim-rules/"+page.Items[0].ID, map[string]any{"enabled": false})
					if code := g.call(t, http.MethodGet, "/tenants/acme/saml-apps", nil, &page); code != http.StatusOK || len(page.Items) != 1 {
						t.Fatalf("SAML applications: %d %v", code, page)
					}
					g.api(t, http.MethodPatch, "/tenants/acme/saml-apps/"+page.Items[0].ID, map[string]any{"enabled": false})
				},
				Config:             config("Acme Corporation", "ship:orders", changed),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// The claim format and logo of an application and the
				// tenant's user_metadata_fields changed through the API
				// show in the plan, each of them.
				PreConfig: func() {
					g.api(t, http.MethodPatch, "/tenants/acme/applications/"+clientIDOf(t, g, "Storefront"), map[string]any{"claim_format": "ids", "logo_uri": ""})
					g.api(t, http.MethodPatch, "/tenants/acme", map[string]any{"user_metadata_fields": []any{map[string]any{"name": "plan", "type": "string", "max_length": 5}}})
				},
				Config: config("Acme Corporation", "ship:orders", changed),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					drift{"gatehouse_application.web", "claim_format", "ids"},
					drift{"gatehouse_application.web", "logo_uri", ""},
					drift{"gatehouse_tenant.acme", "user_metadata_fields", []any{map[string]any{"name": "plan", "label": nil, "type": "string", "max_length": 5}}},
				}},
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config("Acme Corporation", "ship:orders", changed),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("gatehouse_claim_rule.plan", "enabled", "true"),
					resource.TestCheckResourceAttr("gatehouse_saml_app.expenses", "enabled", "true"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "consent", "skip"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "refresh_token_grace_period", "30"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "claim_format", "names"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "logo_uri", "https://cdn.acme.test/storefront.svg"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.#", "2"),
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "user_metadata_fields.1.name", "newsletter"),
					serverHas(t, g, "/tenants/acme/applications/{web}", "logo_uri", "https://cdn.acme.test/storefront.svg"),
				),
			},
			{
				// A logo that is not https: the apply fails with the
				// server's error (the provider does not check it).
				Config:      config("Acme Corporation", "ship:orders", revision{changed.claimFormat, "http://x", changed.metadataFields}),
				ExpectError: words("Gatehouse answered", "logo_uri", "must be an https URL"),
			},
			{
				// A label the server would trim is refused at plan time.
				Config: config("Acme Corporation", "ship:orders", revision{changed.claimFormat, changed.logoURI,
					`[{ name = "plan", label = " Plan ", type = "string" }]`}),
				PlanOnly:    true,
				ExpectError: words("Invalid label"),
			},
			{
				// A role deleted through the API is created again.
				PreConfig: func() {
					g.api(t, http.MethodDelete, "/tenants/acme/roles/clerk", nil)
				},
				Config:             config("Acme Corporation", "ship:orders", changed),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: config("Acme Corporation", "ship:orders", changed)},
		},
		CheckDestroy: func(*terraform.State) error {
			return nil
		},
	})
	// Destroyed: the tenant is gone.
	if code := g.status(t, http.MethodGet, "/tenants/acme"); code != http.StatusNotFound {
		t.Fatalf("the tenant after destroy: %d", code)
	}
}

// drift checks that a plan changes attr of the resource at address back
// from before, the value a change made through the API left in the
// refreshed state.
type drift struct {
	address, attr string
	before        any
}

func (d drift) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != d.address || rc.Change == nil {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		got, want, planned := jsonOf(before[d.attr]), jsonOf(d.before), jsonOf(after[d.attr])
		switch {
		case got != want:
			resp.Error = fmt.Errorf("%s.%s before the change is %s, not %s (what the API set)", d.address, d.attr, got, want)
		case planned == got:
			resp.Error = fmt.Errorf("the plan leaves %s.%s at %s", d.address, d.attr, got)
		}
		return
	}
	resp.Error = fmt.Errorf("the plan does not change %s", d.address)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// words matches an error that has the phrases in this order, whatever
// the line breaks (and the box-drawing margin) terraform wraps them with.
func words(phrases ...string) *regexp.Regexp {
	quoted := make([]string, len(phrases))
	for i, p := range phrases {
		quoted[i] = strings.Join(strings.Fields(regexp.QuoteMeta(p)), `[\s│]+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}

// serverHas checks that the API's GET of path has field as want (compared
// as JSON): what terraform applied reached the server. {web} in path is
// the Storefront application's client_id.
func serverHas(t *testing.T, g *gatehouse, path, field string, want any) resource.TestCheckFunc {
	return func(*terraform.State) error {
		path := strings.ReplaceAll(path, "{web}", clientIDOf(t, g, "Storefront"))
		var got map[string]any
		if code := g.call(t, http.MethodGet, path, nil, &got); code != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, code)
		}
		if jsonOf(got[field]) != jsonOf(want) {
			return fmt.Errorf("GET %s: %s is %s, not %s", path, field, jsonOf(got[field]), jsonOf(want))
		}
		return nil
	}
}
