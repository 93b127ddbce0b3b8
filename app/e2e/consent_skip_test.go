package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestConsentSkip: an application whose consent is skip (the tenant's
// own) signs its users in without the consent page, with x/oauth2; the
// consent is recorded as implicit, shown on the account page and revocable
// there; prompt=consent still shows the page, and the user's answer makes
// the consent explicit; a machine application cannot skip; a bad value is
// refused naming the field.
func TestConsentSkip(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		base := "/tenants/" + f.slug
		app := base + "/applications/" + f.web.ClientID
		if c := op.must(t, http.StatusOK, http.MethodGet, app, nil); c["consent"] != "required" {
			t.Fatalf("default consent: %v", c["consent"])
		}
		if status, _, body := op.do(t, http.MethodPatch, app, map[string]any{"consent": "sometimes"}); status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "field:consent") {
			t.Fatalf("PATCH consent sometimes: %d %v", status, body)
		}
		if status, _, body := op.do(t, http.MethodPost, base+"/applications", map[string]any{"kind": "machine", "client_name": "robot", "consent": "skip"}); status != http.StatusBadRequest {
			t.Fatalf("machine client with consent skip: %d %v", status, body)
		}
		if c := op.must(t, http.StatusOK, http.MethodPatch, app, map[string]any{"consent": "skip"}); c["consent"] != "skip" {
			t.Fatalf("PATCH consent skip: %v", c)
		}

		// No consent page; an implicit consent recorded and audited.
		b := e.browser()
		if _, pages := f.rbacFlow(b, "openid", "email"); len(pages) != 0 {
			t.Fatalf("a first-party application showed the consent page")
		}
		consents := op.items(t, base+"/users/"+f.userID+"/consents")
		if len(consents) != 1 || consents[0]["implicit"] != true {
			t.Fatalf("consents after a skipped consent: %v", consents)
		}
		if evs := op.items(t, base+"/audit?action=consent.implicit"); len(evs) != 1 {
			t.Fatalf("consent.implicit events: %v", evs)
		}

		// The account page shows it; prompt=consent still asks.
		acct := b.get(f.issuer + "/account")
		if acct.status != http.StatusOK || !strings.Contains(acct.body, f.web.ClientName) || !strings.Contains(acct.body, "granted automatically") {
			t.Fatalf("account page: %d %s", acct.status, acct.body)
		}
		cfg := f.oauth2Config(f.web, "openid", "email")
		p := b.get(cfg.AuthCodeURL(secret.Token(8), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "consent")))
		for i := 0; i < 4 && (p.status == http.StatusFound || p.status == http.StatusSeeOther); i++ {
			p = b.get(resolve(f.issuer, p.location))
		}
		if p.status != http.StatusOK || !strings.Contains(p.body, `action="/consent"`) {
			t.Fatalf("prompt=consent: %d %s", p.status, p.body)
		}
		p = b.post(f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		if p.status != http.StatusFound && p.status != http.StatusSeeOther {
			t.Fatalf("allow: %d %s", p.status, p.body)
		}
		if consents := op.items(t, base+"/users/"+f.userID+"/consents"); len(consents) != 1 || consents[0]["implicit"] != false {
			t.Fatalf("consents after the page: %v", consents)
		}

		// Revoked from the account page like any other.
		acct = b.get(f.issuer + "/account")
		revoke := f.issuer + "/account/apps/" + url.PathEscape(f.web.ClientID) + "/revoke"
		r := b.post(revoke, url.Values{"csrf_token": {field(t, csrfField, acct.body)}})
		if r.status >= 400 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if consents := op.items(t, base+"/users/"+f.userID+"/consents"); len(consents) != 0 {
			t.Fatalf("consents after revoking: %v", consents)
		}
	})
}
