package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleNotFoundKeepsNavigation: a signed-in administrator who opens
// an application that does not exist, a path the console has nothing at,
// or another tenant's page gets a 404 inside the console's frame: the top
// navigation, and the tenant's menu only for a tenant they administer.
func TestConsoleNotFoundKeepsNavigation(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	e.fixture("acme")
	g := e.fixture("globex")
	b, _ := e.consoleAs(t, "acme-admin@example.test", "acme")
	for _, tt := range []struct {
		name, path string
		tenantMenu bool
	}{
		{"unknown application", "/admin/t/acme/applications/no-such-app", true},
		{"unknown path in a tenant", "/admin/t/acme/no-such-section", true},
		{"unknown path", "/admin/no/such/page", false},
		{"another tenant's application", "/admin/t/globex/applications/" + g.web.ClientID, false},
	} {
		p := b.get(e.base + tt.path)
		if p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", tt.name, p.status)
			continue
		}
		for _, want := range []string{"Page not found", `href="/admin">All tenants</a>`, `href="/admin/administrators"`, "Sign out"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("%s: no %q in the 404 page:\n%s", tt.name, want, p.body)
			}
		}
		if got := strings.Contains(p.body, `aria-label="Tenant"`) && strings.Contains(p.body, `href="/admin/t/acme/applications"`); got != tt.tenantMenu {
			t.Errorf("%s: tenant menu shown %v, want %v", tt.name, got, tt.tenantMenu)
		}
		if strings.Contains(p.body, "Globex") || strings.Contains(p.body, "/admin/t/globex") {
			t.Errorf("%s: the 404 page names the other tenant:\n%s", tt.name, p.body)
		}
	}
	// Without a session the console still asks to sign in first.
	if p := e.browser().get(e.base + "/admin/no/such/page"); p.status != http.StatusFound || !strings.Contains(p.location, "/admin/login") {
		t.Errorf("signed out: %d %s, want a redirect to sign in", p.status, p.location)
	}
}
