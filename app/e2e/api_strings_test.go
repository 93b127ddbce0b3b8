package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestAPITenantStrings: a tenant rewords a message in a language through
// the management API; its pages in that language say it (other languages
// keep the catalog's words), with the variable filled in and nothing else
// in the text read as a template; what the API refuses; deleting it shows
// the catalog's words again.
func TestAPITenantStrings(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/acme/strings"
		got := c.must(t, http.StatusOK, http.MethodPut, base+"/de/login.lead", map[string]any{"text": "weiter zu {{ .App }} {{call .X}} <b>fett</b>"})
		if got["default"] != "um mit {{.App}} fortzufahren" || got["locale"] != "de" || got["message_id"] != "login.lead" {
			t.Fatalf("PUT answered %v", got)
		}
		for path, body := range map[string]map[string]any{
			base + "/xx/login.lead":          {"text": "x"},
			base + "/pt-br/login.lead":       {"text": "x"},
			base + "/de/no.such.message":     {"text": "x"},
			base + "/de/login.lead":          {"text": "   "},
			base + "/de/consent.heading":     {"text": "{{.Email}} will"},
			base + "/de/login.continue_with": {"text": strings.Repeat("x", 2001)},
		} {
			status, hdr, b := c.do(t, http.MethodPut, path, body)
			wantProblem(t, "PUT "+path, status, hdr, b, http.StatusBadRequest, "")
		}
		if items := c.items(t, base); len(items) != 1 {
			t.Fatalf("strings: %v", items)
		}

		page := func(lang string) string {
			b := e.browser()
			p := f.loginPageWith(b, "Accept-Language", lang)
			return p.body
		}
		de := page("de")
		if !strings.Contains(de, "weiter zu <strong>web</strong> {{call .X}} &lt;b&gt;fett&lt;/b&gt;") {
			t.Fatalf("German login page lacks the tenant's words:\n%s", de)
		}
		if en := page("en"); !strings.Contains(en, "to continue to <strong>web</strong>") {
			t.Fatalf("English login page:\n%s", en)
		}
		// The tenant's default language, and what the settings refuse.
		for _, body := range []map[string]any{{"default_locale": "xx"}, {"default_locale": "pt-br"}, {"email_reply_to": "not an address"}} {
			status, hdr, b := c.do(t, http.MethodPatch, "/tenants/acme", body)
			wantProblem(t, "PATCH "+fmtAny(body), status, hdr, b, http.StatusBadRequest, "")
		}
		if got := c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"default_locale": "ja"}); got["default_locale"] != "ja" {
			t.Fatalf("PATCH default_locale answered %v", got)
		}
		if p := page("zh"); !strings.Contains(p, `<html lang="ja">`) {
			t.Fatalf("login page of a tenant whose default is Japanese, for a Chinese browser:\n%s", p)
		}
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/de/login.lead", nil)
		status, hdr, b := c.do(t, http.MethodDelete, base+"/de/login.lead", nil)
		wantProblem(t, "DELETE again", status, hdr, b, http.StatusNotFound, "")
		if de := page("de"); !strings.Contains(de, "um mit <strong>web</strong> fortzufahren") {
			t.Fatalf("German login page after the delete:\n%s", de)
		}
	})
}

// loginPageWith opens a login page in b sending the header name: value.
func (f *fixture) loginPageWith(b *browser, name, value string) *page {
	t := b.t
	t.Helper()
	_, challenge := pkce()
	get := func(u string) *page {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set(name, value)
		return b.do(req)
	}
	p := get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	if p.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", p.status, p.body)
	}
	p = get(resolve(f.issuer, p.location))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("login page: %d\n%s", p.status, p.body)
	}
	return p
}

// TestErrorPageLanguage: an error page speaks the browser's language, and
// an OAuth JSON answer stays English.
func TestErrorPageLanguage(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		req, _ := http.NewRequest(http.MethodGet, f.issuer+"/login?id=no-such-request", nil)
		req.Header.Set("Accept-Language", "ja, de;q=0.5")
		p := e.browser().do(req)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `<html lang="ja">`) ||
			!strings.Contains(p.body, "このログインは有効期限が切れました") {
			t.Fatalf("error page: %d\n%s", p.status, p.body)
		}
		req, _ = http.NewRequest(http.MethodPost, f.issuer+"/oauth/token", strings.NewReader("grant_type=authorization_code&code=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "de")
		req.SetBasicAuth(f.web.ClientID, f.web.ClientSecret)
		status, _, body := e.doJSON(req)
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("token endpoint: %d %v", status, body)
		}
		if d, _ := body["error_description"].(string); strings.ContainsAny(d, "äöüß") {
			t.Fatalf("error_description in German: %q", d)
		}
	})
}
