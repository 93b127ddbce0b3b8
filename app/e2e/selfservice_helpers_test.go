package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// The self-service pages, as tests read them.
var (
	tokenField   = regexp.MustCompile(`name="token" value="([^"]*)"`)
	sessionForm  = regexp.MustCompile(`action="/account/sessions/([^/"]+)/revoke"`)
	factorForm   = regexp.MustCompile(`action="/account/mfa/([^/"]+)/remove"`)
	mfaSecret    = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)
	recoveryItem = regexp.MustCompile(`<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>`)
)

// setSignup sets the tenant's sign-up mode (and domains) through the admin
// service.
func (f *fixture) setSignup(t *testing.T, mode string, domains ...string) {
	t.Helper()
	if _, err := f.e.srv.Admin().UpdateTenant(f.adminCtx(), admin.TenantSettings{SignupMode: &mode, SignupDomains: domains}); err != nil {
		t.Fatalf("set sign-up %s: %v", mode, err)
	}
}

// as returns a copy of the fixture that signs in as email with pw.
func (f *fixture) as(email, pw string) *fixture {
	g := *f
	g.email, g.password = email, pw
	return &g
}

// loginPage starts an authorization request of the web client in b and
// returns the login page.
func (f *fixture) loginPage(b *browser) *page {
	t := b.t
	t.Helper()
	_, challenge := pkce()
	p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	if p.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", p.status, p.body)
	}
	p = b.get(resolve(f.issuer, p.location))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("login page: %d\n%s", p.status, p.body)
	}
	return p
}

// follow steps b through redirects and consent, from p, to the client's
// redirect, and returns the callback parameters.
func (f *fixture) follow(b *browser, p *page) url.Values {
	t := b.t
	t.Helper()
	for range 8 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			loc := resolve(f.issuer, p.location)
			if strings.HasPrefix(loc, redirectURI) {
				u, _ := url.Parse(loc)
				return u.Query()
			}
			p = b.get(loc)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			p = b.post(f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return nil
}

// tryLogin submits email and password on a new login page in a new
// browser and returns the answer.
func (f *fixture) tryLogin(email, pw string) *page {
	b := f.e.browser()
	p := f.loginPage(b)
	return b.post(f.issuer+"/login", url.Values{"id": {field(b.t, idField, p.body)}, "csrf_token": {field(b.t, csrfField, p.body)},
		"email": {email}, "password": {pw}})
}

// accountPage opens /account in b, signing in as the fixture's user when
// asked, and returns the page.
func (f *fixture) accountPage(b *browser) *page {
	t := b.t
	t.Helper()
	cur := f.issuer + "/account"
	p := b.get(cur)
	for range 8 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			cur = resolve(cur, p.location)
			p = b.get(cur)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password}})
		case p.status == http.StatusOK && strings.Contains(p.body, "<h1>My account</h1>"):
			return p
		default:
			t.Fatalf("account page: %d %s\n%s", p.status, cur, p.body)
		}
	}
	t.Fatal("too many steps to the account page")
	return nil
}

// signedOut reports whether b has no session at the tenant: /account
// sends it to sign in.
func (f *fixture) signedOut(b *browser) bool {
	p := b.get(f.issuer + "/account")
	return p.status == http.StatusFound && strings.HasPrefix(p.location, "/login?id=")
}

// accountPost posts form (with the page's anti-CSRF token) to an account
// path and, after a redirect back to the account, returns the page.
func (f *fixture) accountPost(b *browser, csrf, path string, form url.Values) *page {
	t := b.t
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", csrf)
	p := b.post(f.issuer+path, form)
	if p.status == http.StatusSeeOther && strings.HasPrefix(p.location, "/account?") {
		return b.get(resolve(f.issuer, p.location))
	}
	return p
}

// user returns the stored user with email.
func (f *fixture) user(t testing.TB, email string) *tenants.User {
	t.Helper()
	u, err := f.e.store.UserByEmail(tenants.WithTenant(t.Context(), f.tenant), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

// audited checks that the tenant's audit log has an event of each action.
func (f *fixture) audited(t testing.TB, actions ...string) {
	t.Helper()
	evs, err := f.e.store.ListAudit(tenants.WithTenant(t.Context(), f.tenant), tenants.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, ev := range evs {
		have[ev.Action] = true
	}
	for _, a := range actions {
		if !have[a] {
			t.Errorf("no audit event %s among %v", a, have)
		}
	}
}

// samePage checks that two answers cannot be told apart.
func samePage(t testing.TB, what string, a, b *page) {
	t.Helper()
	if a.status != b.status || a.body != b.body || a.location != b.location {
		t.Fatalf("%s: the answers differ:\n%d %s\n%s\n---\n%d %s\n%s", what, a.status, a.location, a.body, b.status, b.location, b.body)
	}
}

// linkHost checks that a link in an email points at the tenant's issuer.
func (f *fixture) linkHost(t testing.TB, link string) {
	t.Helper()
	u, err := url.Parse(link)
	iss, _ := url.Parse(f.issuer)
	if err != nil || u.Scheme != iss.Scheme || u.Host != iss.Host {
		t.Fatalf("link %s is not at the issuer %s", link, f.issuer)
	}
}
