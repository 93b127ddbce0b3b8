package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// regCall sends a registration request (RFC 7591/7592) with an optional
// Bearer token and JSON body (nil: none), and decodes the JSON answer.
func regCall(t *testing.T, e *env, method, rawURL, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rawURL, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.httpClient(false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func metadataOf(t *testing.T, e *env, issuer, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+path, nil)
	status, _, d := e.doJSON(req)
	if status != http.StatusOK {
		t.Fatalf("%s: %d", path, status)
	}
	return d
}

// TestDynamicClientRegistration: registration is off by default (404, not
// advertised); with token, a registration needs an initial access token
// of this tenant with a use left; metadata is validated with RFC 7591's
// error codes; a registered client signs users in, asking consent every
// time; RFC 7592 reads, replaces and deletes it with its registration
// access token only; open registration is throttled per address. RFC
// 8414 metadata is served at /.well-known/oauth-authorization-server.
func TestDynamicClientRegistration(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e := newEnv(t, db.URL(t))
		f := e.fixture("acme")
		g := e.fixture("globex")
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		gc := e.managementClient(t, "globex", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		reg := f.issuer + "/oauth/register"
		app := map[string]any{"client_name": "MCP tool", "redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code", "refresh_token"},
			"response_types": []string{"code"}, "token_endpoint_auth_method": "client_secret_basic", "dpop_bound_access_tokens": true, "unknown_member": "ignored"}

		// Off: not there, not advertised.
		if status, _, _ := regCall(t, e, http.MethodPost, reg, "", app); status != http.StatusNotFound {
			t.Fatalf("registration while off: %d, want 404", status)
		}
		as := metadataOf(t, e, f.issuer, "/.well-known/oauth-authorization-server")
		if as["issuer"] != f.issuer || as["token_endpoint"] != f.issuer+"/oauth/token" || as["registration_endpoint"] != nil {
			t.Fatalf("RFC 8414 metadata: %v", as)
		}

		// Token: an initial access token of this tenant, with a use left.
		if got := c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"client_registration": "token"}); got["client_registration"] != "token" {
			t.Fatalf("tenant: %v", got)
		}
		c.must(t, http.StatusBadRequest, http.MethodPatch, "/tenants/acme", map[string]any{"client_registration": "sometimes"})
		if d := metadataOf(t, e, f.issuer, "/.well-known/openid-configuration"); d["registration_endpoint"] != reg {
			t.Fatalf("discovery registration_endpoint %v, want %s", d["registration_endpoint"], reg)
		}
		status, hdr, body := regCall(t, e, http.MethodPost, reg, "", app)
		if status != http.StatusUnauthorized || body["error"] != "invalid_token" || !strings.Contains(hdr.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("without a token: %d %v %v", status, hdr, body)
		}
		gc.must(t, http.StatusOK, http.MethodPatch, "/tenants/globex", map[string]any{"client_registration": "token"})
		foreign := gc.must(t, http.StatusCreated, http.MethodPost, "/tenants/globex/initial-access-tokens", map[string]any{"name": "globex"})["token"].(string)
		if status, _, body := regCall(t, e, http.MethodPost, reg, foreign, app); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
			t.Fatalf("another tenant's initial access token: %d %v", status, body)
		}
		once := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/initial-access-tokens", map[string]any{"name": "once"})
		iat, _ := once["token"].(string)
		if iat == "" || len(c.items(t, "/tenants/acme/initial-access-tokens")) != 1 {
			t.Fatalf("initial access token: %v", once)
		}
		for _, x := range c.items(t, "/tenants/acme/initial-access-tokens") {
			if x["token"] != nil {
				t.Fatal("a listed initial access token shows its token")
			}
		}
		// Another tenant's admin cannot see or delete it.
		gc.must(t, http.StatusNotFound, http.MethodDelete, "/tenants/globex/initial-access-tokens/"+once["id"].(string), nil)
		status, hdr, r := regCall(t, e, http.MethodPost, reg, iat, app)
		if status != http.StatusCreated || hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("register: %d %v %v", status, hdr, r)
		}
		clientID, _ := r["client_id"].(string)
		rat, _ := r["registration_access_token"].(string)
		if clientID == "" || r["client_secret"] == nil || rat == "" || r["registration_client_uri"] != reg+"/"+clientID ||
			r["client_name"] != "MCP tool" || r["application_type"] != "web" || r["token_endpoint_auth_method"] != "client_secret_basic" ||
			r["client_secret_expires_at"] != float64(0) || r["registered"] != true {
			t.Fatalf("registration answer: %v", r)
		}
		if status, _, _ := regCall(t, e, http.MethodPost, reg, iat, app); status != http.StatusUnauthorized {
			t.Fatalf("a used-up initial access token: %d, want 401", status)
		}

		// Metadata the server refuses, with RFC 7591's codes.
		many := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/initial-access-tokens", map[string]any{"uses": 50})["token"].(string)
		bad := []struct {
			name string
			md   map[string]any
			code string
		}{
			{"http redirect", map[string]any{"redirect_uris": []string{"http://evil.example.com/cb"}}, "invalid_redirect_uri"},
			{"fragment redirect", map[string]any{"redirect_uris": []string{"https://app.example.com/cb#x"}}, "invalid_redirect_uri"},
			{"no redirect for the code grant", map[string]any{"grant_types": []string{"authorization_code"}}, "invalid_redirect_uri"},
			{"password grant", map[string]any{"redirect_uris": []string{redirectURI}, "grant_types": []string{"password"}}, "invalid_client_metadata"},
			{"implicit", map[string]any{"redirect_uris": []string{redirectURI}, "response_types": []string{"token"}}, "invalid_client_metadata"},
			{"client_secret_jwt with keys", map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "client_secret_jwt",
				"jwks": map[string]any{"keys": []any{}}}, "invalid_client_metadata"},
			{"unknown method", map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"},
			{"loopback jwks_uri", map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "private_key_jwt",
				"jwks_uri": "http://127.0.0.1:9/jwks"}, "invalid_client_metadata"},
			{"bad jwks", map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "private_key_jwt",
				"jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "AAAA"}}}}, "invalid_client_metadata"},
			{"loopback logout URI", map[string]any{"redirect_uris": []string{redirectURI}, "backchannel_logout_uri": "http://127.0.0.1:9/logout"}, "invalid_client_metadata"},
			{"native confidential", map[string]any{"redirect_uris": []string{"com.example.app:/cb"}, "application_type": "native"}, "invalid_client_metadata"},
			{"huge name", map[string]any{"redirect_uris": []string{redirectURI}, "client_name": strings.Repeat("n", 5000)}, "invalid_client_metadata"},
		}
		for _, b := range bad {
			status, _, body := regCall(t, e, http.MethodPost, reg, many, b.md)
			if status != http.StatusBadRequest || body["error"] != b.code {
				t.Errorf("%s: %d %v, want 400 %s", b.name, status, body, b.code)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, reg, strings.NewReader("redirect_uris="+url.QueryEscape(redirectURI)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+many)
		if status, _, body := e.doJSON(req); status != http.StatusBadRequest || body["error"] != "invalid_client_metadata" {
			t.Fatalf("a form body: %d %v", status, body)
		}
		// A public native client: no secret.
		status, _, pub := regCall(t, e, http.MethodPost, reg, many, map[string]any{"redirect_uris": []string{"com.example.app:/cb"},
			"application_type": "native", "token_endpoint_auth_method": "none"})
		if status != http.StatusCreated || pub["client_secret"] != nil || pub["application_type"] != "native" {
			t.Fatalf("native: %d %v", status, pub)
		}

		// API access: only the scopes the admin lets registered clients
		// ask for.
		withScope := func(scope string) (int, map[string]any) {
			status, _, body := regCall(t, e, http.MethodPost, reg, many, map[string]any{"redirect_uris": []string{redirectURI}, "scope": scope})
			return status, body
		}
		if status, body := withScope("openid read:orders"); status != http.StatusBadRequest || body["error"] != "invalid_client_metadata" {
			t.Fatalf("an API scope no one allowed: %d %v", status, body)
		}
		var apiID string
		for _, a := range c.items(t, "/tenants/acme/apis") {
			if a["audience"] == f.api {
				apiID = a["id"].(string)
			}
		}
		c.must(t, http.StatusBadRequest, http.MethodPatch, "/tenants/acme/apis/"+apiID, map[string]any{"registration_scopes": []string{"no:such"}})
		if v := c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/apis/"+apiID, map[string]any{"registration_scopes": []string{"read:orders"}}); len(v["registration_scopes"].([]any)) != 1 {
			t.Fatalf("registration scopes: %v", v)
		}
		status, scoped := withScope("openid read:orders offline_access")
		if status != http.StatusCreated || scoped["scope"] != "read:orders" || !strings.Contains(fmtAny(scoped["api_grants"]), f.api) {
			t.Fatalf("an allowed API scope: %d %v", status, scoped)
		}
		if status, body := withScope("read:orders write:orders"); status != http.StatusBadRequest || body["error"] != "invalid_client_metadata" {
			t.Fatalf("a scope beyond the allowed ones: %d %v", status, body)
		}

		// The registered client signs a user in, and asks consent every
		// time.
		b := e.browser()
		cl := &admin.Client{ClientID: clientID, ClientSecret: r["client_secret"].(string)}
		tok, _ := f.codeFlow(b, cl, []string{"openid"})
		if tok.AccessToken == "" {
			t.Fatal("no access token")
		}
		_, challenge := pkce()
		cb := f.login(b, f.authorizeURL(clientID, url.Values{"scope": {"openid"}, "prompt": {"none"}, "state": {secret.Token(6)},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		if cb.Get("error") != "consent_required" {
			t.Fatalf("a registered client with the consent given before, prompt=none: %v, want consent_required", cb)
		}

		// RFC 7592: the registration access token reads, replaces and
		// deletes it; nothing else does.
		cfgURL := reg + "/" + clientID
		status, _, got := regCall(t, e, http.MethodGet, cfgURL, rat, nil)
		if status != http.StatusOK || got["client_id"] != clientID || got["client_secret"] != nil || got["registration_access_token"] != nil {
			t.Fatalf("read: %d %v", status, got)
		}
		for name, try := range map[string]func() int{
			"no token":          func() int { s, _, _ := regCall(t, e, http.MethodGet, cfgURL, "", nil); return s },
			"the initial token": func() int { s, _, _ := regCall(t, e, http.MethodGet, cfgURL, many, nil); return s },
			"another client's": func() int {
				s, _, _ := regCall(t, e, http.MethodGet, reg+"/"+pub["client_id"].(string), rat, nil)
				return s
			},
			"an admin's client": func() int { s, _, _ := regCall(t, e, http.MethodGet, reg+"/"+f.web.ClientID, rat, nil); return s },
			"at another tenant": func() int {
				s, _, _ := regCall(t, e, http.MethodGet, g.issuer+"/oauth/register/"+clientID, rat, nil)
				return s
			},
			"delete, wrong one": func() int { s, _, _ := regCall(t, e, http.MethodDelete, cfgURL, rat+"x", nil); return s },
			"update, wrong one": func() int {
				s, _, _ := regCall(t, e, http.MethodPut, cfgURL, "nope", map[string]any{"client_id": clientID})
				return s
			},
			"a huge client id": func() int {
				s, _, _ := regCall(t, e, http.MethodGet, reg+"/"+strings.Repeat("a", 300), rat, nil)
				return s
			},
			"bearer as basic id": func() int { s, _, _ := regCall(t, e, http.MethodGet, cfgURL, clientID, nil); return s },
		} {
			if s := try(); s != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", name, s)
			}
		}
		upd := map[string]any{"client_id": clientID, "client_name": "MCP tool 2", "redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code"}}
		status, _, got = regCall(t, e, http.MethodPut, cfgURL, rat, upd)
		if status != http.StatusOK || got["client_name"] != "MCP tool 2" || len(got["grant_types"].([]any)) != 1 {
			t.Fatalf("update: %d %v", status, got)
		}
		upd["client_id"] = f.web.ClientID
		if status, _, got := regCall(t, e, http.MethodPut, cfgURL, rat, upd); status != http.StatusBadRequest || got["error"] != "invalid_client_metadata" {
			t.Fatalf("update with another client_id: %d %v", status, got)
		}
		if v := c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/applications/"+clientID, nil); v["registered"] != true || v["client_name"] != "MCP tool 2" {
			t.Fatalf("the admin's view: %v", v)
		}
		if status, _, _ := regCall(t, e, http.MethodDelete, cfgURL, rat, nil); status != http.StatusNoContent {
			t.Fatalf("delete: %d", status)
		}
		// The audit log names who acted: the registration, then the
		// client itself.
		actors := map[string]string{}
		for _, ev := range c.items(t, "/tenants/acme/audit?action=client.") {
			if ev["target_id"] == clientID {
				actors[ev["action"].(string)] = ev["actor_kind"].(string) + "/" + ev["actor_id"].(string)
			}
		}
		if actors["client.created"] != "registration/initial access token" || actors["client.updated"] != "client/"+clientID ||
			actors["client.deleted"] != "client/"+clientID {
			t.Fatalf("audit actors %v", actors)
		}
		if status, _, _ := regCall(t, e, http.MethodGet, cfgURL, rat, nil); status != http.StatusUnauthorized {
			t.Fatalf("read after delete: %d, want 401", status)
		}

		// Open: anyone, throttled per address.
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"client_registration": "open"})
		throttled := false
		for i := range 12 {
			status, _, body := regCall(t, e, http.MethodPost, reg, "", app)
			if status == http.StatusTooManyRequests {
				throttled = i >= 10
				break
			}
			if status != http.StatusCreated {
				t.Fatalf("open registration %d: %d %v", i, status, body)
			}
		}
		if !throttled {
			t.Fatal("open registration was not throttled after 10 from one address")
		}
		// Back off: gone again.
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"client_registration": "off"})
		if status, _, _ := regCall(t, e, http.MethodPost, reg, many, app); status != http.StatusNotFound {
			t.Fatalf("registration after turning it off: %d, want 404", status)
		}
	})
}

// TestOpenIDClientDynamicRegistration registers a client with
// openid-client 6's dynamicClientRegistration, which finds the
// registration endpoint by RFC 8414 (and by OpenID) discovery and sends
// the initial access token; the client it made reads its own registration
// with the registration access token it got.
func TestOpenIDClientDynamicRegistration(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client check skipped: node not found (install Node.js 20+)")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "resource-server"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		t.Skip("openid-client check skipped: run `npm ci --prefix app/e2e/testdata/resource-server` (.ci/run does)")
	}
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"client_registration": "token"})
		iat := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/initial-access-tokens", map[string]any{"uses": 2})["token"].(string)
		run := func(args ...string) (map[string]any, string) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, append([]string{"register.mjs"}, args...)...)
			cmd.Dir = dir
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				return nil, stderr.String()
			}
			var v map[string]any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("register.mjs printed %q", out)
			}
			return v, ""
		}
		for _, alg := range []string{"oauth2", "oidc"} {
			v, problem := run(f.issuer, alg, redirectURI, iat)
			if problem != "" {
				t.Fatalf("%s: openid-client registration: %s", alg, problem)
			}
			md, _ := v["metadata"].(map[string]any)
			id, _ := md["client_id"].(string)
			rat, _ := md["registration_access_token"].(string)
			if id == "" || md["client_secret"] == nil || rat == "" || v["server"] != f.issuer+"/oauth/register" ||
				!strings.Contains(fmt.Sprint(v["url"]), "client_id="+id) {
				t.Fatalf("%s: registered %v", alg, v)
			}
			if status, _, got := regCall(t, e, http.MethodGet, f.issuer+"/oauth/register/"+id, rat, nil); status != http.StatusOK ||
				got["token_endpoint_auth_method"] != "client_secret_post" {
				t.Fatalf("%s: read: %d %v", alg, status, got)
			}
		}
		// The token is used up: openid-client sees the refusal.
		if _, problem := run(f.issuer, "oauth2", redirectURI, iat); !strings.Contains(problem, "invalid_token") && !strings.Contains(problem, "401") {
			t.Fatalf("a used-up initial access token: %q, want a 401 invalid_token", problem)
		}
	})
}
