package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestAPIAPIs registers, reads, changes and deletes APIs and their scopes
// through the API.
func TestAPIAPIs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		base := "/tenants/acme/apis"

		status, hdr, v := c.do(t, http.MethodPost, base, map[string]any{"name": "Billing", "audience": "https://billing.acme.test",
			"scopes": []any{map[string]any{"value": "read:invoices", "description": "Read your invoices"}, map[string]any{"value": "pay:invoices"}}})
		if status != http.StatusCreated || v["audience"] != "https://billing.acme.test" || hdr.Get("Location") != admin.APIPath+base+"/"+v["id"].(string) {
			t.Fatalf("create: %d %v %v", status, hdr, v)
		}
		id := v["id"].(string)
		if sc := objects(t, v["scopes"]); len(sc) != 2 || sc[1]["value"] != "pay:invoices" || sc[1]["description"] != "Pay invoices" {
			t.Fatalf("scopes (a missing description is made from the value): %v", sc)
		}
		if got := c.must(t, http.StatusOK, http.MethodGet, base+"/"+id, nil); got["name"] != "Billing" || len(objects(t, got["scopes"])) != 2 {
			t.Fatalf("get: %v", got)
		}
		// A name defaults to the audience.
		v = c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"audience": "https://plain.acme.test"})
		if v["name"] != "https://plain.acme.test" || len(objects(t, v["scopes"])) != 0 {
			t.Fatalf("create without name and scopes: %v", v)
		}
		// Pages in order of audience.
		p1 := c.must(t, http.StatusOK, http.MethodGet, base+"?limit=2", nil)
		p2 := c.must(t, http.StatusOK, http.MethodGet, base+"?limit=2&after="+p1["next"].(string), nil)
		var auds []string
		for _, a := range append(objects(t, p1["items"]), objects(t, p2["items"])...) {
			auds = append(auds, a["audience"].(string))
		}
		if !slices.Equal(auds, []string{f.api, "https://billing.acme.test", "https://plain.acme.test"}) || p2["next"] != nil {
			t.Fatalf("pages: %v %v", auds, p2["next"])
		}

		// Rename; scopes left out stay.
		v = c.must(t, http.StatusOK, http.MethodPatch, base+"/"+id, map[string]any{"name": "Billing API"})
		if v["name"] != "Billing API" || len(objects(t, v["scopes"])) != 2 {
			t.Fatalf("rename: %v", v)
		}
		// Replacing the Orders API's scopes withdraws read:orders from the
		// worker, which then cannot get it.
		orders := p1["items"].([]any)[0].(map[string]any)["id"].(string)
		v = c.must(t, http.StatusOK, http.MethodPatch, base+"/"+orders, map[string]any{"scopes": []any{map[string]any{"value": "write:orders", "description": "Place orders"}}})
		if sc := objects(t, v["scopes"]); len(sc) != 1 || sc[0]["description"] != "Place orders" {
			t.Fatalf("replace scopes: %v", v)
		}
		w := c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/applications/"+f.worker.ClientID, nil)
		if g := objects(t, w["api_grants"]); len(g) != 1 || len(strs(g[0]["scopes"])) != 0 {
			t.Fatalf("worker's grant after its scope was withdrawn: %v", g)
		}
		eventually(t, 2*time.Second, "withdrawn scope refused", func() bool {
			s, _, _ := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:orders"}})
			return s == http.StatusBadRequest
		})

		for _, tc := range []struct {
			name, method, path string
			body               any
			want               int
			field              string
		}{
			{"no audience", http.MethodPost, base, map[string]any{"name": "x"}, 400, "audience"},
			{"relative audience", http.MethodPost, base, map[string]any{"audience": "/orders"}, 400, "audience"},
			{"audience with fragment", http.MethodPost, base, map[string]any{"audience": "https://x.test/#a"}, 400, "audience"},
			{"OIDC scope", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"value": "openid"}}}, 400, "scopes"},
			{"scope with space", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"value": "read orders"}}}, 400, "scopes"},
			{"scope twice", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"value": "a"}, map[string]any{"value": "a"}}}, 400, "scopes"},
			{"description with NUL", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"value": "a", "description": "bad\x00desc"}}}, 400, "scopes.description"},
			{"description with a control character", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"value": "a", "description": "ring\x07"}}}, 400, "scopes"},
			{"scope of wrong type", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"value": 1}}}, 400, "scopes.value"},
			{"scopes as strings", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []string{"a"}}, 400, "scopes"},
			{"scope unknown field", http.MethodPost, base, map[string]any{"audience": "https://x.test", "scopes": []any{map[string]any{"name": "a"}}}, 400, "name"},
			{"audience taken", http.MethodPost, base, map[string]any{"audience": f.api}, 409, ""},
			{"audience is not changed", http.MethodPatch, base + "/" + id, map[string]any{"audience": "https://other.test"}, 400, "audience"},
			{"empty name", http.MethodPatch, base + "/" + id, map[string]any{"name": ""}, 400, "name"},
			{"limit", http.MethodGet, base + "?limit=-1", nil, 400, "limit"},
		} {
			status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
			wantProblem(t, tc.name, status, hdr, body, tc.want, tc.field)
		}
		if n := len(c.items(t, base)); n != 3 {
			t.Fatalf("bad input created APIs: %d", n)
		}

		// Delete: 204, then 404; the worker loses its grant of it.
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/"+orders, nil)
		status, hdr, body := c.do(t, http.MethodDelete, base+"/"+orders, nil)
		wantProblem(t, "second delete", status, hdr, body, http.StatusNotFound, "")
		w = c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/applications/"+f.worker.ClientID, nil)
		if len(objects(t, w["api_grants"])) != 0 {
			t.Fatalf("grants of a deleted API: %v", w["api_grants"])
		}
	})
}
