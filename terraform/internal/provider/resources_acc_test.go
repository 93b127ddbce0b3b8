package provider_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gatehouse-id/gatehouse/terraform/internal/provider"
)

// config is the configuration of the tests, as the README shows it, with
// the tenant's name and the API's second scope to change between steps.
func config(name, secondScope string) string {
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
`, name, secondScope)
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
				Config: config("Acme Inc", "write:orders"),
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
				Config: config("Acme Corporation", "ship:orders"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("gatehouse_tenant.acme", "name", "Acme Corporation"),
					resource.TestCheckResourceAttr("gatehouse_api.orders", "scopes.1.value", "ship:orders"),
					resource.TestCheckResourceAttrSet("gatehouse_application.web", "client_secret"),
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
				Config:             config("Acme Corporation", "ship:orders"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Applying puts it back.
				Config: config("Acme Corporation", "ship:orders"),
				Check:  resource.TestCheckResourceAttr("gatehouse_tenant.acme", "name", "Acme Corporation"),
			},
			{
				// Drift of the new fields: an application asking for
				// consent again, changed through the API, shows in the plan.
				PreConfig: func() {
					g.api(t, http.MethodPatch, "/tenants/acme/applications/"+clientIDOf(t, g, "Storefront"), map[string]any{"consent": "required", "refresh_token_grace_period": 0})
				},
				Config:             config("Acme Corporation", "ship:orders"),
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
				Config:             config("Acme Corporation", "ship:orders"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config("Acme Corporation", "ship:orders"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("gatehouse_claim_rule.plan", "enabled", "true"),
					resource.TestCheckResourceAttr("gatehouse_saml_app.expenses", "enabled", "true"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "consent", "skip"),
					resource.TestCheckResourceAttr("gatehouse_application.web", "refresh_token_grace_period", "30"),
				),
			},
			{
				// A role deleted through the API is created again.
				PreConfig: func() {
					g.api(t, http.MethodDelete, "/tenants/acme/roles/clerk", nil)
				},
				Config:             config("Acme Corporation", "ship:orders"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: config("Acme Corporation", "ship:orders")},
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
