package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestAPIOpenAPIDocument reads /api/v1/openapi.json as a client would and
// checks it describes exactly the routes of the API, each of which the
// server mounts (behind authentication) on the apex only.
func TestAPIOpenAPIDocument(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		anon := &apiClient{e: e}
		status, hdr, raw := anon.raw(t, http.MethodGet, "/openapi.json", "", nil)
		if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Fatalf("openapi.json: %d %v", status, hdr)
		}
		var doc struct {
			OpenAPI string                               `json:"openapi"`
			Paths   map[string]map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("openapi.json is not JSON: %v", err)
		}
		if doc.OpenAPI != "3.1.0" {
			t.Fatalf("openapi = %q", doc.OpenAPI)
		}
		documented := map[string]bool{}
		for p, ops := range doc.Paths {
			for m := range ops {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
		param := regexp.MustCompile(`:([a-z_]+)`)
		for _, r := range apiRoutes() {
			k := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
			if !documented[k] {
				t.Errorf("%s is not in the document", k)
			}
			delete(documented, k)
		}
		delete(documented, "GET /openapi.json")
		for k := range documented {
			t.Errorf("%s is documented but not a route", k)
		}

		// Every documented operation is mounted: without a token it answers
		// 401, not 404 or 405.
		fillDoc := regexp.MustCompile(`\{[a-z_]+\}`)
		for p, ops := range doc.Paths {
			if p == "/openapi.json" {
				continue
			}
			for m := range ops {
				status, hdr, raw := anon.raw(t, strings.ToUpper(m), fillDoc.ReplaceAllString(p, "x"), "", nil)
				if status != http.StatusUnauthorized || hdr.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s %s without a token: %d %s", strings.ToUpper(m), p, status, raw)
				}
			}
		}

		// Nothing else is under /api/v1: 404 and 405 are problem documents.
		status, hdr, body := anon.do(t, http.MethodGet, "/nothing-here", nil)
		wantProblem(t, "unknown path", status, hdr, body, http.StatusNotFound, "")
		status, hdr, body = anon.do(t, http.MethodPut, "/tenants", nil)
		wantProblem(t, "wrong method", status, hdr, body, http.StatusMethodNotAllowed, "")

		// The API lives on the apex only.
		op := e.managementClient(t, "", admin.ScopeTenantsRead)
		req, _ := http.NewRequest(http.MethodGet, f.issuer+admin.APIPath+"/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+op.token)
		if status, _, _ := e.doJSON(req); status != http.StatusNotFound {
			t.Fatalf("the API on a tenant's host: %d", status)
		}
	})
}
