package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestTenantSettingsApply checks that what an admin sets for a tenant is
// what its users and clients get: branding on the login page, allowed grant
// types at the token endpoint, token lifetimes.
func TestTenantSettingsApply(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		accent, logo, minute := "#c2255c", "https://cdn.acme.test/logo.png", int64(60)
		lifetime := secondsOf(5 * minute)
		if _, err := e.srv.Admin().UpdateTenant(f.adminCtx(), admin.TenantSettings{
			AccentColor: &accent, LogoURL: &logo, GrantTypes: []string{"authorization_code"}, AccessTokenLifetime: lifetime,
		}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		p = b.get(resolve(f.issuer, p.location))
		if !strings.Contains(p.body, `src="`+logo+`"`) || !strings.Contains(p.body, `href="/branding.css?v=`) {
			t.Fatalf("login page lacks the tenant's branding:\n%s", p.body)
		}
		css := fetch(t, e, f.issuer+"/branding.css")
		if !strings.Contains(css, "--accent: "+accent) {
			t.Fatalf("branding.css = %q", css)
		}

		status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusBadRequest || errorCode(body) != "unauthorized_client" {
			t.Fatalf("client_credentials at a tenant that does not allow it: %d %v", status, body)
		}
		tok, _ := f.codeFlow(b, f.web, []string{"openid", "offline_access"})
		if tok.RefreshToken != "" {
			t.Fatal("a refresh token from a tenant that does not allow the grant")
		}
		if got := tok.Expiry.Sub(tokNow()); got > 5*60e9 || got < 4*60e9 {
			t.Fatalf("access token lifetime %s, want the tenant's 5 minutes", got)
		}
	})
}
