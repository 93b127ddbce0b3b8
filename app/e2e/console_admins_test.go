package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/admin/console"
)

// cliCtx is a context in which the admin services act as the CLI.
func cliCtx() context.Context { return admin.WithPrincipal(context.Background(), admin.CLI()) }

// TestConsolePrincipalsHideOtherTenants signs in the admin of tenant acme
// and sends every console route of administrators and management clients
// the ids of beta's and of operators: each answers 404, exactly as a
// made-up id does, and none of them changes. The list shows acme's only.
func TestConsolePrincipalsHideOtherTenants(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.fixture("beta")
		svc := e.srv.Admin()
		betaAdmin, betaClient := e.principalsOf(t, "beta")
		opAdmin, opClient := e.principalsOf(t, "")
		acmeAdmin, acmeClient := e.principalsOf(t, "acme")
		b, csrf := e.consoleAs(t, "anna@acme.test", "acme")
		snapshot := func() string {
			var out strings.Builder
			for _, id := range []string{betaAdmin, opAdmin} {
				a, err := svc.GetAdmin(cliCtx(), id)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(a)
				out.Write(b)
			}
			for _, id := range []string{betaClient, opClient} {
				c, err := svc.GetAdminClient(cliCtx(), id)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(c)
				out.Write(b)
			}
			return out.String()
		}
		before := snapshot()
		made := consoleIDs{"admin": "0190aaaa-0000-7000-8000-000000000003", "mclient": "no-such-client"}
		checked := 0
		for _, r := range console.Routes() {
			if !strings.Contains(r.Path, ":admin") && !strings.Contains(r.Path, ":mclient") {
				continue
			}
			send := func(ids consoleIDs) *page {
				path, _ := consolePath(t, r, ids)
				if r.Method == http.MethodGet {
					return b.get(e.base + path)
				}
				return b.post(e.base+path, url.Values{"csrf_token": {csrf}, "role": {"operator"}, "tenants": {"acme"}, "scopes": {"tenants:read"}})
			}
			fake := send(made)
			for _, ids := range []consoleIDs{{"admin": betaAdmin, "mclient": betaClient}, {"admin": opAdmin, "mclient": opClient}} {
				p := send(ids)
				checked++
				if p.status != http.StatusNotFound || stripRequestID(p.body) != stripRequestID(fake.body) {
					t.Errorf("%s %s with %v: %d, want the 404 of a made-up id", r.Method, r.Path, ids, p.status)
				}
			}
		}
		if checked < 12 {
			t.Fatalf("only %d requests", checked)
		}
		if after := snapshot(); after != before {
			t.Fatalf("beta's principals or the operators changed:\n%s\n%s", before, after)
		}
		list := b.get(e.base + "/admin/administrators")
		if list.status != http.StatusOK || !strings.Contains(list.body, acmeClient) || !strings.Contains(list.body, "anna@acme.test") {
			t.Fatalf("acme's admin's list: %d\n%s", list.status, list.body)
		}
		a, _ := svc.GetAdmin(cliCtx(), acmeAdmin)
		for _, other := range []string{betaClient, opClient, a.User.Email} {
			if other != a.User.Email && strings.Contains(list.body, other) {
				t.Fatalf("acme's admin's list shows %s", other)
			}
		}
		if !strings.Contains(list.body, a.User.Email) {
			t.Fatalf("acme's admin's list lacks acme's administrator %s", a.User.Email)
		}
	})
}

// TestConsoleAdministrators changes and revokes administrators and
// management clients in the console, and attacks it: a narrowed
// administrator's next requests, a tenant admin widening themselves, the
// last operator's removal, a deleted administrator's session.
func TestConsoleAdministrators(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.fixture("beta")
		svc := e.srv.Admin()
		ops, csrf := e.consoleAs(t, "ops@example.test", "")
		anna, acsrf := e.consoleAs(t, "anna@acme.test", "acme")
		annaID := mustAdmin(t, e, "anna@acme.test").User.ID
		opsID := mustAdmin(t, e, "ops@example.test").User.ID
		annaPage := e.base + "/admin/administrators/" + annaID

		list := ops.get(e.base + "/admin/administrators")
		if list.status != http.StatusOK || !strings.Contains(list.body, "anna@acme.test") || !strings.Contains(list.body, "ops@example.test") {
			t.Fatalf("the operator's list: %d\n%s", list.status, list.body)
		}
		p := ops.get(annaPage)
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="role"`) || !strings.Contains(p.body, `value="beta"`) {
			t.Fatalf("anna's page for the operator: %d\n%s", p.status, p.body)
		}
		if p := anna.get(annaPage); p.status != http.StatusOK || strings.Contains(p.body, `name="role"`) || strings.Contains(p.body, `value="beta"`) {
			t.Fatalf("anna's own page offers what she does not hold: %d\n%s", p.status, p.body)
		}

		form := func(token string, kv ...string) url.Values {
			v := url.Values{"csrf_token": {token}}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Add(kv[i], kv[i+1])
			}
			return v
		}
		wantDone := func(what string, p *page, flash string) {
			t.Helper()
			if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "?done="+flash) {
				t.Fatalf("%s: %d %s\n%s", what, p.status, p.location, p.body)
			}
		}

		// Widened to beta: it counts at her next request.
		wantDone("widen", ops.post(annaPage, form(csrf, "role", "tenant_admin", "tenants", "acme", "tenants", "beta",
			"scopes", "tenants:read", "scopes", "tenants:write")), "admin-updated")
		if p := anna.get(e.base + "/admin/t/beta"); p.status != http.StatusOK {
			t.Fatalf("anna at beta after the widening: %d", p.status)
		}

		// Anna may narrow herself, never widen.
		before := adminJSON(t, e, "anna@acme.test")
		for name, f := range map[string]url.Values{
			"audit:read": form(acsrf, "tenants", "acme", "scopes", "tenants:read", "scopes", "tenants:write", "scopes", "audit:read"),
			"operator":   form(acsrf, "role", "operator", "scopes", "tenants:read", "scopes", "tenants:write"),
		} {
			if p := anna.post(annaPage, f); p.status != http.StatusForbidden {
				t.Fatalf("anna gives herself %s: %d %s", name, p.status, p.location)
			}
		}
		if p := anna.post(annaPage, form(acsrf, "tenants", "acme", "tenants", "admin", "scopes", "tenants:read")); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.body, `id="tenants-error"`) {
			t.Fatalf("anna gives herself the system tenant: %d\n%s", p.status, p.body)
		}
		if p := anna.post(annaPage, form(acsrf, "tenants", "acme")); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="scopes-error"`) {
			t.Fatalf("no scope: %d\n%s", p.status, p.body)
		}
		if after := adminJSON(t, e, "anna@acme.test"); after != before {
			t.Fatalf("a refused change changed anna:\n%s\n%s", before, after)
		}

		// Narrowed by the operator: beta and writing end at her next request.
		wantDone("narrow", ops.post(annaPage, form(csrf, "role", "tenant_admin", "tenants", "acme", "scopes", "tenants:read")), "admin-updated")
		if p := anna.get(e.base + "/admin/t/beta"); p.status != http.StatusNotFound {
			t.Fatalf("anna at beta after the narrowing: %d", p.status)
		}
		if p := anna.post(e.base+"/admin/t/acme/users/new", form(acsrf, "email", "new@acme.test", "password", testPassword)); p.status != http.StatusForbidden {
			t.Fatalf("anna writing after losing tenants:write: %d", p.status)
		}
		if p := anna.get(e.base + "/admin/t/acme/users"); p.status != http.StatusOK {
			t.Fatalf("anna reading: %d", p.status)
		}
		if p := anna.post(annaPage, form(acsrf, "tenants", "acme", "scopes", "tenants:read", "scopes", "tenants:write")); p.status != http.StatusForbidden {
			t.Fatalf("anna takes back tenants:write: %d", p.status)
		}

		// A management client, narrowed and revoked.
		ci, err := svc.CreateAdminClient(context.Background(), admin.CreateAdminClientInput{Name: "ci", Scopes: admin.AllScopes(), TenantSlug: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		ciPage := e.base + "/admin/management-clients/" + ci.ClientID
		wantDone("narrow a client", ops.post(ciPage, form(csrf, "role", "tenant_admin", "tenants", "acme", "scopes", "audit:read")), "admin-client-updated")
		if c, _ := svc.GetAdminClient(cliCtx(), ci.ClientID); fmtAny(c.Scopes) != fmtAny([]string{"audit:read"}) {
			t.Fatalf("the client after the narrowing: %+v", c)
		}
		wantDone("revoke a client", ops.post(ciPage+"/delete", form(csrf)), "admin-client-deleted")
		if status, code, _ := e.mgmtToken(t, ci.ClientID, ci.ClientSecret); status != http.StatusUnauthorized || code != "invalid_client" {
			t.Fatalf("the revoked client's secret: %d %s", status, code)
		}

		// The last operator stays.
		opsPage := e.base + "/admin/administrators/" + opsID
		if p := ops.post(opsPage+"/delete", form(csrf)); p.status != http.StatusConflict || !strings.Contains(p.body, "last operator") {
			t.Fatalf("deleting the last operator: %d\n%s", p.status, p.body)
		}
		if p := ops.post(opsPage, form(csrf, "role", "tenant_admin", "tenants", "acme", "scopes", "tenants:read")); p.status != http.StatusConflict {
			t.Fatalf("making the last operator a tenant admin: %d", p.status)
		}
		if p := ops.get(e.base + "/admin"); p.status != http.StatusOK {
			t.Fatalf("the operator lost the console: %d", p.status)
		}

		// A deleted administrator's session ends.
		wantDone("delete anna", ops.post(annaPage+"/delete", form(csrf)), "admin-deleted")
		if p := anna.get(e.base + "/admin/t/acme"); p.status != http.StatusFound || !strings.HasPrefix(p.location, "/admin/login") {
			t.Fatalf("a deleted administrator's session: %d %s", p.status, p.location)
		}
		if p := ops.get(annaPage); p.status != http.StatusNotFound {
			t.Fatalf("a deleted administrator's page: %d", p.status)
		}
	})
}

func adminJSON(t *testing.T, e *env, email string) string {
	t.Helper()
	b, _ := json.Marshal(mustAdmin(t, e, email))
	return string(b)
}

func mustAdmin(t *testing.T, e *env, email string) *admin.Admin {
	t.Helper()
	a, err := e.srv.Admin().AdminByEmail(cliCtx(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
