package e2e

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin/dnstest"
)

var txtValue = regexp.MustCompile(`gatehouse-domain-verification=[A-Za-z0-9_-]+`)

// TestConsoleCustomDomains: an admin adds a domain in the console and sees
// the CNAME and TXT records to create; verifying before the TXT record
// exists says so; once it exists the domain is verified and the page tells
// relying parties its issuer. A domain another tenant holds is a form
// error; another tenant's admin cannot verify or remove it.
func TestConsoleCustomDomains(t *testing.T) {
	forEachDBWith(t, func(t *testing.T, e *env, dns *dnstest.Server) {
		acme := e.fixture("acme")
		e.fixture("beta")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		page := e.base + "/admin/t/acme/domains"
		if p := b.get(page); p.status != http.StatusOK || !strings.Contains(p.body, "No custom domain") {
			t.Fatalf("domains page: %d\n%s", p.status, p.body)
		}
		if p := b.post(page, url.Values{"csrf_token": {csrf}, "domain": {"login.acme.test:8443"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("a domain with a port: %d\n%s", p.status, p.body)
		}
		if p := b.post(page, url.Values{"csrf_token": {csrf}, "domain": {"Login.Acme.Test"}}); p.status != http.StatusSeeOther {
			t.Fatalf("add: %d\n%s", p.status, p.body)
		}
		p := b.get(page)
		body := html.UnescapeString(p.body)
		value := txtValue.FindString(body)
		if value == "" || !strings.Contains(body, "_gatehouse-challenge.login.acme.test") || !strings.Contains(body, "CNAME") || !strings.Contains(body, "not verified") {
			t.Fatalf("domains page after adding:\n%s", p.body)
		}
		verify := page + "/login.acme.test/verify"
		if p := b.post(verify, url.Values{"csrf_token": {csrf}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "no TXT record") {
			t.Fatalf("verify without the record: %d\n%s", p.status, p.body)
		}
		// beta cannot take it; beta's admin cannot verify or remove it.
		if p := b.post(e.base+"/admin/t/beta/domains", url.Values{"csrf_token": {csrf}, "domain": {"login.acme.test"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "s taken: it is a custom domain already") {
			t.Fatalf("beta adds acme's domain: %d\n%s", p.status, p.body)
		}
		dns.Set("_gatehouse-challenge.login.acme.test", value)
		ba, csrfB := e.consoleAs(t, "beta-admin@example.test", "beta")
		for _, action := range []string{"/verify", "/remove"} {
			if p := ba.post(e.base+"/admin/t/beta/domains/login.acme.test"+action, url.Values{"csrf_token": {csrfB}}); p.status != http.StatusNotFound {
				t.Fatalf("beta's admin %s acme's domain: %d", action, p.status)
			}
		}
		if p := b.post(verify, url.Values{"csrf_token": {csrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("verify: %d\n%s", p.status, p.body)
		}
		issuer := "http://login.acme.test:" + e.port
		if p := b.get(page); !strings.Contains(p.body, ">verified<") || !strings.Contains(p.body, `data-copy="`+issuer+`"`) {
			t.Fatalf("domains page after verifying:\n%s", p.body)
		}
		// The application page tells relying parties the domain's issuer too.
		if p := b.get(e.base + "/admin/t/acme/applications/" + acme.web.ClientID); !strings.Contains(p.body, "At a custom domain") || !strings.Contains(p.body, `data-copy="`+issuer+`"`) {
			t.Fatalf("application page:\n%s", p.body)
		}
		if p := b.post(page+"/login.acme.test/remove", url.Values{"csrf_token": {csrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("remove: %d\n%s", p.status, p.body)
		}
		if p := b.get(page); !strings.Contains(p.body, "No custom domain") {
			t.Fatalf("domains page after removing:\n%s", p.body)
		}
	})
}
