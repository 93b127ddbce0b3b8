package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestAPIApplications registers, reads, changes, grants, rotates and
// deletes applications through the API, and checks a secret is shown only
// when it is made and its hash never.
func TestAPIApplications(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		base := "/tenants/acme/applications"
		var secrets []string

		// One of each kind.
		for _, tc := range []struct {
			kind, name string
			body       map[string]any
			public     bool
			grants     []string
		}{
			{"web", "Portal", map[string]any{"redirect_uris": []string{redirectURI}, "audiences": []string{f.api}, "scopes": []string{"read:orders"}}, false, []string{"authorization_code", "refresh_token"}},
			{"spa", "Dashboard", map[string]any{"redirect_uris": []string{"https://app.acme.test/cb"}}, true, []string{"authorization_code", "refresh_token"}},
			{"native", "Phone", map[string]any{"redirect_uris": []string{"test.acme.app:/cb"}}, true, []string{"authorization_code", "refresh_token"}},
			{"machine", "Batch", map[string]any{"audiences": []string{f.api}}, false, []string{"client_credentials"}},
		} {
			body := map[string]any{"kind": tc.kind, "client_name": tc.name}
			for k, v := range tc.body {
				body[k] = v
			}
			status, hdr, v := c.do(t, http.MethodPost, base, body)
			if status != http.StatusCreated || v["application_type"] != tc.kind || v["client_name"] != tc.name {
				t.Fatalf("create %s: %d %v", tc.kind, status, v)
			}
			id := v["client_id"].(string)
			if hdr.Get("Location") != admin.APIPath+base+"/"+id || hdr.Get("Cache-Control") != "no-store" {
				t.Fatalf("create %s: Location %q, Cache-Control %q", tc.kind, hdr.Get("Location"), hdr.Get("Cache-Control"))
			}
			sec, _ := v["client_secret"].(string)
			if tc.public != (sec == "") || tc.public != (v["token_endpoint_auth_method"] == "none") {
				t.Fatalf("create %s: secret %q, auth method %v", tc.kind, sec, v["token_endpoint_auth_method"])
			}
			if sec != "" {
				secrets = append(secrets, sec)
			}
			if !slices.Equal(strs(v["grant_types"]), tc.grants) {
				t.Fatalf("create %s: grant types %v", tc.kind, v["grant_types"])
			}
			got := c.must(t, http.StatusOK, http.MethodGet, base+"/"+id, nil)
			if got["client_secret"] != nil || got["client_name"] != tc.name {
				t.Fatalf("get %s: %v", tc.kind, got)
			}
		}
		// The web app's grant: the one scope asked for; the machine's: every scope.
		apps := c.items(t, base+"?limit=200")
		byName := map[string]map[string]any{}
		for _, a := range apps {
			byName[a["client_name"].(string)] = a
			if a["client_secret"] != nil {
				t.Fatalf("a listed application shows a secret: %v", a)
			}
		}
		if g := objects(t, byName["Portal"]["api_grants"]); len(g) != 1 || g[0]["audience"] != f.api || !slices.Equal(strs(g[0]["scopes"]), []string{"read:orders"}) {
			t.Fatalf("web grants: %v", g)
		}
		if g := objects(t, byName["Batch"]["api_grants"]); len(g) != 1 || !slices.Equal(strs(g[0]["scopes"]), []string{"read:orders", "write:orders"}) {
			t.Fatalf("machine grants: %v", g)
		}

		// Pages, in name order: 7 applications (the fixture's 3 and ours).
		var names []string
		next := ""
		for pages := 0; ; pages++ {
			p := c.must(t, http.StatusOK, http.MethodGet, base+"?limit=3&after="+next, nil)
			for _, a := range objects(t, p["items"]) {
				names = append(names, a["client_name"].(string))
			}
			n, _ := p["next"].(string)
			if n == "" {
				if pages != 2 {
					t.Fatalf("%d pages of 3 for 7 applications", pages+1)
				}
				break
			}
			next = n
		}
		if !slices.Equal(names, []string{"Batch", "Dashboard", "Phone", "Portal", "spa", "web", "worker"}) {
			t.Fatalf("applications in pages: %v", names)
		}

		// The machine app works, then its secret rotates: without grace the
		// old one stops working, the new one works.
		batch := byName["Batch"]["client_id"].(string)
		batchSecret := secrets[1]
		if s, _, b := f.post("/oauth/token", batch, batchSecret, url.Values{"grant_type": {"client_credentials"}}); s != http.StatusOK {
			t.Fatalf("machine app token: %d %v", s, b)
		}
		rot := c.must(t, http.StatusOK, http.MethodPost, base+"/"+batch+"/secret", map[string]any{"grace_period_seconds": 0})
		newSecret, _ := rot["client_secret"].(string)
		if newSecret == "" || newSecret == batchSecret || rot["client_id"] != batch {
			t.Fatalf("rotate: %v", rot)
		}
		secrets = append(secrets, newSecret)
		eventually(t, 2*time.Second, "old secret refused", func() bool {
			s, _, _ := f.post("/oauth/token", batch, batchSecret, url.Values{"grant_type": {"client_credentials"}})
			return s == http.StatusUnauthorized
		})
		if s, _, b := f.post("/oauth/token", batch, newSecret, url.Values{"grant_type": {"client_credentials"}}); s != http.StatusOK {
			t.Fatalf("new secret: %d %v", s, b)
		}
		// With the default grace (no body), the previous secret keeps working.
		rot = c.must(t, http.StatusOK, http.MethodPost, base+"/"+batch+"/secret", nil)
		secrets = append(secrets, rot["client_secret"].(string))
		if s, _, b := f.post("/oauth/token", batch, newSecret, url.Values{"grant_type": {"client_credentials"}}); s != http.StatusOK {
			t.Fatalf("previous secret during the grace period: %d %v", s, b)
		}
		// A public application has no secret to rotate.
		status, hdr, body := c.do(t, http.MethodPost, base+"/"+byName["Dashboard"]["client_id"].(string)+"/secret", nil)
		wantProblem(t, "rotate a public app's secret", status, hdr, body, http.StatusBadRequest, "client_id")

		// Change: name and redirect URIs; fields left out stay.
		portal := byName["Portal"]["client_id"].(string)
		up := c.must(t, http.StatusOK, http.MethodPatch, base+"/"+portal, map[string]any{"client_name": "Portal 2", "redirect_uris": []string{redirectURI, "https://portal.acme.test/cb"}})
		if up["client_name"] != "Portal 2" || len(strs(up["redirect_uris"])) != 2 || !slices.Equal(strs(up["grant_types"]), []string{"authorization_code", "refresh_token"}) {
			t.Fatalf("patch: %v", up)
		}
		// Grants replaced, then withdrawn.
		g := c.must(t, http.StatusOK, http.MethodPut, base+"/"+portal+"/grants", []any{map[string]any{"audience": f.api, "scopes": []string{"read:orders", "write:orders"}}})
		if gs := objects(t, g["api_grants"]); len(gs) != 1 || len(strs(gs[0]["scopes"])) != 2 {
			t.Fatalf("grants: %v", g)
		}
		g = c.must(t, http.StatusOK, http.MethodPut, base+"/"+portal+"/grants", []any{})
		if len(objects(t, g["api_grants"])) != 0 {
			t.Fatalf("grants withdrawn: %v", g)
		}

		// Bad input names the field.
		for _, tc := range []struct {
			name, method, path string
			body               any
			field              string
		}{
			{"no kind", http.MethodPost, base, map[string]any{"client_name": "x"}, "kind"},
			{"unknown kind", http.MethodPost, base, map[string]any{"kind": "robot", "client_name": "x"}, "kind"},
			{"empty name", http.MethodPost, base, map[string]any{"kind": "machine", "client_name": " "}, "client_name"},
			{"http redirect", http.MethodPost, base, map[string]any{"kind": "web", "client_name": "x", "redirect_uris": []string{"http://evil.test/cb"}}, "redirect_uris"},
			{"wildcard redirect", http.MethodPost, base, map[string]any{"kind": "spa", "client_name": "x", "redirect_uris": []string{"https://*.acme.test/cb"}}, "redirect_uris"},
			{"web without redirect", http.MethodPost, base, map[string]any{"kind": "web", "client_name": "x"}, "redirect_uris"},
			{"implicit grant", http.MethodPost, base, map[string]any{"kind": "web", "client_name": "x", "redirect_uris": []string{redirectURI}, "grant_types": []string{"implicit"}}, "grant_types"},
			{"public client credentials", http.MethodPost, base, map[string]any{"kind": "spa", "client_name": "x", "grant_types": []string{"client_credentials"}}, "grant_types"},
			{"unknown audience", http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "x", "audiences": []string{"https://nope.test"}}, "audiences"},
			{"scope of no API", http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "x", "audiences": []string{f.api}, "scopes": []string{"fly"}}, "scopes"},
			{"secret field", http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "x", "client_secret": "mine"}, "client_secret"},
			{"name of wrong type", http.MethodPatch, base + "/" + portal, map[string]any{"client_name": 7}, "client_name"},
			{"redirects of wrong type", http.MethodPatch, base + "/" + portal, map[string]any{"redirect_uris": "https://x.test/cb"}, "redirect_uris"},
			{"patch unknown field", http.MethodPatch, base + "/" + portal, map[string]any{"application_type": "spa"}, "application_type"},
			{"negative grace", http.MethodPost, base + "/" + batch + "/secret", map[string]any{"grace_period_seconds": -1}, "grace_period_seconds"},
			{"grace too long", http.MethodPost, base + "/" + batch + "/secret", map[string]any{"grace_period_seconds": 1 << 40}, "grace_period_seconds"},
			{"grace of wrong type", http.MethodPost, base + "/" + batch + "/secret", map[string]any{"grace_period_seconds": "1d"}, "grace_period_seconds"},
			{"grant of unknown API", http.MethodPut, base + "/" + portal + "/grants", []any{map[string]any{"audience": "https://nope.test", "scopes": []string{}}}, "audience"},
			{"grant of unknown scope", http.MethodPut, base + "/" + portal + "/grants", []any{map[string]any{"audience": f.api, "scopes": []string{"fly"}}}, "scopes"},
			{"grant listed twice", http.MethodPut, base + "/" + portal + "/grants", []any{map[string]any{"audience": f.api, "scopes": []string{}}, map[string]any{"audience": f.api, "scopes": []string{}}}, "audience"},
			{"grant unknown field", http.MethodPut, base + "/" + portal + "/grants", []any{map[string]any{"audience": f.api, "scope": "read:orders"}}, "scope"},
			{"grants as an object", http.MethodPut, base + "/" + portal + "/grants", map[string]any{"audience": f.api}, ""},
			{"limit zero", http.MethodGet, base + "?limit=0", nil, "limit"},
			{"limit too big", http.MethodGet, base + "?limit=201", nil, "limit"},
			{"limit not a number", http.MethodGet, base + "?limit=ten", nil, "limit"},
			{"cursor made up", http.MethodGet, base + "?after=***", nil, "after"},
		} {
			status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
			wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, tc.field)
		}
		if n := len(c.items(t, base+"?limit=200")); n != 7 {
			t.Fatalf("bad input created applications: %d", n)
		}

		// Delete: 204, then 404; its tokens stop working.
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/"+batch, nil)
		status, hdr, body = c.do(t, http.MethodDelete, base+"/"+batch, nil)
		wantProblem(t, "second delete", status, hdr, body, http.StatusNotFound, "")
		status, hdr, body = c.do(t, http.MethodGet, base+"/"+batch, nil)
		wantProblem(t, "get deleted", status, hdr, body, http.StatusNotFound, "")
		eventually(t, 2*time.Second, "deleted app refused", func() bool {
			s, _, _ := f.post("/oauth/token", batch, rot["client_secret"].(string), url.Values{"grant_type": {"client_credentials"}})
			return s == http.StatusUnauthorized
		})

		// No answer ever held a secret's hash, and a secret only the
		// answer that made it.
		noSecretsIn(t, *c.transcript, secrets, 1)
	})
}

// noSecretsIn checks that no text holds a hash of a secret or a hash
// field, and that each secret appears in at most once texts (the answer
// that made it).
func noSecretsIn(t *testing.T, texts, secrets []string, once int) {
	t.Helper()
	for _, s := range secrets {
		n := 0
		for _, x := range texts {
			if strings.Contains(x, secret.Hash(s)) {
				t.Fatalf("a secret's hash was shown: %s", x)
			}
			if strings.Contains(x, s) {
				n++
			}
		}
		if n > once {
			t.Fatalf("secret %s… shown %d times", s[:6], n)
		}
	}
	for _, x := range texts {
		for _, bad := range []string{"secret_hash", "SecretHash", "password_hash", "PasswordHash", "$argon2"} {
			if strings.Contains(x, bad) {
				t.Fatalf("%s in %s", bad, x)
			}
		}
	}
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i], _ = x.(string)
	}
	return out
}
