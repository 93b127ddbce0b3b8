package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
)

// postForm posts form to path of f's issuer, with the client's credentials
// in the Authorization header when basic is true and in the body
// otherwise (secret empty: client_id alone, "none").
func (f *fixture) postAs(path, clientID, secret string, basic bool, form url.Values) (int, http.Header, map[string]any) {
	f.e.t.Helper()
	form2 := url.Values{}
	for k, v := range form {
		form2[k] = v
	}
	if basic {
		return f.post(path, clientID, secret, form2)
	}
	form2.Set("client_id", clientID)
	if secret != "" {
		form2.Set("client_secret", secret)
	}
	return f.post(path, "", "", form2)
}

// TestTokenEndpointAuthMethodEnforced registers applications with each
// token_endpoint_auth_method through the management API and checks, over
// HTTP, that the token, introspection and revocation endpoints accept a
// client only by the method it is registered for (RFC 7591 §2): the right
// secret sent the other way is invalid_client, 401; none is for public
// clients only; and discovery lists exactly the methods enforced.
func TestTokenEndpointAuthMethodEnforced(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		base := "/tenants/acme/applications"

		basicApp := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "basic", "audiences": []string{f.api}})
		postApp := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "post", "audiences": []string{f.api}, "token_endpoint_auth_method": "client_secret_post"})
		spa := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"kind": "spa", "client_name": "spa", "redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none"})
		for _, tc := range []struct {
			app  map[string]any
			want string
		}{{basicApp, "client_secret_basic"}, {postApp, "client_secret_post"}, {spa, "none"}} {
			if tc.app["token_endpoint_auth_method"] != tc.want {
				t.Fatalf("application %v: want %s", tc.app, tc.want)
			}
		}
		basicID, basicSecret := basicApp["client_id"].(string), basicApp["client_secret"].(string)
		postID, postSecret := postApp["client_id"].(string), postApp["client_secret"].(string)
		spaID := spa["client_id"].(string)

		// The management API accepts exactly the methods that fit the kind.
		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
		}{
			{"public with a secret method", http.MethodPost, base, map[string]any{"kind": "spa", "client_name": "x", "redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "client_secret_basic"}},
			{"confidential with none", http.MethodPost, base, map[string]any{"kind": "web", "client_name": "x", "redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none"}},
			{"unsupported method", http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "x", "token_endpoint_auth_method": "tls_client_auth"}},
			{"public client_secret_jwt", http.MethodPost, base, map[string]any{"kind": "spa", "client_name": "x", "redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "client_secret_jwt"}},
			{"patch basic to client_secret_jwt", http.MethodPatch, base + "/" + basicID, map[string]any{"token_endpoint_auth_method": "client_secret_jwt"}},
			{"wrong type", http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "x", "token_endpoint_auth_method": 1}},
			{"patch public to basic", http.MethodPatch, base + "/" + spaID, map[string]any{"token_endpoint_auth_method": "client_secret_basic"}},
			{"patch confidential to none", http.MethodPatch, base + "/" + basicID, map[string]any{"token_endpoint_auth_method": "none"}},
		} {
			status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
			wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, "token_endpoint_auth_method")
		}

		cc := url.Values{"grant_type": {"client_credentials"}}
		status, _, body := f.postAs("/oauth/token", basicID, basicSecret, true, cc)
		if status != http.StatusOK {
			t.Fatalf("basic client with basic: %d %v", status, body)
		}
		access := mustToken(t, body, "access_token")
		status, _, body = f.postAs("/oauth/token", postID, postSecret, false, cc)
		if status != http.StatusOK {
			t.Fatalf("post client with post: %d %v", status, body)
		}
		postAccess := mustToken(t, body, "access_token")
		refused := func(name string, status int, hdr http.Header, body map[string]any) {
			t.Helper()
			if status != http.StatusUnauthorized || errorCode(body) != "invalid_client" {
				t.Errorf("%s: %d %v, want 401 invalid_client", name, status, body)
			}
			if name != "" && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: WWW-Authenticate %q", name, hdr.Get("WWW-Authenticate"))
			}
		}
		for _, path := range []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke"} {
			form := cc
			if path != "/oauth/token" {
				form = url.Values{"token": {access}}
			}
			s, h, b := f.postAs(path, basicID, basicSecret, false, form)
			refused(path+": basic client with post", s, h, b)
			s, h, b = f.postAs(path, postID, postSecret, true, form)
			refused(path+": post client with basic", s, h, b)
			s, h, b = f.postAs(path, basicID, "", false, form)
			refused(path+": confidential client with none", s, h, b)
		}
		// The registered method works at introspection and revocation.
		if s, _, b := f.postAs("/oauth/introspect", postID, postSecret, false, url.Values{"token": {postAccess}}); s != http.StatusOK || b["active"] != true {
			t.Fatalf("introspect with post: %d %v", s, b)
		}
		if s, _, b := f.postAs("/oauth/introspect", basicID, basicSecret, true, url.Values{"token": {access}}); s != http.StatusOK || b["active"] != true {
			t.Fatalf("introspect with basic: %d %v", s, b)
		}
		if s, _, b := f.postAs("/oauth/revoke", postID, postSecret, false, url.Values{"token": {postAccess}}); s != http.StatusOK {
			t.Fatalf("revoke with post: %d %v", s, b)
		}
		if s, _, b := f.postAs("/oauth/introspect", postID, postSecret, false, url.Values{"token": {postAccess}}); s != http.StatusOK || b["active"] != false {
			t.Fatalf("introspect revoked: %d %v", s, b)
		}
		// A public client revokes by its id alone, may not introspect, and
		// may not send a secret.
		if s, _, b := f.postAs("/oauth/revoke", spaID, "", false, url.Values{"token": {"unknown"}}); s != http.StatusOK {
			t.Fatalf("public client revokes with none: %d %v", s, b)
		}
		s, h, b := f.postAs("/oauth/introspect", spaID, "", false, url.Values{"token": {access}})
		refused("public client introspects", s, h, b)
		s, h, b = f.postAs("/oauth/revoke", spaID, "made-up", false, url.Values{"token": {"unknown"}})
		refused("public client with a secret", s, h, b)

		// Switching the method takes effect: the old one is refused.
		if v := c.must(t, http.StatusOK, http.MethodPatch, base+"/"+basicID, map[string]any{"token_endpoint_auth_method": "client_secret_post"}); v["token_endpoint_auth_method"] != "client_secret_post" {
			t.Fatalf("patch to post: %v", v)
		}
		eventually(t, 2*time.Second, "switched client refused with basic", func() bool {
			s, _, _ := f.postAs("/oauth/token", basicID, basicSecret, true, cc)
			return s == http.StatusUnauthorized
		})
		if s, _, b := f.postAs("/oauth/token", basicID, basicSecret, false, cc); s != http.StatusOK {
			t.Fatalf("switched client with post: %d %v", s, b)
		}

		// Discovery lists exactly what is enforced.
		var d map[string]any
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string][]string{
			"token_endpoint_auth_methods_supported":         {"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"},
			"revocation_endpoint_auth_methods_supported":    {"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"},
			"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"},
		} {
			var got []string
			for _, v := range d[key].([]any) {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("discovery %s = %v, want %v", key, got, want)
			}
		}
	})
}
