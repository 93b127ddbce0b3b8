package e2e

import (
	"html"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestGrantRegistry checks through the real server that what a tenant
// allows is what its discovery document lists, in registry order, and
// that the management API refuses what the registry's rules refuse with a
// 400 naming the field.
func TestGrantRegistry(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		acme, beta := e.fixture("acme"), e.fixture("beta")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite, admin.ScopeTenantsRead)
		supported := func(f *fixture) []string {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
			status, _, d := e.doJSON(req)
			raw, ok := d["grant_types_supported"]
			if status != http.StatusOK || !ok {
				t.Fatalf("discovery of %s: %d, grant_types_supported %v", f.slug, status, raw)
			}
			out := []string{}
			for _, g := range raw.([]any) {
				out = append(out, g.(string))
			}
			return out
		}
		if got := supported(acme); !slices.Equal(got, tenants.DefaultGrantTypes()) {
			t.Fatalf("a new tenant's discovery lists %v, want %v", got, tenants.DefaultGrantTypes())
		}

		// Given in any order, stored and listed in registry order.
		v := c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": []string{"client_credentials", "authorization_code"}})
		want := []string{"authorization_code", "client_credentials"}
		if !slices.Equal(strs(v["grant_types"]), want) {
			t.Fatalf("patched grant types %v", v["grant_types"])
		}
		if got := supported(acme); !slices.Equal(got, want) {
			t.Fatalf("acme's discovery lists %v, want %v", got, want)
		}
		if got := supported(beta); !slices.Equal(got, tenants.DefaultGrantTypes()) {
			t.Fatalf("beta's discovery follows acme's settings: %v", got)
		}
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": []string{"client_credentials"}})
		if got := supported(acme); !slices.Equal(got, []string{"client_credentials"}) {
			t.Fatalf("acme's discovery lists %v, want client_credentials only", got)
		}
		// None allowed: an empty list, not a missing one (RFC 8414 reads
		// that as authorization_code and implicit).
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": []string{}})
		if got := supported(acme); len(got) != 0 {
			t.Fatalf("acme allows nothing, its discovery lists %v", got)
		}
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": tenants.GrantNames()})

		apps := "/tenants/acme/applications"
		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
			field              string
		}{
			{"tenant: unknown grant", http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": []string{"magic"}}, "grant_types"},
			{"tenant: password grant", http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": []string{"authorization_code", "password"}}, "grant_types"},
			{"tenant: repeated grant", http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": []string{"authorization_code", "authorization_code"}}, "grant_types"},
			{"machine with authorization_code", http.MethodPost, apps, map[string]any{"kind": "machine", "client_name": "x", "redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code"}}, "grant_types"},
			{"machine with refresh_token", http.MethodPost, apps, map[string]any{"kind": "machine", "client_name": "x", "grant_types": []string{"client_credentials", "refresh_token"}}, "grant_types"},
			{"web with the password grant", http.MethodPost, apps, map[string]any{"kind": "web", "client_name": "x", "redirect_uris": []string{redirectURI}, "grant_types": []string{"password"}}, "grant_types"},
			{"web with a repeated grant", http.MethodPost, apps, map[string]any{"kind": "web", "client_name": "x", "redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code", "authorization_code"}}, "grant_types"},
			{"native with client_credentials", http.MethodPost, apps, map[string]any{"kind": "native", "client_name": "x", "redirect_uris": []string{"com.acme.app:/cb"}, "grant_types": []string{"authorization_code", "client_credentials"}}, "grant_types"},
			{"code without redirect", http.MethodPost, apps, map[string]any{"kind": "web", "client_name": "x", "grant_types": []string{"authorization_code", "client_credentials"}}, "redirect_uris"},
			{"another tenant's client", http.MethodPatch, apps + "/" + beta.web.ClientID, map[string]any{"grant_types": []string{"authorization_code"}}, ""},
		} {
			status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
			wantStatus := http.StatusBadRequest
			if tc.field == "" {
				wantStatus = http.StatusNotFound
			}
			wantProblem(t, tc.name, status, hdr, body, wantStatus, tc.field)
		}
		if got := supported(acme); !slices.Equal(got, tenants.GrantNames()) {
			t.Fatalf("refused changes changed acme's discovery: %v", got)
		}
	})
}

// TestConsoleGrantChoices checks that the console offers the registry's
// grants with its labels and help: every grant in the tenant's settings,
// and to an application only those its kind may use.
func TestConsoleGrantChoices(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, _ := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme"
		offered := func(body string) []string {
			var out []string
			for _, g := range tenants.GrantTypes() {
				if strings.Contains(body, `name="grant_types" value="`+g.Name+`"`) {
					out = append(out, g.Name)
				}
			}
			return out
		}
		p := b.get(base + "/settings")
		if p.status != http.StatusOK || !slices.Equal(offered(p.body), tenants.GrantNames()) {
			t.Fatalf("settings offer %v: %d", offered(p.body), p.status)
		}
		for _, g := range tenants.GrantTypes() {
			for _, w := range []string{g.Label, "<code>" + g.Name + "</code>", html.EscapeString(g.Help)} {
				if !strings.Contains(p.body, w) {
					t.Errorf("settings page lacks %q for %s", w, g.Name)
				}
			}
		}
		for _, tc := range []struct {
			client *admin.Client
			want   []string
		}{
			{f.web, tenants.DefaultGrantTypes()},                     // what the tenant allows
			{f.spa, []string{"authorization_code", "refresh_token"}}, // public: no client_credentials
			{f.worker, nil}, // machine: nothing to choose
		} {
			p := b.get(base + "/applications/" + tc.client.ClientID)
			if got := offered(p.body); p.status != http.StatusOK || !slices.Equal(got, tc.want) {
				t.Errorf("%s is offered %v, want %v", tc.client.ClientName, got, tc.want)
			}
		}
	})
}

// TestGrantSettingsRace changes a tenant's grant types from many requests
// at once: what is stored is one of the sets sent, whole, and discovery
// lists exactly that set once the writes are done.
func TestGrantSettingsRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		acme := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite, admin.ScopeTenantsRead)
		sets := [][]string{
			{"authorization_code"},
			{"client_credentials"},
			{"authorization_code", "refresh_token"},
			{"authorization_code", "refresh_token", "client_credentials"},
			{},
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cc := *c
				cc.transcript = nil // the shared transcript is not for goroutines
				status, _, body := cc.do(t, http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": sets[i%len(sets)]})
				if status != http.StatusOK {
					t.Errorf("patch %d: %d %v", i, status, body)
				}
			}()
		}
		wg.Wait()
		stored := strs(c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme", nil)["grant_types"])
		if !slices.ContainsFunc(sets, func(s []string) bool { return slices.Equal(s, stored) }) {
			t.Fatalf("stored grant types %v are none of the sets sent", stored)
		}
		req, _ := http.NewRequest(http.MethodGet, acme.issuer+"/.well-known/openid-configuration", nil)
		_, _, d := e.doJSON(req)
		if got := strs(d["grant_types_supported"]); !slices.Equal(got, stored) {
			t.Fatalf("discovery lists %v, the tenant allows %v", got, stored)
		}
	})
}
