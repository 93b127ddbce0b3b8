package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestAPIAuthentication checks who may call the API: no token and tokens
// not meant for it answer 401 with WWW-Authenticate; a token without the
// scope, or whose holder lacks the role, 403 — on every route, changing
// nothing.
func TestAPIAuthentication(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		ids := map[string]string{"slug": "acme", "client_id": f.web.ClientID, "id": f.userID, "session_id": "x", "role": "x", "user": f.userID,
			"locale": "de", "message": "consent.heading", "factor": "x", "kind": "reset", "identity": "x", "domain": "login.x.example.org"}

		// A token of an ordinary tenant (client credentials at acme), one
		// of the system tenant for another API, garbage and none.
		_, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "resource": {f.api}})
		tenantToken, err := tokenOf(body, "access_token")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, token string }{
			{"no token", ""},
			{"garbage", "not-a-token"},
			{"a tenant's client credentials token", tenantToken},
			{"a token for another audience", systemTokenForOtherAPI(t, e)},
		} {
			c := &apiClient{e: e, token: tc.token}
			for _, r := range apiRoutes() {
				status, hdr, body := c.do(t, r.Method, fill(r.Path, ids), bodyFor(t, r))
				wantProblem(t, tc.name+": "+routeKey(r), status, hdr, body, http.StatusUnauthorized, "")
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s: WWW-Authenticate = %q", tc.name, hdr.Get("WWW-Authenticate"))
				}
			}
		}

		// tenants:read only: every change is 403, before any lookup.
		reader := e.managementClient(t, "", admin.ScopeTenantsRead)
		before := snapshot(t, e.managementClient(t, "", admin.ScopeTenantsRead), f)
		for _, r := range writeRoutes() {
			status, hdr, body := reader.do(t, r.Method, fill(r.Path, ids), bodyFor(t, r))
			wantProblem(t, "read-only token: "+routeKey(r), status, hdr, body, http.StatusForbidden, "")
			if want := `Bearer error="insufficient_scope", scope="` + r.Scope + `"`; hdr.Get("WWW-Authenticate") != want {
				t.Fatalf("%s: WWW-Authenticate %q, want %q", routeKey(r), hdr.Get("WWW-Authenticate"), want)
			}
		}
		if after := snapshot(t, reader, f); after != before {
			t.Fatalf("a read-only token changed acme:\n%s\n%s", before, after)
		}
		// The audit log needs audit:read; audit:read alone reads nothing else.
		status, hdr, body := reader.do(t, http.MethodGet, "/tenants/acme/audit", nil)
		wantProblem(t, "audit without audit:read", status, hdr, body, http.StatusForbidden, "")
		auditor := e.managementClient(t, "", admin.ScopeAuditRead)
		auditor.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/audit", nil)
		status, hdr, body = auditor.do(t, http.MethodGet, "/tenants/acme/users", nil)
		wantProblem(t, "users with audit:read only", status, hdr, body, http.StatusForbidden, "")

		// A tenant admin cannot create tenants.
		acmeAdmin := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		status, hdr, body = acmeAdmin.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "mine"})
		wantProblem(t, "tenant admin creating a tenant", status, hdr, body, http.StatusForbidden, "")

		// A client of the system tenant without an administrator role.
		status, hdr, body = (&apiClient{e: e, token: systemTokenWithoutRole(t, e)}).do(t, http.MethodGet, "/tenants", nil)
		wantProblem(t, "no administrator role", status, hdr, body, http.StatusForbidden, "")

		// An administrator's own token (what the console holds): a tenant
		// admin of acme signs in at the system tenant with a code flow.
		e.createAdmin(t, "alice@example.test", "acme")
		adm := &apiClient{e: e, token: adminUserToken(t, e, "alice@example.test", admin.ScopeTenantsRead)}
		if items := adm.items(t, "/tenants"); len(items) != 1 || items[0]["slug"] != "acme" {
			t.Fatalf("an admin's token lists %v", items)
		}
		status, hdr, body = adm.do(t, http.MethodPatch, "/tenants/acme", map[string]any{"name": "x"})
		wantProblem(t, "an admin's read token changing acme", status, hdr, body, http.StatusForbidden, "")
	})
}

// systemTokenForOtherAPI returns a client credentials token of the system
// tenant whose audience is not the management API.
func systemTokenForOtherAPI(t *testing.T, e *env) string {
	t.Helper()
	sys := systemFixture(t, e)
	ctx := tenants.WithTenant(context.Background(), sys.tenant)
	other := &tenants.API{Name: "other", Audience: "https://other.example.test", Scopes: []tenants.Scope{{Name: "tenants:read", Description: "x"}}}
	if err := e.store.CreateAPI(ctx, other); err != nil {
		t.Fatal(err)
	}
	id, plain := secret.Token(16), secret.Token(32)
	c := &tenants.Client{ClientID: id, Name: "other", ApplicationType: tenants.AppTypeMachine, TokenEndpointAuthMethod: tenants.AuthMethodBasic,
		SecretHash: secret.Hash(plain), GrantTypes: tenants.Strings{tenants.GrantClientCredentials}}
	if err := e.store.CreateClient(ctx, c, []tenants.ClientGrant{{APIID: other.ID, Scopes: []string{"tenants:read"}}}); err != nil {
		t.Fatal(err)
	}
	// An operator role, so that only the audience is wrong.
	if err := e.store.CreateAdminRole(ctx, &tenants.AdminRole{PrincipalKind: tenants.PrincipalClient, PrincipalID: id, Role: tenants.RoleOperator}); err != nil {
		t.Fatal(err)
	}
	return sys.clientCredentials(t, id, plain, other.Audience)
}

// systemTokenWithoutRole returns a management API token of a system tenant
// client that has no administrator role.
func systemTokenWithoutRole(t *testing.T, e *env) string {
	t.Helper()
	sys := systemFixture(t, e)
	ctx := tenants.WithTenant(context.Background(), sys.tenant)
	mgmt, err := e.store.APIByAudience(ctx, e.srv.Admin().APIAudience())
	if err != nil {
		t.Fatal(err)
	}
	id, plain := secret.Token(16), secret.Token(32)
	c := &tenants.Client{ClientID: id, Name: "no role", ApplicationType: tenants.AppTypeMachine, TokenEndpointAuthMethod: tenants.AuthMethodBasic,
		SecretHash: secret.Hash(plain), GrantTypes: tenants.Strings{tenants.GrantClientCredentials}}
	if err := e.store.CreateClient(ctx, c, []tenants.ClientGrant{{APIID: mgmt.ID, Scopes: admin.AllScopes()}}); err != nil {
		t.Fatal(err)
	}
	return sys.clientCredentials(t, id, plain, mgmt.Audience)
}

// systemFixture is the system tenant, as a fixture for its endpoints.
func systemFixture(t *testing.T, e *env) *fixture {
	t.Helper()
	sys, err := e.store.SystemTenant(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{e: e, slug: sys.Slug, issuer: sys.Issuer, tenant: sys}
}

// adminUserToken signs administrator email in at the system tenant through
// a web client granted the management API (as the console is) and returns
// their access token for the API, with scope.
func adminUserToken(t *testing.T, e *env, email, scope string) string {
	t.Helper()
	sys := systemFixture(t, e)
	sys.email, sys.password = email, testPassword
	ctx := tenants.WithTenant(context.Background(), sys.tenant)
	mgmt, err := e.store.APIByAudience(ctx, e.srv.Admin().APIAudience())
	if err != nil {
		t.Fatal(err)
	}
	plain := secret.Token(32)
	c := &tenants.Client{ClientID: secret.Token(16), Name: "console-like", ApplicationType: tenants.AppTypeWeb, TokenEndpointAuthMethod: tenants.AuthMethodBasic,
		SecretHash: secret.Hash(plain), GrantTypes: tenants.Strings{tenants.GrantAuthorizationCode}, RedirectURIs: tenants.Strings{redirectURI}}
	if err := e.store.CreateClient(ctx, c, []tenants.ClientGrant{{APIID: mgmt.ID, Scopes: admin.AllScopes()}}); err != nil {
		t.Fatal(err)
	}
	sys.waitForClient(t, c.ClientID)
	tok, _ := sys.codeFlow(e.browser(), &admin.Client{ClientID: c.ClientID, ClientSecret: plain}, []string{"openid", scope},
		oauth2.SetAuthURLParam("resource", mgmt.Audience))
	return tok.AccessToken
}

// clientCredentials gets a token for resource. The client was written to
// the store directly, which this node's cache learns of by polling: the
// request is retried for a while.
func (f *fixture) clientCredentials(t *testing.T, id, secret, resource string) string {
	t.Helper()
	var body map[string]any
	for range 40 {
		var status int
		status, _, body = f.post("/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {resource}})
		if status == http.StatusOK {
			return body["access_token"].(string)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("client credentials at %s: %v", f.issuer, body)
	return ""
}

// waitForClient waits until the authorization endpoint knows a client that
// was written to the store directly.
func (f *fixture) waitForClient(t *testing.T, clientID string) {
	t.Helper()
	_, challenge := pkce()
	for range 40 {
		p := f.e.browser().get(f.authorizeURL(clientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		if p.status == http.StatusFound || p.status == http.StatusSeeOther {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("client %s unknown at %s", clientID, f.issuer)
}
