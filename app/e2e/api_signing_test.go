package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestAPISigningAlgorithms selects signing algorithms through the
// management API: an API's access tokens, an application's ID tokens, a
// key rotation; each selected algorithm gets a key that the tenant's JWKS
// publishes, and anything but the supported algorithms is refused naming
// the field.
func TestAPISigningAlgorithms(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		e.fixture("globex")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)

		v := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/apis", map[string]any{"audience": "https://es.acme.test", "signing_alg": "ES256"})
		if v["signing_alg"] != "ES256" {
			t.Fatalf("create API with ES256: %v", v)
		}
		apiID := v["id"].(string)
		if v := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/apis", map[string]any{"audience": "https://default.acme.test"}); v["signing_alg"] != "RS256" {
			t.Fatalf("an API's default algorithm: %v", v)
		}
		if v := c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/apis/"+apiID, map[string]any{"signing_alg": "EdDSA"}); v["signing_alg"] != "EdDSA" {
			t.Fatalf("change an API's algorithm: %v", v)
		}
		app := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/applications", map[string]any{
			"kind": "web", "client_name": "ps", "redirect_uris": []string{"https://ps.acme.test/cb"}, "id_token_signed_response_alg": "PS256"})
		if app["id_token_signed_response_alg"] != "PS256" {
			t.Fatalf("create application with PS256: %v", app)
		}
		clientID := app["client_id"].(string)
		if v := c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/applications/"+clientID, map[string]any{"id_token_signed_response_alg": "RS256"}); v["id_token_signed_response_alg"] != "RS256" {
			t.Fatalf("change an application's algorithm: %v", v)
		}

		// Every selected algorithm has a key that signs, in the JWKS.
		var jwks struct {
			Keys []struct{ Kid, Alg string } `json:"keys"`
		}
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/jwks.json")), &jwks); err != nil {
			t.Fatal(err)
		}
		var algs []string
		for _, k := range jwks.Keys {
			if !slices.Contains(algs, k.Alg) {
				algs = append(algs, k.Alg)
			}
		}
		slices.Sort(algs)
		if want := []string{"ES256", "EdDSA", "PS256", "RS256"}; !slices.Equal(algs, want) {
			t.Fatalf("JWKS algorithms %v, want %v", algs, want)
		}
		for _, k := range c.items(t, "/tenants/acme/keys") {
			if k["status"] != "active" {
				t.Errorf("key %v: want active (a first key of an algorithm signs at once)", k)
			}
		}
		// The other tenant got none of them.
		g := e.managementClient(t, "globex", admin.ScopeTenantsRead)
		if ks := g.items(t, "/tenants/globex/keys"); len(ks) != 1 || ks[0]["alg"] != "RS256" {
			t.Fatalf("globex keys: %v", ks)
		}

		// A rotation publishes the next key first; "now" switches at once.
		if k := c.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/keys/rotate", nil); k["status"] != "next" || k["alg"] != "RS256" {
			t.Fatalf("rotate without a body: %v", k)
		}
		if k := c.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/keys/rotate", map[string]any{"alg": "ES256", "now": true}); k["status"] != "active" || k["alg"] != "ES256" {
			t.Fatalf("rotate ES256 now: %v", k)
		}
		if v := c.must(t, http.StatusOK, http.MethodPut, "/tenants/acme/keys/rotation", map[string]any{"rotation_period": 90 * 24 * 3600}); v["rotation_period"] != float64(90*24*3600) {
			t.Fatalf("set rotation: %v", v)
		}
		if v := c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/keys/rotation", nil); v["rotation_period"] != float64(90*24*3600) {
			t.Fatalf("get rotation: %v", v)
		}

		huge := make([]byte, 5000)
		for i := range huge {
			huge[i] = 'A'
		}
		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
			field              string
		}{
			{"HS256 access tokens", http.MethodPost, "/tenants/acme/apis", map[string]any{"audience": "https://hs.acme.test", "signing_alg": "HS256"}, "signing_alg"},
			{"alg none", http.MethodPost, "/tenants/acme/apis", map[string]any{"audience": "https://none.acme.test", "signing_alg": "none"}, "signing_alg"},
			{"lower case", http.MethodPatch, "/tenants/acme/apis/" + apiID, map[string]any{"signing_alg": "es256"}, "signing_alg"},
			{"a huge value", http.MethodPatch, "/tenants/acme/apis/" + apiID, map[string]any{"signing_alg": string(huge)}, "signing_alg"},
			{"not a string", http.MethodPatch, "/tenants/acme/apis/" + apiID, map[string]any{"signing_alg": 256}, "signing_alg"},
			{"HS256 ID tokens", http.MethodPost, "/tenants/acme/applications", map[string]any{"kind": "machine", "client_name": "x", "id_token_signed_response_alg": "HS256"}, "id_token_signed_response_alg"},
			{"none ID tokens", http.MethodPatch, "/tenants/acme/applications/" + clientID, map[string]any{"id_token_signed_response_alg": "none"}, "id_token_signed_response_alg"},
			{"rotate RS512", http.MethodPost, "/tenants/acme/keys/rotate", map[string]any{"alg": "RS512"}, "alg"},
			{"rotate every hour", http.MethodPut, "/tenants/acme/keys/rotation", map[string]any{"rotation_period": 3600}, "rotation_period"},
			{"negative period", http.MethodPut, "/tenants/acme/keys/rotation", map[string]any{"rotation_period": -1}, "rotation_period"},
			{"period overflowing a duration", http.MethodPut, "/tenants/acme/keys/rotation", map[string]any{"rotation_period": int64(1) << 62}, "rotation_period"},
			{"no period", http.MethodPut, "/tenants/acme/keys/rotation", map[string]any{}, "rotation_period"},
		} {
			status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
			wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, tc.field)
		}
		if ks := c.items(t, "/tenants/acme/keys"); slices.ContainsFunc(ks, func(k map[string]any) bool {
			return !slices.Contains(tenants.SigningAlgorithms(), k["alg"].(string))
		}) {
			t.Fatalf("a refused algorithm got a key: %v", ks)
		}
	})
}
