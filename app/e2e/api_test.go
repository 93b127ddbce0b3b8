package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// apiClient is a machine-to-machine client of the management API.
type apiClient struct {
	e     *env
	token string
}

// managementClient creates a management API client with scopes (an
// operator's, or with tenantSlug that tenant's admin) and gets a token.
func (e *env) managementClient(t *testing.T, tenantSlug string, scopes ...string) *apiClient {
	t.Helper()
	c, err := e.srv.Admin().CreateAdminClient(context.Background(), admin.CreateAdminClientInput{Name: "ci", Scopes: scopes, TenantSlug: tenantSlug})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, c.TokenURL, bytes.NewBufferString(url.Values{"grant_type": {"client_credentials"}, "resource": {c.Audience}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	status, _, body := e.doJSON(req)
	if status != http.StatusOK {
		t.Fatalf("management token: %d %v", status, body)
	}
	return &apiClient{e: e, token: body["access_token"].(string)}
}

func (a *apiClient) do(t *testing.T, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, a.e.base+admin.APIPath+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return a.e.doJSON(req)
}

func TestManagementAPISmoke(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		status, _, body := op.do(t, http.MethodGet, "/tenants", nil)
		if status != http.StatusOK || len(body["items"].([]any)) != 1 {
			t.Fatalf("list tenants: %d %v", status, body)
		}
		status, hdr, body := op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "beta", "name": "Beta"})
		if status != http.StatusCreated || body["issuer"] == nil || hdr.Get("Location") != "/api/v1/tenants/beta" {
			t.Fatalf("create tenant: %d %v", status, body)
		}
		status, hdr, body = op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "Bad Slug"})
		if status != http.StatusBadRequest || hdr.Get("Content-Type") != "application/problem+json" || body["errors"] == nil {
			t.Fatalf("bad slug: %d %v %v", status, hdr, body)
		}
		acmeAdmin := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		if status, _, _ := acmeAdmin.do(t, http.MethodGet, "/tenants/beta", nil); status != http.StatusNotFound {
			t.Fatalf("acme's admin reading beta: %d", status)
		}
		if status, _, _ := acmeAdmin.do(t, http.MethodGet, "/tenants/acme", nil); status != http.StatusOK {
			t.Fatalf("acme's admin reading acme: %d", status)
		}
		anon := &apiClient{e: e}
		if status, hdr, _ := anon.do(t, http.MethodGet, "/tenants", nil); status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Fatalf("no token: %d", status)
		}
	})
}
