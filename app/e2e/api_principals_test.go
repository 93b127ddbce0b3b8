package e2e

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// mgmtToken gets a fresh management API token for client id with secret,
// and returns the status of the token endpoint's answer, its error code and
// the token.
func (e *env) mgmtToken(t *testing.T, id, secret string) (int, string, string) {
	t.Helper()
	sys := systemFixture(t, e)
	status, _, body := sys.post("/oauth/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {e.srv.Admin().APIAudience()}})
	tok, _ := body["access_token"].(string)
	return status, errorCode(body), tok
}

// TestAPIAdministratorsLifecycle lists, narrows and revokes administrators
// and management clients through the API, and attacks what it built: a
// narrowed token's next request, a tenant admin widening a principal or
// itself, an operator granting a scope it lacks, the last operator's
// deletion, a revoked client's old token and secret, a deleted
// administrator's console session and token.
func TestAPIAdministratorsLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.fixture("beta")
		svc := e.srv.Admin()
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)

		// Narrowing counts from the next request of a token issued before.
		both := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		got := op.must(t, http.StatusOK, http.MethodPatch, "/management-clients/"+both.clientID, map[string]any{"tenants": []string{"acme", "beta"}})
		if got["role"] != "tenant_admin" || fmtAny(got["tenants"]) != fmtAny([]any{"acme", "beta"}) {
			t.Fatalf("widened: %v", got)
		}
		both.must(t, http.StatusOK, http.MethodGet, "/tenants/beta", nil)
		op.must(t, http.StatusOK, http.MethodPatch, "/management-clients/"+both.clientID, map[string]any{"tenants": []string{"acme"}, "scopes": []string{"tenants:read"}})
		status, hdr, body := both.do(t, http.MethodGet, "/tenants/beta", nil)
		wantProblem(t, "a narrowed token at a tenant taken away", status, hdr, body, http.StatusNotFound, "")
		status, hdr, body = both.do(t, http.MethodPatch, "/tenants/acme", map[string]any{"name": "x"})
		wantProblem(t, "a narrowed token writing", status, hdr, body, http.StatusForbidden, "")
		both.must(t, http.StatusOK, http.MethodGet, "/tenants/acme", nil)
		if status, _, _ := e.mgmtToken(t, both.clientID, both.secret); status != http.StatusOK {
			t.Fatalf("a narrowed client's new token: %d", status)
		}

		// A tenant admin of acme may narrow and revoke acme's principals,
		// and nothing more.
		attacker := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		anna, peer := e.principalsOf(t, "acme")
		op.must(t, http.StatusOK, http.MethodPatch, "/administrators/"+anna, map[string]any{"scopes": []string{"tenants:read", "audit:read"}})
		annaBefore := op.must(t, http.StatusOK, http.MethodGet, "/administrators/"+anna, nil)
		selfBefore := op.must(t, http.StatusOK, http.MethodGet, "/management-clients/"+attacker.clientID, nil)
		for _, tc := range []struct {
			name   string
			path   string
			body   map[string]any
			status int
			field  string
		}{
			{"itself an audit:read it lacks", "/management-clients/" + attacker.clientID, map[string]any{"scopes": []string{"tenants:read", "tenants:write", "audit:read"}}, http.StatusForbidden, ""},
			{"itself an operator", "/management-clients/" + attacker.clientID, map[string]any{"operator": true}, http.StatusForbidden, ""},
			{"itself tenant beta", "/management-clients/" + attacker.clientID, map[string]any{"tenants": []string{"acme", "beta"}}, http.StatusBadRequest, "tenants"},
			{"anna write, which it holds", "/administrators/" + anna, map[string]any{"scopes": []string{"tenants:read", "audit:read", "tenants:write"}}, http.StatusForbidden, ""},
			{"anna an operator", "/administrators/" + anna, map[string]any{"operator": true}, http.StatusForbidden, ""},
			{"anna the admin system tenant", "/administrators/" + anna, map[string]any{"tenants": []string{"admin"}}, http.StatusBadRequest, "tenants"},
			{"anna no tenant", "/administrators/" + anna, map[string]any{"tenants": []string{}}, http.StatusBadRequest, "tenants"},
			{"anna no scope", "/administrators/" + anna, map[string]any{"scopes": []string{}}, http.StatusBadRequest, "scopes"},
			{"anna a scope that is none", "/administrators/" + anna, map[string]any{"scopes": []string{"root"}}, http.StatusBadRequest, "scopes"},
		} {
			status, hdr, body := attacker.do(t, http.MethodPatch, tc.path, tc.body)
			wantProblem(t, "acme's admin gives "+tc.name, status, hdr, body, tc.status, tc.field)
		}
		// Beta named as a tenant is answered as a made-up one is.
		_, _, beta := attacker.do(t, http.MethodPatch, "/administrators/"+anna, map[string]any{"tenants": []string{"beta"}})
		_, _, none := attacker.do(t, http.MethodPatch, "/administrators/"+anna, map[string]any{"tenants": []string{"gamma"}})
		if strings.ReplaceAll(fmtAny(beta), "beta", "X") != strings.ReplaceAll(fmtAny(none), "gamma", "X") {
			t.Fatalf("beta's answer %v differs from a made-up tenant's %v", beta, none)
		}
		if a := op.must(t, http.StatusOK, http.MethodGet, "/administrators/"+anna, nil); fmtAny(a) != fmtAny(annaBefore) {
			t.Fatalf("a refused change changed anna: %v, was %v", a, annaBefore)
		}
		if c := op.must(t, http.StatusOK, http.MethodGet, "/management-clients/"+attacker.clientID, nil); fmtAny(c) != fmtAny(selfBefore) {
			t.Fatalf("a refused change changed the attacker: %v, was %v", c, selfBefore)
		}
		attacker.must(t, http.StatusOK, http.MethodPatch, "/administrators/"+anna, map[string]any{"scopes": []string{"audit:read"}, "tenants": []string{"acme"}})
		if status, _, body := attacker.do(t, http.MethodPatch, "/administrators/"+anna, map[string]any{"scopes": []string{"tenants:read"}}); status != http.StatusForbidden {
			t.Fatalf("acme's admin gives anna back what it took: %d %v", status, body)
		}
		attacker.must(t, http.StatusNoContent, http.MethodDelete, "/management-clients/"+peer, nil)

		// An operator grants only what it holds.
		opRW := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		status, hdr, body = opRW.do(t, http.MethodPatch, "/management-clients/"+both.clientID, map[string]any{"scopes": []string{"audit:read", "tenants:read"}})
		wantProblem(t, "an operator without audit:read giving it", status, hdr, body, http.StatusForbidden, "")
		opRW.must(t, http.StatusOK, http.MethodPatch, "/management-clients/"+both.clientID, map[string]any{"scopes": []string{"tenants:write"}})
		// Keeping a scope it lacks is no grant.
		opRW.must(t, http.StatusOK, http.MethodPatch, "/administrators/"+anna, map[string]any{"tenants": []string{"acme", "beta"}})

		// The last operator who is a person stays.
		ops, err := svc.CreateAdmin(context.Background(), admin.CreateAdminInput{Email: "ops@example.test", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		status, hdr, body = op.do(t, http.MethodDelete, "/administrators/"+ops.User.ID, nil)
		wantProblem(t, "deleting the last operator", status, hdr, body, http.StatusConflict, "")
		status, hdr, body = op.do(t, http.MethodPatch, "/administrators/"+ops.User.ID, map[string]any{"operator": false, "tenants": []string{"acme"}})
		wantProblem(t, "making the last operator a tenant admin", status, hdr, body, http.StatusConflict, "")
		if a := op.must(t, http.StatusOK, http.MethodGet, "/administrators/"+ops.User.ID, nil); a["role"] != "operator" {
			t.Fatalf("the last operator: %v", a)
		}
		op.must(t, http.StatusOK, http.MethodPatch, "/administrators/"+anna, map[string]any{"operator": true})
		op.must(t, http.StatusNoContent, http.MethodDelete, "/administrators/"+ops.User.ID, nil)
		status, hdr, body = op.do(t, http.MethodGet, "/administrators/"+ops.User.ID, nil)
		wantProblem(t, "a deleted administrator", status, hdr, body, http.StatusNotFound, "")

		// A revoked client: its token, its secret.
		victim := e.managementClient(t, "acme", admin.ScopeTenantsRead)
		victim.must(t, http.StatusOK, http.MethodGet, "/tenants", nil)
		op.must(t, http.StatusNoContent, http.MethodDelete, "/management-clients/"+victim.clientID, nil)
		status, hdr, body = victim.do(t, http.MethodGet, "/tenants", nil)
		wantProblem(t, "a revoked client's token", status, hdr, body, http.StatusUnauthorized, "")
		if status, code, _ := e.mgmtToken(t, victim.clientID, victim.secret); status != http.StatusUnauthorized || code != "invalid_client" {
			t.Fatalf("a revoked client's secret: %d %s", status, code)
		}
		sys := systemFixture(t, e)
		if status, _, body := sys.post("/oauth/introspect", victim.clientID, victim.secret, url.Values{"token": {victim.token}}); status != http.StatusUnauthorized && body["active"] != false {
			t.Fatalf("introspection by the revoked client: %d %v", status, body)
		}

		// A deleted administrator: their console session and their token.
		e.createAdmin(t, "alice@example.test", "acme")
		b := e.browser()
		if p := e.consoleLogin(b, "alice@example.test", testPassword, "/admin"); p.status != http.StatusOK {
			t.Fatalf("alice's console: %d", p.status)
		}
		alice := &apiClient{e: e, token: adminUserToken(t, e, "alice@example.test", admin.ScopeTenantsRead)}
		alice.must(t, http.StatusOK, http.MethodGet, "/tenants/acme", nil)
		a, err := svc.AdminByEmail(admin.WithPrincipal(context.Background(), admin.CLI()), "alice@example.test")
		if err != nil {
			t.Fatal(err)
		}
		op.must(t, http.StatusNoContent, http.MethodDelete, "/administrators/"+a.User.ID, nil)
		if p := b.get(e.base + "/admin/t/acme"); p.status != http.StatusFound || !strings.HasPrefix(p.location, "/admin/login") {
			t.Fatalf("a deleted administrator's console session: %d %s", p.status, p.location)
		}
		status, hdr, body = alice.do(t, http.MethodGet, "/tenants/acme", nil)
		wantProblem(t, "a deleted administrator's token", status, hdr, body, http.StatusUnauthorized, "")
		if p := e.consoleLogin(e.browser(), "alice@example.test", testPassword, "/admin"); p.status == http.StatusOK && strings.Contains(p.body, "Acme Inc") {
			t.Fatal("a deleted administrator signed in again")
		}
	})
}

// TestRevokedManagementClientOnEveryNode revokes a management client on one
// node while another, which served it a moment ago, still has it cached:
// on the other node at once, its old token is refused by the management
// API and inactive at introspection, and its secret gets no new token
// (invalid_client, never a token or a server error).
func TestRevokedManagementClientOnEveryNode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		dbURL := db.URL(t)
		key, _ := secret.ParseMasterKey(secret.NewMasterKey())
		lnA, _ := net.Listen("tcp", "127.0.0.1:0")
		lnB, _ := net.Listen("tcp", "127.0.0.1:0")
		_, port, _ := net.SplitHostPort(lnA.Addr().String())
		a := startNode(t, dbURL, key, lnA, "http://localhost:"+port)
		b := startNode(t, dbURL, key, lnB, "http://localhost:"+port)
		a.fixture("acme")
		victim := a.managementClient(t, "acme", admin.ScopeTenantsRead)
		onB := &apiClient{e: b, token: victim.token}
		// B knows the client: it issues it a token and serves the API.
		status, _, tokB := b.mgmtToken(t, victim.clientID, victim.secret)
		if status != http.StatusOK {
			t.Fatalf("a token on B: %d", status)
		}
		onB.must(t, http.StatusOK, http.MethodGet, "/tenants", nil)

		if err := a.srv.Admin().DeleteAdminClient(admin.WithPrincipal(context.Background(), admin.CLI()), victim.clientID); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{victim.token, tokB} {
			onB.token = tok
			status, hdr, body := onB.do(t, http.MethodGet, "/tenants", nil)
			wantProblem(t, "a revoked client's token on B", status, hdr, body, http.StatusUnauthorized, "")
			status, _, body = systemFixture(t, b).post("/oauth/introspect", victim.clientID, victim.secret, url.Values{"token": {tok}})
			if status != http.StatusUnauthorized && (status != http.StatusOK || body["active"] != false) {
				t.Fatalf("introspection on B of a revoked client's token: %d %v", status, body)
			}
		}
		if status, code, tok := b.mgmtToken(t, victim.clientID, victim.secret); status != http.StatusUnauthorized || code != "invalid_client" || tok != "" {
			t.Fatalf("a revoked client's secret on B: %d %s", status, code)
		}
	})
}
