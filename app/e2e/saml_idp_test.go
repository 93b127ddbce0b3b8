package e2e

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
)

// spServer is a service provider on real HTTP: crewjam/saml's
// ServiceProvider behind an ACS that answers what it accepted, as JSON.
type spServer struct {
	*testSP
	srv *httptest.Server
	mu  sync.Mutex
	ids []string // the request ids it waits for answers to
	// slo, when set, serves the SP's single logout service (/slo).
	slo http.HandlerFunc
}

// startSP starts an SP at 127.0.0.1 whose metadata names its ACS there;
// it trusts the IdP metadata of f's tenant.
func startSP(t *testing.T, b *browser, f *fixture) *spServer {
	t.Helper()
	s := &spServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slo" && s.slo != nil {
			s.slo(w, r)
			return
		}
		s.mu.Lock()
		ids := append([]string(nil), s.ids...)
		s.mu.Unlock()
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a, err := s.sp.ParseResponse(r, ids)
		if err != nil {
			var ie *saml.InvalidResponseError
			msg := err.Error()
			if ok := asInvalid(err, &ie); ok {
				msg = ie.PrivateErr.Error()
			}
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		out := map[string]any{"name_id": a.Subject.NameID.Value, "format": a.Subject.NameID.Format, "relay_state": r.PostForm.Get("RelayState"),
			"in_response_to": a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo}
		attrs := map[string][]string{}
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				for _, v := range at.Values {
					attrs[at.Name] = append(attrs[at.Name], v.Value)
				}
			}
		}
		out["attributes"] = attrs
		if len(a.AuthnStatements) == 1 && a.AuthnStatements[0].AuthnContext.AuthnContextClassRef != nil {
			out["authn_class"] = a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(s.srv.Close)
	s.testSP = newTestSP(t, s.srv.URL+"/metadata", s.srv.URL+"/acs")
	p := b.get(f.issuer + "/saml/idp/metadata")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "application/samlmetadata+xml") {
		t.Fatalf("IdP metadata: %d %s", p.status, p.header.Get("Content-Type"))
	}
	var md saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(p.body), &md); err != nil {
		t.Fatalf("IdP metadata: %v", err)
	}
	if md.EntityID != f.issuer+"/saml/idp/metadata" || len(md.IDPSSODescriptors) != 1 || len(md.IDPSSODescriptors[0].KeyDescriptors) != 1 {
		t.Fatalf("IdP metadata: %s", p.body)
	}
	s.sp.IDPMetadata = &md
	return s
}

func asInvalid(err error, target **saml.InvalidResponseError) bool {
	ie, ok := err.(*saml.InvalidResponseError)
	if ok {
		*target = ie
	}
	return ok
}

// redirectRequest makes a signed HTTP-Redirect AuthnRequest; edit changes
// it before it is encoded.
func (s *spServer) redirectRequest(t *testing.T, relayState string, edit func(*saml.AuthnRequest)) (string, string) {
	t.Helper()
	req, err := s.sp.MakeAuthenticationRequest(s.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	u, err := req.Redirect(relayState, s.sp)
	if err != nil {
		t.Fatal(err)
	}
	s.expect(req.ID)
	return u.String(), req.ID
}

// postRequest makes a signed HTTP-POST AuthnRequest: the SAMLRequest form
// value.
func (s *spServer) postRequest(t *testing.T) (string, string) {
	t.Helper()
	req, err := s.sp.MakeAuthenticationRequest(s.sp.GetSSOBindingLocation(saml.HTTPPostBinding), saml.HTTPPostBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	s.expect(req.ID)
	return base64.StdEncoding.EncodeToString(b), req.ID
}

func (s *spServer) expect(id string) {
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// toACS walks the browser from p through the sign-in pages (signing in as
// f's user when asked) to the page that posts to an ACS, and returns its
// action and fields.
func toACS(t *testing.T, b *browser, f *fixture, p *page) (string, url.Values, int) {
	t.Helper()
	logins := 0
	for range 8 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			p = b.get(resolve(f.issuer, p.location))
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			logins++
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password}})
		case p.status == http.StatusOK && strings.Contains(p.body, "SAMLResponse"):
			m := formAction.FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("no form in %s", p.body)
			}
			fields := url.Values{}
			for _, in := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
				fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
			}
			return html.UnescapeString(m[1]), fields, logins
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return "", nil, 0
}

// deliver posts the response to the ACS, as the page would, and returns
// what the SP accepted (or fails with what it refused).
func (s *spServer) deliver(t *testing.T, b *browser, action string, fields url.Values) map[string]any {
	t.Helper()
	if action != s.srv.URL+"/acs" {
		t.Fatalf("response posts to %s, want the SP's ACS %s", action, s.srv.URL+"/acs")
	}
	p := b.post(action, fields)
	if p.status != http.StatusOK {
		t.Fatalf("the SP refused the response: %d %s", p.status, p.body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(p.body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// responseStatus decodes the status code of a posted SAMLResponse.
func responseStatus(t *testing.T, fields url.Values) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	var r saml.Response
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	v := r.Status.StatusCode.Value
	if r.Status.StatusCode.StatusCode != nil {
		v += " " + r.Status.StatusCode.StatusCode.Value
	}
	return v
}

// TestSAMLIdPSignIn signs a user in to crewjam/saml's service provider
// through Gatehouse as the IdP, over real HTTP: a signed HTTP-Redirect
// request, sign-in with a password, an assertion the SP accepts (signature,
// audience, destination, InResponseTo, validity window); then the session
// answers a second request with no page, the HTTP-POST binding works,
// ForceAuthn asks for the password again and IsPassive without a session
// answers NoPassive. Each assertion issued is audited.
func TestSAMLIdPSignIn(t *testing.T) {
	forEachDBWithClock(t, func(t *testing.T, e *env, clk *testClock) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		b := e.browser()
		sp := startSP(t, b, f)
		app := op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "Expenses", "metadata_xml": sp.metadata,
			"attributes": []any{map[string]any{"name": "mail", "source": "email"}, map[string]any{"name": "displayName", "source": "name"}}})
		if app["require_signed_requests"] != true {
			t.Fatalf("the SP signs its requests: %v", app)
		}

		start, id := sp.redirectRequest(t, "rs-1", nil)
		action, fields, logins := toACS(t, b, f, b.get(start))
		if logins != 1 || fields.Get("RelayState") != "rs-1" {
			t.Fatalf("first sign-in: %d logins, RelayState %q", logins, fields.Get("RelayState"))
		}
		got := sp.deliver(t, b, action, fields)
		attrs := got["attributes"].(map[string]any)
		if got["name_id"] != f.email || got["format"] != string(saml.EmailAddressNameIDFormat) || got["in_response_to"] != id ||
			len(attrs["mail"].([]any)) != 1 || attrs["mail"].([]any)[0] != f.email || attrs["displayName"].([]any)[0] != "Ann Example" {
			t.Fatalf("the SP accepted %v", got)
		}

		// Signed in: the next request needs no page.
		start, _ = sp.redirectRequest(t, "rs-2", nil)
		action, fields, logins = toACS(t, b, f, b.get(start))
		if logins != 0 {
			t.Fatalf("a second request with a session asked for the password")
		}
		sp.deliver(t, b, action, fields)

		// HTTP-POST binding, signed inside the XML.
		samlRequest, _ := sp.postRequest(t)
		action, fields, _ = toACS(t, b, f, b.post(f.issuer+"/saml/idp/sso", url.Values{"SAMLRequest": {samlRequest}, "RelayState": {"rs-3"}}))
		if got := sp.deliver(t, b, action, fields); got["relay_state"] != "rs-3" {
			t.Fatalf("POST binding: %v", got)
		}

		// ForceAuthn: the password again, though a session exists (signed
		// in a while ago: sessions know their sign-in to the second).
		clk.Advance(2 * time.Second)
		yes := true
		start, _ = sp.redirectRequest(t, "rs-4", func(r *saml.AuthnRequest) { r.ForceAuthn = &yes })
		action, fields, logins = toACS(t, b, f, b.get(start))
		if logins != 1 {
			t.Fatalf("ForceAuthn: %d logins, want 1", logins)
		}
		sp.deliver(t, b, action, fields)

		// IsPassive in a browser without a session: NoPassive, no page.
		fresh := e.browser()
		start, _ = sp.redirectRequest(t, "rs-5", func(r *saml.AuthnRequest) { r.IsPassive = &yes })
		_, fields, logins = toACS(t, fresh, f, fresh.get(start))
		if logins != 0 || responseStatus(t, fields) != saml.StatusResponder+" "+saml.StatusNoPassive {
			t.Fatalf("IsPassive without a session: %d logins, status %q", logins, responseStatus(t, fields))
		}

		issued := 0
		for _, ev := range op.items(t, "/tenants/acme/audit?action=saml.assertion_issued&limit=50") {
			if ev["target_id"] != app["id"] || ev["actor_id"] != f.userID || ev["outcome"] != "success" {
				t.Fatalf("audit event %v", ev)
			}
			issued++
		}
		if issued != 4 {
			t.Fatalf("%d assertions audited, want 4", issued)
		}
	})
}
