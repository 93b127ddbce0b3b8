package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestRBACCrossTenantBodies names another tenant's role, group and user in
// the bodies of acme's role and group routes (the paths are walked by
// TestAPICrossTenantWalk): each answers 404 as a made-up one does, a name
// both tenants use means acme's own, and beta is unchanged.
func TestRBACCrossTenantBodies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, b := e.fixture("acme"), e.fixture("beta")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		bRole := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/roles", map[string]any{"name": "only-beta",
			"permissions": []any{map[string]any{"audience": b.api, "scope": "write:orders"}}})
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/roles", map[string]any{"name": "shared"})
		bGroup := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/groups", map[string]any{"name": "beta-staff"})
		op.must(t, http.StatusOK, http.MethodPost, "/tenants/beta/groups/beta-staff/members", map[string]any{"user": b.userID})
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/apis", map[string]any{"audience": "https://only-beta.test",
			"scopes": []any{map[string]any{"value": "x:y"}}})
		before := snapshot(t, op, b)

		adminA := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "shared"})
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/groups", map[string]any{"name": "staff"})
		user := "/tenants/acme/users/" + a.userID
		for _, c := range []struct {
			what, method, path string
			body               map[string]any
		}{
			{"beta's role id given to acme's user", http.MethodPost, user + "/roles", map[string]any{"role": bRole["id"]}},
			{"beta's role name given to acme's user", http.MethodPost, user + "/roles", map[string]any{"role": "only-beta"}},
			{"beta's role given to acme's group", http.MethodPost, "/tenants/acme/groups/staff/roles", map[string]any{"role": bRole["id"]}},
			{"beta's user added to acme's group", http.MethodPost, "/tenants/acme/groups/staff/members", map[string]any{"user": b.userID}},
			{"beta's role taken from acme's user", http.MethodDelete, user + "/roles/" + bRole["id"].(string), nil},
			{"beta's user removed from acme's group", http.MethodDelete, "/tenants/acme/groups/staff/members/" + b.userID, nil},
			{"beta's group under acme", http.MethodGet, "/tenants/acme/groups/" + bGroup["id"].(string) + "/members", nil},
			{"beta's group by name under acme", http.MethodGet, "/tenants/acme/groups/beta-staff", nil},
			{"beta's role by name under acme", http.MethodGet, "/tenants/acme/roles/only-beta", nil},
		} {
			var body any
			if c.body != nil {
				body = c.body
			}
			status, hdr, got := adminA.do(t, c.method, c.path, body)
			wantProblem(t, c.what, status, hdr, got, http.StatusNotFound, "")
		}
		// A permission on an API only beta has: no such API in acme.
		status, hdr, got := adminA.do(t, http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "x",
			"permissions": []any{map[string]any{"audience": "https://only-beta.test", "scope": "x:y"}}})
		wantProblem(t, "a permission on beta's API", status, hdr, got, http.StatusBadRequest, "permissions")

		// A name both tenants use names acme's own.
		roles := adminA.must(t, http.StatusOK, http.MethodPost, user+"/roles", map[string]any{"role": "shared"})["items"].([]any)
		if len(roles) != 1 || roles[0].(map[string]any)["name"] != "shared" {
			t.Fatalf("acme's user roles: %v", roles)
		}
		acmeShared := adminA.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/roles/shared", nil)
		if roles[0].(map[string]any)["id"] != acmeShared["id"] {
			t.Fatalf("the shared name gave acme's user %v, not acme's role %v", roles[0], acmeShared)
		}
		if after := snapshot(t, op, b); after != before {
			t.Fatalf("beta changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestRBACBadBodies: malformed bodies of the role, group and API routes
// answer 400 naming the field, and change nothing.
func TestRBACBadBodies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		apiID := op.items(t, "/tenants/acme/apis")[0]["id"].(string)
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "clerk"})
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/groups", map[string]any{"name": "staff"})
		before := snapshot(t, op, f)
		for _, c := range []struct {
			what, method, path string
			body               any
			status             int
			field              string
		}{
			{"role without a name", http.MethodPost, "/tenants/acme/roles", map[string]any{"description": "x"}, 400, "name"},
			{"role name not a string", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": 5}, 400, "name"},
			{"role with an unknown field", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "x", "scopes": []any{}}, 400, ""},
			{"role with an empty permission", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "x", "permissions": []any{map[string]any{}}}, 400, "permissions"},
			{"role with an unknown scope", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "x",
				"permissions": []any{map[string]any{"audience": f.api, "scope": "delete:orders"}}}, 400, "permissions"},
			{"role with an unknown API", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "x",
				"permissions": []any{map[string]any{"audience": "https://nowhere.test", "scope": "read:orders"}}}, 400, "permissions"},
			{"permissions not a list", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "x", "permissions": "read:orders"}, 400, "permissions"},
			{"role name taken", http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "clerk"}, 409, ""},
			{"role name too long", http.MethodPatch, "/tenants/acme/roles/clerk", map[string]any{"name": strings.Repeat("r", 101)}, 400, "name"},
			{"role body an array", http.MethodPost, "/tenants/acme/roles", []any{}, 400, ""},
			{"user role without a role", http.MethodPost, "/tenants/acme/users/" + f.userID + "/roles", map[string]any{}, 400, "role"},
			{"user role not a string", http.MethodPost, "/tenants/acme/users/" + f.userID + "/roles", map[string]any{"role": []any{"clerk"}}, 400, "role"},
			{"unknown role", http.MethodPost, "/tenants/acme/users/" + f.userID + "/roles", map[string]any{"role": "nope"}, 404, ""},
			{"group without a name", http.MethodPost, "/tenants/acme/groups", map[string]any{}, 400, "name"},
			{"member without a user", http.MethodPost, "/tenants/acme/groups/staff/members", map[string]any{}, 400, "user"},
			{"group role without a role", http.MethodPost, "/tenants/acme/groups/staff/roles", map[string]any{"role": ""}, 400, "role"},
			{"unknown token claim", http.MethodPatch, "/tenants/acme/apis/" + apiID, map[string]any{"token_claims": []any{"sub"}}, 400, "token_claims"},
			{"token claim twice", http.MethodPatch, "/tenants/acme/apis/" + apiID, map[string]any{"token_claims": []any{"roles", "roles"}}, 400, "token_claims"},
			{"rbac not a boolean", http.MethodPatch, "/tenants/acme/apis/" + apiID, map[string]any{"rbac": "yes"}, 400, "rbac"},
		} {
			status, hdr, got := op.do(t, c.method, c.path, c.body)
			wantProblem(t, c.what, status, hdr, got, c.status, c.field)
		}
		if after := snapshot(t, op, f); after != before {
			t.Fatalf("a refused request changed acme:\nbefore %s\nafter  %s", before, after)
		}
	})
}
