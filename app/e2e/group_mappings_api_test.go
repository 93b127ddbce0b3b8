package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
)

// TestGroupMappingsAPI: a connection's group mapping over the management
// API: set by group name or id, read back; another tenant's group (by id
// or name) or connection answers 404 and changes nothing; bad upstream
// names and too many mappings are 400s naming the field.
func TestGroupMappingsAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.fixture("beta")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		adminA := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		md := string(samltest.NewIdP(t).Metadata())
		conn := func(slug string) string {
			t.Helper()
			c := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/"+slug+"/connections", map[string]any{"type": "saml", "name": "Corp",
				"metadata_xml": md, "pass_groups": true})
			if c["pass_groups"] != true {
				t.Fatalf("pass_groups not set: %v", c)
			}
			return c["id"].(string)
		}
		acmeConn, betaConn := conn("acme"), conn("beta")
		eng := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/groups", map[string]any{"name": "eng"})
		bGroup := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/groups", map[string]any{"name": "beta-only"})
		path := "/tenants/acme/connections/" + acmeConn + "/group-mappings"
		got := adminA.must(t, http.StatusOK, http.MethodPut, path, map[string]any{"mappings": []any{
			map[string]any{"upstream": "Engineering", "group": "eng"}, map[string]any{"upstream": "Devs", "group": eng["id"]},
		}})["items"].([]any)
		if len(got) != 2 || got[0].(map[string]any)["upstream"] != "Devs" || got[1].(map[string]any)["group_name"] != "eng" {
			t.Fatalf("mappings = %v", got)
		}
		before := fmtAny(adminA.must(t, http.StatusOK, http.MethodGet, path, nil))
		for _, c := range []struct {
			what, method, path string
			body               any
		}{
			{"beta's group by id", http.MethodPut, path, map[string]any{"mappings": []any{map[string]any{"upstream": "x", "group": bGroup["id"]}}}},
			{"beta's group by name", http.MethodPut, path, map[string]any{"mappings": []any{map[string]any{"upstream": "x", "group": "beta-only"}}}},
			{"beta's connection read", http.MethodGet, "/tenants/acme/connections/" + betaConn + "/group-mappings", nil},
			{"beta's connection set", http.MethodPut, "/tenants/acme/connections/" + betaConn + "/group-mappings", map[string]any{"mappings": []any{}}},
		} {
			status, hdr, body := adminA.do(t, c.method, c.path, c.body)
			wantProblem(t, c.what, status, hdr, body, http.StatusNotFound, "")
		}
		many := make([]any, 501)
		for i := range many {
			many[i] = map[string]any{"upstream": "g", "group": "eng"}
		}
		for _, c := range []struct {
			what  string
			body  any
			field string
		}{
			{"control characters", map[string]any{"mappings": []any{map[string]any{"upstream": "a\x01b", "group": "eng"}}}, "mappings[0].upstream"},
			{"empty upstream", map[string]any{"mappings": []any{map[string]any{"upstream": " ", "group": "eng"}}}, "mappings[0].upstream"},
			{"huge upstream", map[string]any{"mappings": []any{map[string]any{"upstream": strings.Repeat("g", 300), "group": "eng"}}}, "mappings[0].upstream"},
			{"too many", map[string]any{"mappings": many}, "mappings"},
		} {
			status, hdr, body := adminA.do(t, http.MethodPut, path, c.body)
			wantProblem(t, c.what, status, hdr, body, http.StatusBadRequest, c.field)
		}
		if after := fmtAny(adminA.must(t, http.StatusOK, http.MethodGet, path, nil)); after != before {
			t.Fatalf("a refused request changed the mapping:\n%s\n%s", before, after)
		}
		// pass_groups is not a setting of a social connection.
		gh := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/connections", map[string]any{"type": "github", "client_id": "x", "client_secret": "y"})
		status, hdr, body := adminA.do(t, http.MethodPatch, "/tenants/acme/connections/"+gh["id"].(string), map[string]any{"pass_groups": true})
		wantProblem(t, "pass_groups on github", status, hdr, body, http.StatusBadRequest, "pass_groups")
	})
}
