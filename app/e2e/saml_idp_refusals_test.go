package e2e

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
)

// rawRedirect encodes an unsigned AuthnRequest for the HTTP-Redirect
// binding at sso.
func rawRedirect(t *testing.T, sso string, req *saml.AuthnRequest) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 9)
	if _, err := w.Write([]byte(elementXML(t, req))); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return sso + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

func elementXML(t *testing.T, req *saml.AuthnRequest) string {
	t.Helper()
	var b strings.Builder
	doc := newDoc(req)
	if _, err := doc.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// wantPage checks that p is an error page (no post to any ACS) with status.
func wantPage(t *testing.T, what string, p *page, status int) {
	t.Helper()
	if p.status != status || strings.Contains(p.body, "SAMLResponse") {
		t.Fatalf("%s: %d, want an error page %d:\n%s", what, p.status, status, p.body)
	}
}

// TestSAMLIdPRefusals checks what the SSO service refuses with a page (the
// application and its ACS not proven) and what it answers to the SP with a
// status: unknown SP, a request unsigned, tampered or signed by another
// key when the application signs, an ACS not registered, a stale or
// misaddressed request, oversized input, another browser continuing the
// request, a user the application's access leaves out, a disabled
// application.
func TestSAMLIdPRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		b := e.browser()
		sp := startSP(t, b, f)
		app := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})
		sso := f.issuer + "/saml/idp/sso"
		fresh := func(edit func(*saml.AuthnRequest)) *saml.AuthnRequest {
			req, err := sp.sp.MakeAuthenticationRequest(sso, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
			if err != nil {
				t.Fatal(err)
			}
			if edit != nil {
				edit(req)
			}
			return req
		}

		wantPage(t, "no SAMLRequest", b.get(sso), http.StatusBadRequest)
		wantPage(t, "not base64", b.get(sso+"?SAMLRequest=%%%"), http.StatusBadRequest)
		wantPage(t, "not deflated", b.get(sso+"?SAMLRequest="+url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<x/>")))), http.StatusBadRequest)
		wantPage(t, "huge", b.post(sso, url.Values{"SAMLRequest": {strings.Repeat("A", 70<<10)}}), http.StatusRequestEntityTooLarge)
		wantPage(t, "not an AuthnRequest", b.post(sso, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte("<LogoutRequest/>"))}}), http.StatusBadRequest)
		// The application signs its requests: an unsigned one is refused.
		wantPage(t, "unsigned", b.get(rawRedirect(t, sso, fresh(nil))), http.StatusBadRequest)
		// A signed one whose query was changed after signing.
		start, _ := sp.redirectRequest(t, "rs", nil)
		wantPage(t, "tampered", b.get(strings.Replace(start, "RelayState=rs", "RelayState=rt", 1)), http.StatusBadRequest)
		// Signed by another SP's key, under this SP's entity ID.
		other := newTestSP(t, sp.sp.EntityID, sp.sp.AcsURL.String())
		other.sp.IDPMetadata = sp.sp.IDPMetadata
		req := fresh(nil)
		u, err := req.Redirect("", other.sp)
		if err != nil {
			t.Fatal(err)
		}
		wantPage(t, "another key", b.get(u.String()), http.StatusBadRequest)

		// The rest of the refusals with signatures not required.
		op.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/saml-apps/"+app["id"].(string), map[string]any{"require_signed_requests": false})
		wantPage(t, "unknown SP", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) { r.Issuer.Value = "https://unknown.example.com" }))), http.StatusBadRequest)
		wantPage(t, "ACS not registered", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) {
			r.AssertionConsumerServiceURL = "https://evil.example.com/acs"
		}))), http.StatusBadRequest)
		wantPage(t, "ACS index unknown", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) {
			r.AssertionConsumerServiceURL, r.AssertionConsumerServiceIndex = "", "9"
		}))), http.StatusBadRequest)
		wantPage(t, "stale", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) { r.IssueInstant = time.Now().Add(-time.Hour) }))), http.StatusBadRequest)
		wantPage(t, "other destination", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) { r.Destination = "https://other.example.com/sso" }))), http.StatusBadRequest)
		wantPage(t, "SAML 1", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) { r.Version = "1.1" }))), http.StatusBadRequest)
		wantPage(t, "artifact binding", b.get(rawRedirect(t, sso, fresh(func(r *saml.AuthnRequest) {
			r.ProtocolBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
		}))), http.StatusBadRequest)
		long := strings.Repeat("r", 2000)
		wantPage(t, "long RelayState", b.get(rawRedirect(t, sso, fresh(nil))+"&RelayState="+long), http.StatusBadRequest)

		// Another browser cannot continue this browser's request.
		p := b.get(rawRedirect(t, sso, fresh(nil)))
		if p.status != http.StatusSeeOther || !strings.Contains(p.location, "/saml/idp/continue?id=") {
			t.Fatalf("a valid request: %d %s", p.status, p.location)
		}
		wantPage(t, "another browser", e.browser().get(resolve(f.issuer, p.location)), http.StatusBadRequest)

		// Access by role: Ann holds none, and the SP hears RequestDenied.
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/roles", map[string]any{"name": "finance"})
		op.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/saml-apps/"+app["id"].(string), map[string]any{"access": "roles", "access_roles": []any{"finance"}})
		req = fresh(nil)
		sp.expect(req.ID)
		_, fields, _ := toACS(t, b, f, b.get(rawRedirect(t, sso, req)))
		if got := responseStatus(t, fields); got != saml.StatusResponder+" "+saml.StatusRequestDenied {
			t.Fatalf("a user without the role: %s", got)
		}
		if p := b.post(sp.srv.URL+"/acs", fields); p.status != http.StatusForbidden {
			t.Fatalf("the SP accepted a denial: %d %s", p.status, p.body)
		}
		// Given the role, she gets in.
		op.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/users/"+f.userID+"/roles", map[string]any{"role": "finance"})
		req = fresh(nil)
		sp.expect(req.ID)
		action, fields, _ := toACS(t, b, f, b.get(rawRedirect(t, sso, req)))
		sp.deliver(t, b, action, fields)

		// A disabled application answers RequestDenied.
		op.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/saml-apps/"+app["id"].(string), map[string]any{"enabled": false})
		_, fields, _ = toACS(t, b, f, b.get(rawRedirect(t, sso, fresh(nil))))
		if got := responseStatus(t, fields); got != saml.StatusResponder+" "+saml.StatusRequestDenied {
			t.Fatalf("a disabled application: %s", got)
		}
	})
}

// TestSAMLIdPCrossTenant checks that a tenant's IdP knows its own
// applications only: acme's SP at beta's SSO service is unknown, even
// signed; beta's own application with the same entity ID gets beta's
// assertion (beta's key, beta's user, a sign-in at beta); and a request
// stored at acme cannot be continued at beta.
func TestSAMLIdPCrossTenant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		acme, beta := e.fixture("acme"), e.fixture("beta")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		b := e.browser()
		sp := startSP(t, b, acme)
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})

		// Signed in at acme, the SP's request sent to beta's IdP.
		start, _ := sp.redirectRequest(t, "rs", nil)
		action, fields, _ := toACS(t, b, acme, b.get(start))
		sp.deliver(t, b, action, fields)
		start, _ = sp.redirectRequest(t, "rs", nil)
		atBeta := strings.Replace(start, acme.issuer, beta.issuer, 1)
		wantPage(t, "acme's SP at beta", b.get(atBeta), http.StatusBadRequest)

		// A request stored at acme, continued at beta.
		p := b.get(start)
		if p.status != http.StatusSeeOther {
			t.Fatalf("request at acme: %d", p.status)
		}
		wantPage(t, "acme's request at beta", b.get(beta.issuer+p.location), http.StatusBadRequest)

		// Beta registers the same SP: its IdP answers with beta's key, for
		// beta's user, after a sign-in at beta.
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/beta/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata,
			"require_signed_requests": false})
		req, err := sp.sp.MakeAuthenticationRequest(beta.issuer+"/saml/idp/sso", saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		sp.expect(req.ID)
		_, fields, logins := toACS(t, b, beta, b.get(rawRedirect(t, beta.issuer+"/saml/idp/sso", req)))
		if logins != 1 {
			t.Fatalf("acme's session signed in at beta (%d logins)", logins)
		}
		// The SP trusts acme's IdP: beta's assertion fails its checks.
		if p := b.post(sp.srv.URL+"/acs", fields); p.status != http.StatusForbidden {
			t.Fatalf("acme's SP accepted beta's assertion: %d %s", p.status, p.body)
		}
	})
}

func newDoc(req *saml.AuthnRequest) *etree.Document {
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	return doc
}
