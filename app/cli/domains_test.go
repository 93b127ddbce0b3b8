package cli_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/admin/dnstest"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestCustomDomainsFromTheCLI adds a custom domain, verifies it through a
// DNS server of the test (GATEHOUSE_DNS_RESOLVER): refused without the TXT
// record and with a wrong value, verified with the right one; another
// tenant cannot take it in any spelling until it is removed.
func TestCustomDomainsFromTheCLI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		dns := dnstest.New(t)
		c := newCLI(t, db)
		c.env["GATEHOUSE_DNS_RESOLVER"] = dns.Addr
		c.ok("", "tenant", "create", "acme")
		c.ok("", "tenant", "create", "beta")

		d := c.ok("", "domain", "add", "--tenant", "acme", "--domain", "Login.Acme.TEST.")
		if d["domain"] != "login.acme.test" || d["verified"] != false || d["issuer"] != "http://login.acme.test:8080" {
			t.Fatalf("domain add: %v", d)
		}
		recs := d["dns_records"].([]any)
		cname, txt := recs[0].(map[string]any), recs[1].(map[string]any)
		if cname["type"] != "CNAME" || cname["name"] != "login.acme.test" || cname["value"] != "localhost" ||
			txt["type"] != "TXT" || txt["name"] != "_gatehouse-challenge.login.acme.test" || len(txt["value"].(string)) < 32 {
			t.Fatalf("records: %v", recs)
		}
		c.refused("", "no TXT record _gatehouse-challenge.login.acme.test was found", "domain", "verify", "--tenant", "acme", "--domain", "login.acme.test")
		dns.Set("_gatehouse-challenge.login.acme.test", "something else", "gatehouse-domain-verification=forged")
		c.refused("", "does not hold this domain's value", "domain", "verify", "--tenant", "acme", "--domain", "login.acme.test")
		// beta cannot verify (or see) acme's claim, nor claim it itself.
		c.refused("", "not found", "domain", "verify", "--tenant", "beta", "--domain", "login.acme.test")
		c.refused("", "taken", "domain", "add", "--tenant", "beta", "--domain", "LOGIN.acme.test")
		dns.Set("_gatehouse-challenge.login.acme.test", "something else", txt["value"].(string))
		if v := c.ok("", "domain", "verify", "--tenant", "acme", "--domain", "LOGIN.acme.test"); v["verified"] != true || v["verified_at"] == nil {
			t.Fatalf("domain verify: %v", v)
		}
		dns.Set("_gatehouse-challenge.login.acme.test") // a verified domain stays verified
		if v := c.ok("", "domain", "show", "--tenant", "acme", "--domain", "login.acme.test"); v["verified"] != true {
			t.Fatalf("domain show: %v", v)
		}
		c.refused("", "taken", "domain", "add", "--tenant", "beta", "--domain", "login.acme.test")
		for _, bad := range []string{"login.acme.test:443", "https://login.acme.test", "acme.localhost", "xn--zz.test", "lоgin.acme.test", "127.0.0.1"} {
			c.refused("", "domain:", "domain", "add", "--tenant", "beta", "--domain", bad)
		}
		if l := c.ok("", "domain", "list", "--tenant", "beta")["domains"].([]any); len(l) != 0 {
			t.Fatalf("beta's domains: %v", l)
		}
		c.ok("", "domain", "remove", "--tenant", "acme", "--domain", "login.acme.test")
		c.refused("", "not found", "domain", "remove", "--tenant", "acme", "--domain", "login.acme.test")
		if d := c.ok("", "domain", "add", "--tenant", "beta", "--domain", "login.acme.test"); d["verified"] != false {
			t.Fatalf("beta's claim of the freed domain: %v", d)
		}
	})
}
