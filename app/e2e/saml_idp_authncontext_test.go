package e2e

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

const (
	acPasswordProtected = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	acMobileTwoFactor   = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
)

// toACSSteps is toACS that also answers the MFA step with app's codes; it
// returns how many passwords and codes the walk gave.
func toACSSteps(t *testing.T, b *browser, f *fixture, p *page, app *authApp) (string, url.Values, int, int) {
	t.Helper()
	logins, codes := 0, 0
	for range 10 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			p = b.get(resolve(f.issuer, p.location))
		case isMFA(p):
			codes++
			p = b.post(f.issuer+"/login/mfa", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"code": {app.code(t)}})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			logins++
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password}})
		case p.status == http.StatusOK && strings.Contains(p.body, "SAMLResponse"):
			m := formAction.FindStringSubmatch(p.body)
			fields := url.Values{}
			for _, in := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
				fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
			}
			return html.UnescapeString(m[1]), fields, logins, codes
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return "", nil, 0, 0
}

// TestSAMLIdPRequestedAuthnContext maps an AuthnRequest's
// RequestedAuthnContext to the sign-in's class: a two-factor class steps a
// password session up with the second factor the user already had (no
// password again), the assertion names the class asked for, and a request
// Gatehouse cannot satisfy (only unknown classes, or better than
// phishing-resistant) is answered NoAuthnContext at once.
func TestSAMLIdPRequestedAuthnContext(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		setup := e.browser()
		sp := startSP(t, setup, f)
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})
		// The user has an authenticator app from an earlier sign-in.
		f.accountPage(setup)
		totp := f.addTOTP(t, setup)
		// Second factors only when asked: the tenant's policy asks none.
		f.setMFAPolicy(t, tenants.MFAOff)

		b := e.browser()
		start, _ := sp.redirectRequest(t, "", nil)
		action, fields, logins, codes := toACSSteps(t, b, f, b.get(start), totp)
		got := sp.deliver(t, b, action, fields)
		if logins != 1 || codes != 0 || got["authn_class"] != acPasswordProtected {
			t.Fatalf("no context asked: %d passwords, %d codes, class %v", logins, codes, got["authn_class"])
		}

		twoFactor := func(cmp string) func(r *saml.AuthnRequest) {
			return func(r *saml.AuthnRequest) {
				r.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: cmp, AuthnContextClassRef: acMobileTwoFactor}
			}
		}
		start, _ = sp.redirectRequest(t, "", twoFactor("exact"))
		action, fields, logins, codes = toACSSteps(t, b, f, b.get(start), totp)
		got = sp.deliver(t, b, action, fields)
		if logins != 0 || codes != 1 || got["authn_class"] != acMobileTwoFactor {
			t.Fatalf("two-factor asked of a password session: %d passwords, %d codes, class %v; want a step-up with one code", logins, codes, got["authn_class"])
		}
		// The session has two factors now: no page, the class asked for.
		start, _ = sp.redirectRequest(t, "", twoFactor("minimum"))
		action, fields, logins, codes = toACSSteps(t, b, f, b.get(start), totp)
		if got = sp.deliver(t, b, action, fields); logins+codes != 0 || got["authn_class"] != acMobileTwoFactor {
			t.Fatalf("second two-factor request: %d steps, class %v", logins+codes, got["authn_class"])
		}
		// Exact password, after two factors: the SP is told the class it
		// accepts, which is true of the sign-in.
		start, _ = sp.redirectRequest(t, "", func(r *saml.AuthnRequest) {
			r.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRef: acPasswordProtected}
		})
		action, fields, _, _ = toACSSteps(t, b, f, b.get(start), totp)
		if got = sp.deliver(t, b, action, fields); got["authn_class"] != acPasswordProtected {
			t.Fatalf("exact password: class %v", got["authn_class"])
		}

		for name, ctx := range map[string]*saml.RequestedAuthnContext{
			"unknown class":      {Comparison: "exact", AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos"},
			"better than FIDO":   {Comparison: "better", AuthnContextClassRef: "urn:rsa:names:tc:SAML:2.0:ac:classes:FIDO"},
			"unknown, no window": {AuthnContextClassRef: "urn:example:retina"},
		} {
			fresh := e.browser()
			start, _ = sp.redirectRequest(t, "", func(r *saml.AuthnRequest) { r.RequestedAuthnContext = ctx })
			_, fields, logins, codes = toACSSteps(t, fresh, f, fresh.get(start), totp)
			if logins+codes != 0 || responseStatus(t, fields) != saml.StatusRequester+" "+saml.StatusNoAuthnContext {
				t.Fatalf("%s: %d steps, status %q; want NoAuthnContext with no page", name, logins+codes, responseStatus(t, fields))
			}
		}
	})
}
