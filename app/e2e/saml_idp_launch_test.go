package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

var launchForm = regexp.MustCompile(`<form method="post" action="(/saml/idp/launch/[^"]+)"`)

// TestSAMLIdPLaunch opens a SAML application from the account page's My
// applications (IdP-initiated): an unsolicited response the SP accepts
// when it allows them. An application the user's groups leave out is not
// listed, and its launch is refused; the launch form is CSRF-checked.
func TestSAMLIdPLaunch(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		b := e.browser()
		sp := startSP(t, b, f)
		sp.sp.AllowIDPInitiated = true
		open := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/groups", map[string]any{"name": "finance"})
		closed := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Ledger", "entity_id": "urn:ledger",
			"acs": []any{map[string]any{"url": "https://ledger.example.com/acs"}}, "access": "groups", "access_groups": []any{"finance"}})

		page := f.accountPage(b)
		forms := launchForm.FindAllStringSubmatch(page.body, -1)
		if len(forms) != 1 || forms[0][1] != "/saml/idp/launch/"+open["id"].(string) || !strings.Contains(page.body, "Expenses") ||
			strings.Contains(page.body, "Ledger") {
			t.Fatalf("My applications lists %v", forms)
		}
		csrf := field(t, csrfField, page.body)
		if p := b.post(f.issuer+forms[0][1], url.Values{}); p.status != http.StatusForbidden {
			t.Fatalf("launch without a CSRF token: %d", p.status)
		}
		action, fields, logins := toACS(t, b, f, b.post(f.issuer+forms[0][1], url.Values{"csrf_token": {csrf}}))
		if logins != 0 {
			t.Fatal("the launch asked for the password again")
		}
		if got := sp.deliver(t, b, action, fields); got["name_id"] != f.email || got["in_response_to"] != "" {
			t.Fatalf("IdP-initiated: the SP accepted %v", got)
		}
		// The application Ann's groups leave out: the SP is told no.
		p := b.post(f.issuer+"/saml/idp/launch/"+closed["id"].(string), url.Values{"csrf_token": {csrf}})
		_, fields, _ = toACS(t, b, f, p)
		if got := responseStatus(t, fields); !strings.Contains(got, "RequestDenied") {
			t.Fatalf("launch of an application Ann may not use: %s", got)
		}
	})
}
