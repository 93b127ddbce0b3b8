package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleSAMLApps: an admin adds a SAML application from the SP's
// metadata in the console and is shown what to give the SP — the IdP
// metadata URL (downloadable), the SSO URL and the signing certificate; a
// form without metadata or fields is a form error.
func TestConsoleSAMLApps(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		list := e.base + "/admin/t/acme/saml-apps"
		if p := b.get(list); p.status != http.StatusOK || !strings.Contains(p.body, "No SAML applications yet") {
			t.Fatalf("empty list: %d\n%s", p.status, p.body)
		}
		p := b.post(list, url.Values{"csrf_token": {csrf}, "name": {"Expenses"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "entity ID") {
			t.Fatalf("no metadata, no fields: %d\n%s", p.status, p.body)
		}
		sp := newTestSP(t, "https://expenses.example.com/saml/metadata", "https://expenses.example.com/saml/acs")
		p = b.post(list, url.Values{"csrf_token": {csrf}, "name": {"Expenses"}, "metadata": {sp.metadata}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("add: %d\n%s", p.status, p.body)
		}
		p = b.get(resolve(e.base, p.location))
		for _, want := range []string{f.issuer + "/saml/idp/metadata", f.issuer + "/saml/idp/sso", "BEGIN CERTIFICATE", "https://expenses.example.com/saml/acs",
			"SAML application added"} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("the application's page lacks %q:\n%s", want, p.body)
			}
		}
		md := b.get(f.issuer + "/saml/idp/metadata?download=1")
		if md.status != http.StatusOK || !strings.Contains(md.header.Get("Content-Disposition"), "acme-idp-metadata.xml") {
			t.Fatalf("download: %d %v", md.status, md.header)
		}
		if p := b.get(list); !strings.Contains(p.body, "https://expenses.example.com/saml/metadata") {
			t.Fatalf("list: %s", p.body)
		}
		// By hand, with single logout by HTTP-POST; a bad SLO URL is the
		// form's error.
		p = b.post(list, url.Values{"csrf_token": {csrf}, "name": {"Ledger"}, "entity_id": {"urn:ledger"}, "acs": {"https://ledger.example.com/acs"},
			"slo_url": {"javascript:alert(1)"}, "slo_binding": {"HTTP-POST"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad SLO URL: %d", p.status)
		}
		p = b.post(list, url.Values{"csrf_token": {csrf}, "name": {"Ledger"}, "entity_id": {"urn:ledger"}, "acs": {"https://ledger.example.com/acs"},
			"slo_url": {"https://ledger.example.com/slo"}, "slo_binding": {"HTTP-POST"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("add by hand with SLO: %d\n%s", p.status, p.body)
		}
		p = b.get(resolve(e.base, p.location))
		for _, want := range []string{"https://ledger.example.com/slo (HTTP-POST)", f.issuer + "/saml/idp/slo"} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("the application's page lacks %q:\n%s", want, p.body)
			}
		}
	})
}
