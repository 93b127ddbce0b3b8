package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestResourceServerIntrospection: an API designates a confidential
// application as itself; that application may introspect the access
// tokens issued for the API (whoever they were issued to), and learns
// nothing of tokens for another API, refresh tokens, revoked tokens or
// another tenant's tokens. Public, unknown and other tenants'
// applications cannot be designated.
func TestResourceServerIntrospection(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f, g := e.fixture("acme"), e.fixture("globex")
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		svc := e.srv.Admin()
		rs, err := svc.CreateClient(f.adminCtx(), admin.CreateClientInput{Name: "orders-api", Kind: admin.KindMachine, GrantTypes: []string{"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		billing, err := svc.CreateAPI(f.adminCtx(), admin.CreateAPIInput{Name: "Billing", Audience: "https://billing.acme.test", Scopes: []admin.ScopeInput{{Name: "pay"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetClientGrants(f.adminCtx(), f.worker.ClientID, []admin.ClientGrant{{Audience: f.api, Scopes: []string{"read:orders"}},
			{Audience: billing.Audience, Scopes: []string{"pay"}}}); err != nil {
			t.Fatal(err)
		}
		var apiID string
		for _, a := range c.items(t, "/tenants/acme/apis") {
			if a["audience"] == f.api {
				apiID = a["id"].(string)
			}
		}
		path := "/tenants/acme/apis/" + apiID
		for name, bad := range map[string]string{"public": f.spa.ClientID, "unknown": "no-such-app", "another tenant's": g.worker.ClientID} {
			if status, _, body := c.do(t, http.MethodPatch, path, map[string]any{"resource_server_client_id": bad}); status != http.StatusBadRequest {
				t.Errorf("%s application as resource server: %d %v, want 400", name, status, body)
			}
		}
		if v := c.must(t, http.StatusOK, http.MethodPatch, path, map[string]any{"resource_server_client_id": rs.ClientID}); v["resource_server_client_id"] != rs.ClientID {
			t.Fatalf("update: %v", v)
		}
		asRS := func(token string) map[string]any {
			t.Helper()
			_, _, body := f.post("/oauth/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {token}})
			return body
		}
		cc := func(fx *fixture, resource string) string {
			t.Helper()
			status, _, body := fx.post("/oauth/token", fx.worker.ClientID, fx.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "resource": {resource}})
			if status != http.StatusOK {
				t.Fatalf("client credentials for %s: %d %v", resource, status, body)
			}
			return mustToken(t, body, "access_token")
		}
		orders := cc(f, f.api)
		got := asRS(orders)
		if got["active"] != true || got["client_id"] != f.worker.ClientID || got["scope"] != "read:orders" || got["iss"] != f.issuer {
			t.Fatalf("the API's own token: %v", got)
		}
		if aud, _ := got["aud"].([]any); len(aud) != 1 || aud[0] != f.api {
			t.Fatalf("aud %v, want [%s]", got["aud"], f.api)
		}
		// The token's own client still may.
		if _, _, body := f.post("/oauth/introspect", f.worker.ClientID, f.worker.ClientSecret, url.Values{"token": {orders}}); body["active"] != true {
			t.Fatalf("the token's client: %v", body)
		}
		// Not another API's token, not a refresh token, not another
		// tenant's token.
		if got := asRS(cc(f, billing.Audience)); got["active"] != false || len(got) != 1 {
			t.Fatalf("another API's token: %v", got)
		}
		tok, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "offline_access"})
		if got := asRS(tok.RefreshToken); got["active"] != false {
			t.Fatalf("a refresh token: %v", got)
		}
		if got := asRS(cc(g, g.api)); got["active"] != false {
			t.Fatalf("another tenant's token: %v", got)
		}
		// Revoked: inactive for the API too.
		if status, _, _ := f.post("/oauth/revoke", f.worker.ClientID, f.worker.ClientSecret, url.Values{"token": {orders}}); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if got := asRS(orders); got["active"] != false {
			t.Fatalf("a revoked token: %v", got)
		}
		// Withdrawn: the application is no longer the API.
		fresh := cc(f, f.api)
		c.must(t, http.StatusOK, http.MethodPatch, path, map[string]any{"resource_server_client_id": ""})
		if got := asRS(fresh); got["active"] != false {
			t.Fatalf("after the designation was withdrawn: %v", got)
		}
	})
}
