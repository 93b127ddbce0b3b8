package e2e

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/admin"
)

var (
	frameSrc    = regexp.MustCompile(`<iframe class="logout-frame"[^>]* src="([^"]*)"`)
	frameSrcDoc = regexp.MustCompile(`<iframe class="logout-frame"[^>]* srcdoc="([^"]*)"`)
)

// withSLO gives the SP a single logout service at /slo, in its metadata
// with binding.
func (s *spServer) withSLO(t *testing.T, binding string) {
	t.Helper()
	u, _ := url.Parse(s.srv.URL + "/slo")
	s.sp.SloURL = *u
	s.sp.LogoutBindings = []string{binding}
	raw, err := xml.MarshalIndent(s.sp.Metadata(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	s.metadata = string(raw)
}

// signIn signs b in to the SP (a fresh request) and returns the NameID the
// SP accepted.
func (s *spServer) signIn(t *testing.T, b *browser, f *fixture) string {
	t.Helper()
	start, _ := s.redirectRequest(t, "", nil)
	action, fields, _ := toACS(t, b, f, b.get(start))
	return s.deliver(t, b, action, fields)["name_id"].(string)
}

// idpCert is the certificate of f's tenant's IdP metadata.
func idpCert(t *testing.T, s *spServer) *x509.Certificate {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(s.sp.IDPMetadata.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verifiedLogoutRequest checks an IdP-initiated LogoutRequest as an SP
// would: the XML signature with the IdP's certificate (and, for
// HTTP-Redirect, the query's), and returns it.
func verifiedLogoutRequest(t *testing.T, cert *x509.Certificate, raw []byte) *saml.LogoutRequest {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	signed, err := vc.Validate(doc.Root())
	if err != nil {
		t.Fatalf("the LogoutRequest's signature: %v", err)
	}
	d := etree.NewDocument()
	d.SetRoot(signed)
	b, _ := d.WriteToBytes()
	var req saml.LogoutRequest
	if err := xml.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

// TestSAMLIdPSingleLogout runs SAML Single Logout with crewjam/saml's SP:
// an SP-initiated LogoutRequest (signed, HTTP-Redirect and HTTP-POST) ends
// the Gatehouse session and gets a signed LogoutResponse the SP accepts,
// in the application's SLO binding; a replay, an unsigned request where
// the application requires signatures, an unknown issuer, another tenant's
// application and a tampered signature are refused; and signing out at
// Gatehouse sends the application a signed LogoutRequest in a frame of the
// signed-out page (HTTP-Redirect, then HTTP-POST) naming the NameID and
// session it was given.
func TestSAMLIdPSingleLogout(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		other := e.fixture("globex")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		b := e.browser()
		sp := startSP(t, b, f)
		sp.withSLO(t, saml.HTTPRedirectBinding)
		sloURL := sp.srv.URL + "/slo"
		var got []*http.Request
		sp.slo = func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			got = append(got, r)
			_, _ = io.WriteString(w, "ok")
		}
		app := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})
		if app["slo_url"] != sloURL || app["slo_binding"] != saml.HTTPRedirectBinding || app["slo_service_url"] != f.issuer+"/saml/idp/slo" {
			t.Fatalf("the app's SLO from metadata: %v", app)
		}
		// The IdP metadata names the SLO service: the SP sends there.
		p := b.get(f.issuer + "/saml/idp/metadata")
		var md saml.EntityDescriptor
		if err := xml.Unmarshal([]byte(p.body), &md); err != nil || len(md.IDPSSODescriptors[0].SingleLogoutServices) != 2 {
			t.Fatalf("IdP metadata SLO services: %v %s", err, p.body)
		}
		sp.sp.IDPMetadata = &md
		signedIn := func(b *browser) bool {
			p := b.get(f.issuer + "/account")
			return p.status == http.StatusOK
		}

		// SP-initiated, HTTP-Redirect (crewjam signs inside the XML).
		nameID := sp.signIn(t, b, f)
		if !signedIn(b) {
			t.Fatal("not signed in after SSO")
		}
		lu, err := sp.sp.MakeRedirectLogoutRequest(nameID, "rs-logout")
		if err != nil {
			t.Fatal(err)
		}
		p = b.get(lu.String())
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, sloURL+"?") {
			t.Fatalf("LogoutRequest: %d %s\n%s", p.status, p.location, p.body)
		}
		q := mustURL(p.location).Query()
		if err := sp.sp.ValidateLogoutResponseRedirect(q.Get("SAMLResponse")); err != nil {
			t.Fatalf("the SP refused the LogoutResponse: %v", err)
		}
		if q.Get("RelayState") != "rs-logout" || q.Get("SigAlg") != dsig.RSASHA256SignatureMethod || q.Get("Signature") == "" {
			t.Fatalf("LogoutResponse query %v", q)
		}
		signedPart := strings.Split(mustURL(p.location).RawQuery, "&Signature=")[0]
		sig, _ := base64.StdEncoding.DecodeString(q.Get("Signature"))
		sum := sha256.Sum256([]byte(signedPart))
		if err := rsa.VerifyPKCS1v15(idpCert(t, sp).PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("the LogoutResponse's query signature: %v", err)
		}
		if signedIn(b) {
			t.Fatal("the session outlived the SP's LogoutRequest")
		}
		// A replay of the same request: refused.
		if p := b.get(lu.String()); p.status != http.StatusBadRequest {
			t.Fatalf("replayed LogoutRequest: %d", p.status)
		}

		// SP-initiated, HTTP-POST, from another browser's point of view:
		// the POST carries no cookie, the session ends by its NameID.
		nameID = sp.signIn(t, b, f)
		req, err := sp.sp.MakeLogoutRequest(f.issuer+"/saml/idp/slo", nameID)
		if err != nil {
			t.Fatal(err)
		}
		post := func(target string, req *saml.LogoutRequest) *page {
			doc := etree.NewDocument()
			doc.SetRoot(req.Element())
			raw, _ := doc.WriteToBytes()
			return e.browser().post(target, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}})
		}
		if p := post(f.issuer+"/saml/idp/slo", req); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, sloURL+"?") {
			t.Fatalf("POSTed LogoutRequest: %d %s\n%s", p.status, p.location, p.body)
		}
		if signedIn(b) {
			t.Fatal("the session outlived the POSTed LogoutRequest")
		}

		// Refusals.
		nameID = sp.signIn(t, b, f)
		unsigned := *sp.sp
		unsigned.SignatureMethod = ""
		ureq, _ := unsigned.MakeLogoutRequest(f.issuer+"/saml/idp/slo", nameID)
		tampered, _ := sp.sp.MakeLogoutRequest(f.issuer+"/saml/idp/slo", nameID)
		tampered.NameID.Value = "someone-else@example.com"
		stranger := newTestSP(t, "https://stranger.example.com/metadata", "https://stranger.example.com/acs")
		stranger.sp.IDPMetadata = &md
		sreq, _ := stranger.sp.MakeLogoutRequest(f.issuer+"/saml/idp/slo", nameID)
		elsewhere, _ := sp.sp.MakeLogoutRequest(other.issuer+"/saml/idp/slo", nameID)
		for name, c := range map[string]struct {
			target string
			req    *saml.LogoutRequest
		}{
			"unsigned, the app requires signatures": {f.issuer + "/saml/idp/slo", ureq},
			"tampered after signing":                {f.issuer + "/saml/idp/slo", tampered},
			"unknown issuer":                        {f.issuer + "/saml/idp/slo", sreq},
			"another tenant's application":          {other.issuer + "/saml/idp/slo", elsewhere},
		} {
			if p := post(c.target, c.req); p.status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", name, p.status, p.location)
			}
		}
		if !signedIn(b) {
			t.Fatal("a refused LogoutRequest ended the session")
		}
		for _, bad := range []string{"", "SAMLRequest=%%%", "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<x/>"))), "SAMLResponse=abc"} {
			if p := b.get(f.issuer + "/saml/idp/slo?" + bad); p.status != http.StatusBadRequest {
				t.Errorf("GET /saml/idp/slo?%s: %d, want 400", bad, p.status)
			}
		}

		// IdP-initiated: the user signs out at Gatehouse.
		cert := idpCert(t, sp)
		p = b.get(f.issuer + "/logout")
		p = b.post(f.issuer+"/logout/confirm", url.Values{"csrf_token": {field(t, csrfField, p.body)}})
		m := frameSrc.FindStringSubmatch(p.body)
		if p.status != http.StatusOK || m == nil {
			t.Fatalf("signed-out page: %d, no logout frame:\n%s", p.status, p.body)
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src 'self' "+sp.srv.URL) || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("CSP %q does not let the page frame the SP (only)", csp)
		}
		fu := mustURL(html.UnescapeString(m[1]))
		if fu.Scheme+"://"+fu.Host+fu.Path != sloURL {
			t.Fatalf("frame to %s, want the SP's SLO URL", fu)
		}
		deflated, _ := base64.StdEncoding.DecodeString(fu.Query().Get("SAMLRequest"))
		raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
		if err != nil {
			t.Fatal(err)
		}
		lr := verifiedLogoutRequest(t, cert, raw)
		if lr.NameID == nil || lr.NameID.Value != nameID || lr.SessionIndex == nil || lr.SessionIndex.Value == "" || lr.Destination != sloURL ||
			lr.Issuer.Value != f.issuer+"/saml/idp/metadata" {
			t.Fatalf("IdP-initiated LogoutRequest %+v", lr)
		}
		if signedIn(b) {
			t.Fatal("still signed in after signing out")
		}
		// The frame loads; the SP's answer comes back to the SLO service.
		if p := b.get(fu.String()); p.status != http.StatusOK || len(got) != 1 {
			t.Fatalf("frame: %d, %d requests at the SP", p.status, len(got))
		}
		resp, _ := sp.sp.MakeRedirectLogoutResponse(lr.ID, "")
		if p := b.get(resp.String()); p.status != http.StatusOK {
			t.Fatalf("the SP's LogoutResponse: %d\n%s", p.status, p.body)
		}

		// With the HTTP-POST binding: the frame posts a form; the
		// LogoutResponse to an SP-initiated request is a form too.
		op.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/saml-apps/"+app["id"].(string), map[string]any{"slo_binding": "HTTP-POST"})
		nameID = sp.signIn(t, b, f)
		p = b.get(f.issuer + "/logout")
		p = b.post(f.issuer+"/logout/confirm", url.Values{"csrf_token": {field(t, csrfField, p.body)}})
		m = frameSrcDoc.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no posting logout frame:\n%s", p.body)
		}
		doc := html.UnescapeString(m[1])
		if a := formAction.FindStringSubmatch(doc); a == nil || html.UnescapeString(a[1]) != sloURL {
			t.Fatalf("frame document %s", doc)
		}
		in := hiddenInput.FindStringSubmatch(strings.Replace(doc, `">`, `"/>`, -1))
		if in == nil || in[1] != "SAMLRequest" {
			t.Fatalf("frame document %s", doc)
		}
		raw, _ = base64.StdEncoding.DecodeString(html.UnescapeString(in[2]))
		if lr := verifiedLogoutRequest(t, cert, raw); lr.NameID.Value != nameID {
			t.Fatalf("POST LogoutRequest %+v", lr)
		}
		nameID = sp.signIn(t, b, f)
		lu, _ = sp.sp.MakeRedirectLogoutRequest(nameID, "")
		p = b.get(lu.String())
		fields := url.Values{}
		for _, in := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
			fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		if a := formAction.FindStringSubmatch(p.body); p.status != http.StatusOK || a == nil || html.UnescapeString(a[1]) != sloURL {
			t.Fatalf("LogoutResponse by POST: %d\n%s", p.status, p.body)
		}
		if err := sp.sp.ValidateLogoutResponseForm(fields.Get("SAMLResponse")); err != nil {
			t.Fatalf("the SP refused the POSTed LogoutResponse: %v", err)
		}

		accepted, denied := 0, 0
		for _, ev := range op.items(t, "/tenants/acme/audit?limit=200") {
			switch ev["action"] {
			case "saml.logout_accepted":
				accepted++
			case "saml.logout_denied":
				denied++
			}
		}
		if accepted != 3 || denied < 2 {
			t.Fatalf("audit: %d logouts accepted, %d denied", accepted, denied)
		}
	})
}

// TestSAMLIdPUnsignedLogout: for an application that does not require
// signed requests, an unsigned LogoutRequest ends only the session of the
// browser that brings it: by redirect from the user's own browser it
// signs them out; posted from anywhere else (an attacker who knows the
// user's NameID, an email) it ends nothing, though it is answered.
func TestSAMLIdPUnsignedLogout(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		b := e.browser()
		sp := startSP(t, b, f)
		sp.withSLO(t, saml.HTTPRedirectBinding)
		sp.slo = func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
		app := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata})
		op.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/saml-apps/"+app["id"].(string), map[string]any{"require_signed_requests": false})
		p := b.get(f.issuer + "/saml/idp/metadata")
		var md saml.EntityDescriptor
		if err := xml.Unmarshal([]byte(p.body), &md); err != nil {
			t.Fatal(err)
		}
		sp.sp.IDPMetadata = &md
		unsigned := *sp.sp
		unsigned.SignatureMethod = ""
		nameID := sp.signIn(t, b, f)
		req, _ := unsigned.MakeLogoutRequest(f.issuer+"/saml/idp/slo", nameID)
		doc := etree.NewDocument()
		doc.SetRoot(req.Element())
		raw, _ := doc.WriteToBytes()
		if p := e.browser().post(f.issuer+"/saml/idp/slo", url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}}); p.status != http.StatusSeeOther {
			t.Fatalf("unsigned POST: %d\n%s", p.status, p.body)
		}
		if p := b.get(f.issuer + "/account"); p.status != http.StatusOK {
			t.Fatalf("an unsigned LogoutRequest from another browser ended the session: %d", p.status)
		}
		lu, _ := unsigned.MakeRedirectLogoutRequest(nameID, "")
		if p := b.get(lu.String()); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, sp.srv.URL+"/slo?") {
			t.Fatalf("unsigned redirect: %d %s", p.status, p.location)
		}
		if p := b.get(f.issuer + "/account"); p.status == http.StatusOK {
			t.Fatal("the user's own unsigned LogoutRequest did not sign them out")
		}
	})
}
