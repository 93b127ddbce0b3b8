package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// consoleLogin signs a browser in to the console as email through the
// system tenant's login page, and returns the console page it lands on.
func (e *env) consoleLogin(b *browser, email, password, next string) *page {
	t := b.t
	t.Helper()
	cur := e.base + next
	p := b.get(cur)
	for range 10 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			cur = resolve(cur, p.location)
			p = b.get(cur)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post("http://admin.localhost:"+e.port+"/login", url.Values{
				"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {email}, "password": {password},
			})
		default:
			return p
		}
	}
	t.Fatal("too many redirects signing in to the console")
	return nil
}

func (e *env) createAdmin(t testing.TB, email, tenantSlug string) {
	t.Helper()
	if _, err := e.srv.Admin().CreateAdmin(context.Background(), admin.CreateAdminInput{Email: email, Password: testPassword, TenantSlug: tenantSlug}); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleSignInThroughSystemTenant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.createAdmin(t, "ops@example.test", "")
		b := e.browser()
		p := e.consoleLogin(b, "ops@example.test", testPassword, "/admin")
		if p.status != http.StatusOK || !strings.Contains(p.body, "Tenants") || !strings.Contains(p.body, "Acme Inc") {
			t.Fatalf("console after sign-in: %d\n%s", p.status, p.body)
		}
		if !strings.Contains(p.body, "ops@example.test") || !strings.Contains(p.body, "operator") {
			t.Fatal("console does not show who is signed in")
		}
		// A user without an administrator role gets no console.
		e.srv.Admin() // system users only come from admin create
		p = e.consoleLogin(e.browser(), "nobody@example.test", testPassword, "/admin")
		if p.status == http.StatusOK && strings.Contains(p.body, "Tenants") {
			t.Fatal("an unknown user reached the console")
		}
	})
}

// setupLink returns a fresh one-time link that creates the first operator
// (the harness's bootstrap made one too, and dropped it).
func (e *env) setupLink(t testing.TB) string {
	t.Helper()
	link, err := e.srv.Admin().NewSetupLink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return link
}
