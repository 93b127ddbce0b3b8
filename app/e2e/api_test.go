package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/admin/api"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// apiClient is a machine-to-machine client of the management API. Every
// answer it gets is kept in transcript, for tests that look for secrets.
type apiClient struct {
	e          *env
	token      string
	clientID   string
	secret     string
	transcript *[]string
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
	return &apiClient{e: e, token: body["access_token"].(string), clientID: c.ClientID, secret: c.ClientSecret, transcript: new([]string)}
}

// principalsOf makes an administrator and a management client of the
// tenant with slug ("": operators) and returns their ids.
func (e *env) principalsOf(t *testing.T, slug string) (adminID, clientID string) {
	t.Helper()
	svc := e.srv.Admin()
	domain := "example.test"
	if slug != "" {
		domain = slug + "." + domain
	}
	a, err := svc.CreateAdmin(context.Background(), admin.CreateAdminInput{Email: "admin-" + secret.Token(6) + "@" + domain,
		Password: testPassword, TenantSlug: slug})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateAdminClient(context.Background(), admin.CreateAdminClientInput{Name: "ci " + slug, Scopes: admin.AllScopes(), TenantSlug: slug})
	if err != nil {
		t.Fatal(err)
	}
	return a.User.ID, c.ClientID
}

// do sends body as JSON (nil: no body) and decodes the JSON answer.
func (a *apiClient) do(t *testing.T, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var raw []byte
	ct := ""
	if body != nil {
		raw, _ = json.Marshal(body)
		ct = "application/json"
	}
	status, hdr, b := a.raw(t, method, path, ct, raw)
	out := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			out["_raw"] = string(b)
		}
	}
	return status, hdr, out
}

// raw sends body as it is with Content-Type ct and returns the answer.
func (a *apiClient) raw(t *testing.T, method, path, ct string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.e.base+admin.APIPath+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.e.httpClient(false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if a.transcript != nil {
		*a.transcript = append(*a.transcript, string(b))
	}
	return resp.StatusCode, resp.Header, b
}

// must sends a request that must answer want, and returns the body.
func (a *apiClient) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, _, b := a.do(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, status, b, want)
	}
	return b
}

// items returns the items of a collection.
func (a *apiClient) items(t *testing.T, path string) []map[string]any {
	t.Helper()
	return objects(t, a.must(t, http.StatusOK, http.MethodGet, path, nil)["items"])
}

func objects(t *testing.T, v any) []map[string]any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := make([]map[string]any, len(l))
	for i, x := range l {
		out[i] = x.(map[string]any)
	}
	return out
}

// wantProblem checks an answer is an RFC 9457 problem document with status
// and, unless field is "", an error naming field.
func wantProblem(t *testing.T, what string, status int, hdr http.Header, body map[string]any, wantStatus int, field string) {
	t.Helper()
	if status != wantStatus || hdr.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: %d %q %v, want %d problem+json", what, status, hdr.Get("Content-Type"), body, wantStatus)
	}
	if body["status"] != float64(wantStatus) || body["title"] == "" || body["type"] == "" {
		t.Fatalf("%s: not a problem document: %v", what, body)
	}
	if field == "" {
		return
	}
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 || errs[0].(map[string]any)["field"] != field || errs[0].(map[string]any)["message"] == "" {
		t.Fatalf("%s: want an error naming %q, got %v", what, field, body)
	}
}

// apiRoutes are the routes of the management API, from its own list, so
// that a test walking them cannot forget a new one.
func apiRoutes() []api.Route { return api.New(nil, nil).Routes() }

// writeRoutes are the routes that change something.
func writeRoutes() []api.Route {
	return slices.DeleteFunc(apiRoutes(), func(r api.Route) bool { return r.Method == http.MethodGet })
}

func routeKey(r api.Route) string { return r.Method + " " + r.Path }

// fill replaces the path parameters of route path p by ids, keyed by the
// segment before the parameter and its name ("users/id"), or by name.
func fill(p string, ids map[string]string) string {
	// The keys name the segment as the route has it (":locale/message"),
	// not as filled: keep the route's segments apart from the path's.
	route := strings.Split(p, "/")
	parts := slices.Clone(route)
	for i, part := range route {
		name, ok := strings.CutPrefix(part, ":")
		if !ok {
			continue
		}
		v, ok := ids[route[i-1]+"/"+name]
		if !ok {
			v = ids[name]
		}
		parts[i] = url.PathEscape(v)
	}
	return strings.Join(parts, "/")
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
		if hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control = %q", hdr.Get("Cache-Control"))
		}
		status, hdr, body = op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "Bad Slug"})
		wantProblem(t, "bad slug", status, hdr, body, http.StatusBadRequest, "slug")
		status, hdr, body = op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "beta"})
		wantProblem(t, "taken slug", status, hdr, body, http.StatusConflict, "")
		status, hdr, body = op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "api"})
		wantProblem(t, "reserved slug", status, hdr, body, http.StatusBadRequest, "slug")
		status, hdr, body = op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": "delta", "host": "evil.test"})
		wantProblem(t, "unknown field", status, hdr, body, http.StatusBadRequest, "host")
		status, hdr, body = op.do(t, http.MethodPost, "/tenants", map[string]any{"slug": 42})
		wantProblem(t, "slug of wrong type", status, hdr, body, http.StatusBadRequest, "slug")
		status, hdr, body = op.do(t, http.MethodGet, "/tenants?limit=abc", nil)
		wantProblem(t, "bad limit", status, hdr, body, http.StatusBadRequest, "limit")
		acmeAdmin := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		if status, _, _ := acmeAdmin.do(t, http.MethodGet, "/tenants/beta", nil); status != http.StatusNotFound {
			t.Fatalf("acme's admin reading beta: %d", status)
		}
		if status, _, _ := acmeAdmin.do(t, http.MethodGet, "/tenants/acme", nil); status != http.StatusOK {
			t.Fatalf("acme's admin reading acme: %d", status)
		}
		// Tenants page by slug.
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants", map[string]any{"slug": "gamma"})
		first := op.must(t, http.StatusOK, http.MethodGet, "/tenants?limit=2", nil)
		second := op.must(t, http.StatusOK, http.MethodGet, "/tenants?limit=2&after="+first["next"].(string), nil)
		var slugs []string
		for _, x := range append(objects(t, first["items"]), objects(t, second["items"])...) {
			slugs = append(slugs, x["slug"].(string))
		}
		if !slices.Equal(slugs, []string{"acme", "beta", "gamma"}) || second["next"] != nil {
			t.Fatalf("tenant pages: %v, next %v", slugs, second["next"])
		}
		// Settings: a partial update, and bad values named.
		v := acmeAdmin.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"accent_color": "#3B5BDB", "access_token_lifetime": 600})
		if v["accent_color"] != "#3b5bdb" || v["access_token_lifetime"] != float64(600) || v["name"] != "Acme Inc" {
			t.Fatalf("patch tenant: %v", v)
		}
		v = acmeAdmin.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{
			"signup_mode": "domains", "signup_domains": []string{"Acme.test", " acme.test", "corp.acme.test"},
			"password_min_length": 14, "mfa_policy": "required", "email_from_name": "Acme Accounts"})
		if v["signup_mode"] != "domains" || fmtAny(v["signup_domains"]) != fmtAny([]any{"acme.test", "corp.acme.test"}) ||
			v["password_min_length"] != float64(14) || v["mfa_policy"] != "required" || v["email_from_name"] != "Acme Accounts" {
			t.Fatalf("patch tenant security settings: %v", v)
		}
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"accent_color": "red"}, "accent_color"},
			{map[string]any{"logo_url": "http://cdn.acme.test/logo.png"}, "logo_url"},
			{map[string]any{"grant_types": []string{"implicit"}}, "grant_types"},
			{map[string]any{"grant_types": []string{"refresh_token"}}, "grant_types"},
			{map[string]any{"access_token_lifetime": 10}, "access_token_lifetime"},
			{map[string]any{"session_lifetime": -300}, "session_lifetime"},
			// Seconds that would overflow a duration into one hour.
			{map[string]any{"refresh_token_lifetime": int64(18446747674)}, "refresh_token_lifetime"},
			{map[string]any{"id_token_lifetime": "1h"}, "id_token_lifetime"},
			{map[string]any{"name": ""}, "name"},
			{map[string]any{"signup_mode": "everyone"}, "signup_mode"},
			{map[string]any{"signup_domains": []string{}}, "signup_domains"},
			{map[string]any{"signup_domains": []string{"not a domain"}}, "signup_domains"},
			{map[string]any{"password_min_length": 4}, "password_min_length"},
			{map[string]any{"password_min_length": 65}, "password_min_length"},
			{map[string]any{"mfa_policy": "always"}, "mfa_policy"},
			{map[string]any{"slug": "other"}, "slug"},
			{map[string]any{"issuer": "https://evil.test"}, "issuer"},
		} {
			status, hdr, body := acmeAdmin.do(t, http.MethodPatch, "/tenants/acme", tc.body)
			wantProblem(t, "patch tenant "+tc.field, status, hdr, body, http.StatusBadRequest, tc.field)
		}
		if got := acmeAdmin.must(t, http.StatusOK, http.MethodGet, "/tenants/acme", nil); fmtAny(got) != fmtAny(v) {
			t.Fatalf("bad input changed the tenant: %v", got)
		}
		// The overview.
		o := acmeAdmin.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/overview", nil)
		if o["users"] != float64(1) || o["applications"] != float64(3) || o["apis"] != float64(1) {
			t.Fatalf("overview: %v", o)
		}
		// Only operators delete tenants; a delete is 204, then 404.
		status, hdr, body = acmeAdmin.do(t, http.MethodDelete, "/tenants/acme", nil)
		wantProblem(t, "tenant admin deleting their tenant", status, hdr, body, http.StatusForbidden, "")
		op.must(t, http.StatusNoContent, http.MethodDelete, "/tenants/gamma", nil)
		status, hdr, body = op.do(t, http.MethodDelete, "/tenants/gamma", nil)
		wantProblem(t, "second delete", status, hdr, body, http.StatusNotFound, "")
	})
}
