package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestAccountPageSignsInThroughTheTenant checks that /account signs a user
// in through the tenant's own login page and then shows their account.
func TestAccountPageSignsInThroughTheTenant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		cur := f.issuer + "/account"
		p := b.get(cur)
		for i := 0; i < 8; i++ {
			switch {
			case p.status == http.StatusFound || p.status == http.StatusSeeOther:
				cur = resolve(cur, p.location)
				p = b.get(cur)
			case strings.Contains(p.body, `action="/login"`):
				p = b.post(f.issuer+"/login", map[string][]string{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
					"email": {f.email}, "password": {f.password}})
			}
		}
		if p.status != http.StatusOK || !strings.Contains(p.body, "My account") || !strings.Contains(p.body, f.email) {
			t.Fatalf("account page: %d %s\n%s", p.status, cur, p.body)
		}
		if strings.Contains(p.body, ">Allow<") {
			t.Fatal("the account pages asked for consent")
		}
		// The account client is Gatehouse's own: not listed to admins.
		cs, err := e.srv.Admin().ListClients(f.adminCtx())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.ClientID == "gatehouse-account" {
				t.Fatal("the internal account client is listed")
			}
		}
	})
}
