package e2e

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// samlUser is the account at the test IdP; corp.test is the domain the
// connection claims.
var samlUser = samltest.User{Name: "sam", Password: "sam's IdP password", Email: "sam@corp.test", CommonName: "Sam Jones",
	GivenName: "Sam", Surname: "Jones", Groups: []string{"staff"}}

// samlEnv is a tenant of a running node with a SAML connection to an
// in-process samlidp.
type samlEnv struct {
	e     *env
	f     *fixture
	idp   *samltest.IdP
	conn  *admin.Connection
	spKey *rsa.PrivateKey
}

// newSAMLEnv makes tenant slug and its connection "Corp SSO" to a new
// samlidp, which knows our service provider by the metadata served at the
// connection's metadata URL.
func newSAMLEnv(t *testing.T, e *env, slug string) *samlEnv {
	t.Helper()
	s := &samlEnv{e: e, f: e.fixture(slug), idp: samltest.NewIdP(t)}
	s.idp.AddUser(t, samlUser)
	// A company's own IdP: it creates users, and its addresses are
	// trusted (a user it provisions gets the address).
	md, name, trust := string(s.idp.Metadata()), "Corp SSO", true
	conn, err := e.srv.Admin().CreateConnection(s.f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Provisioning: provisionCreate(), Name: &name,
		MetadataXML: &md, Domains: []string{"corp.test"}, TrustEmail: &trust,
		Attributes: map[string]string{"groups": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	s.register(t, conn)
	c, err := e.store.ConnectionByID(s.tctx(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.srv.Federation().Settings(s.f.tenant, c)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(st.SPKey)
	if err != nil {
		t.Fatal(err)
	}
	s.spKey = k.(*rsa.PrivateKey)
	return s
}

// register gives the IdP the service provider metadata of conn, fetched
// from its stable URL the way an IdP admin would.
func (s *samlEnv) register(t *testing.T, conn *admin.Connection) {
	t.Helper()
	if conn.MetadataURL != s.f.issuer+"/federation/"+conn.ID+"/saml/metadata" || conn.EntityID != s.f.issuer+"/federation/"+conn.ID+"/saml" {
		t.Fatalf("connection URLs: metadata %s, entity %s", conn.MetadataURL, conn.EntityID)
	}
	p := s.browser(t).get(conn.MetadataURL)
	if p.status != http.StatusOK || p.header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("metadata: %d %s", p.status, p.header.Get("Content-Type"))
	}
	for _, want := range []string{`entityID="` + conn.EntityID + `"`, `Location="` + conn.ACSURL + `"`, `AuthnRequestsSigned="true"`} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("metadata lacks %s:\n%s", want, p.body)
		}
	}
	s.idp.AddServiceProvider(t, conn.ID, []byte(p.body))
}

func (s *samlEnv) tctx() context.Context { return tenants.WithTenant(context.Background(), s.f.tenant) }

// browser is a cookie-keeping client that reaches the IdPs at their own
// addresses (127.0.0.1) and Gatehouse for every host name.
func (s *samlEnv) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, _ := net.SplitHostPort(addr); host == "127.0.0.1" {
				return d.DialContext(ctx, network, addr)
			}
			return s.e.dialer(ctx, network, addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{t: t, client: c}
}

// samlFlow is one authorization request of the fixture's web client that
// signs in through the SAML connection.
type samlFlow struct {
	s                      *samlEnv
	b                      *browser
	cfg                    *oauth2.Config
	verifier, state, nonce string
	requestID, csrf        string
	relayState, authnReqID string
	toIdP                  string
	form                   *samltest.Form
	conn                   *admin.Connection
	user                   samltest.User
}

// begin opens the login page of a new authorization request in b.
func (s *samlEnv) begin(b *browser) *samlFlow {
	t := b.t
	t.Helper()
	fl := &samlFlow{s: s, b: b, cfg: s.f.oauth2Config(s.f.web, "openid", "email", "profile"), verifier: oauth2.GenerateVerifier(),
		state: secret.Token(8), nonce: secret.Token(8), conn: s.conn, user: samlUser}
	p := b.get(fl.cfg.AuthCodeURL(fl.state, oauth2.S256ChallengeOption(fl.verifier), oauth2.SetAuthURLParam("nonce", fl.nonce)))
	if p.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", p.status, p.body)
	}
	p = b.get(resolve(s.f.issuer, p.location))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Continue with Corp SSO") {
		t.Fatalf("login page has no Corp SSO button: %d\n%s", p.status, p.body)
	}
	fl.requestID, fl.csrf = field(t, idField, p.body), field(t, csrfField, p.body)
	return fl
}

// upstream presses "Continue with <conn>" and returns the redirect to the
// IdP (with the signed AuthnRequest).
func (fl *samlFlow) upstream() string {
	t := fl.b.t
	t.Helper()
	p := fl.b.post(fl.s.f.issuer+"/login/federated", url.Values{"id": {fl.requestID}, "csrf_token": {fl.csrf}, "connection": {fl.conn.ID}})
	return fl.atIdP(p)
}

// discover types the user's email address into the login form: its domain
// is the connection's, so the browser goes to the IdP (home-realm
// discovery).
func (fl *samlFlow) discover(email string) string {
	fl.b.t.Helper()
	p := fl.b.post(fl.s.f.issuer+"/login", url.Values{"id": {fl.requestID}, "csrf_token": {fl.csrf}, "email": {email}, "password": {""}})
	return fl.atIdP(p)
}

func (fl *samlFlow) atIdP(p *page) string {
	t := fl.b.t
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, fl.s.idp.URL+"/sso?") {
		t.Fatalf("want a redirect to the IdP, got %d %s\n%s", p.status, p.location, p.body)
	}
	u, _ := url.Parse(p.location)
	fl.toIdP, fl.relayState = p.location, u.Query().Get("RelayState")
	fl.authnReqID = authnRequestID(t, u)
	return p.location
}

// authnRequestID reads the ID of the AuthnRequest in a redirect.
func authnRequestID(t testing.TB, u *url.URL) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return doc.Root().SelectAttrValue("ID", "")
}

// authenticate goes to the IdP, logs in there when asked, and keeps the
// IdP's response form.
func (fl *samlFlow) authenticate() *samltest.Form {
	t := fl.b.t
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fl.toIdP, nil)
	form, err := fl.s.idp.Authenticate(fl.b.client, req, fl.user.Name, fl.user.Password)
	if err != nil {
		t.Fatal(err)
	}
	if form.Action != fl.conn.ACSURL || form.Fields.Get("RelayState") != fl.relayState {
		t.Fatalf("the IdP posts to %s with RelayState %q", form.Action, form.Fields.Get("RelayState"))
	}
	fl.form = form
	return form
}

// post sends samlResponse to the ACS (as the IdP's auto-posted form does)
// with relayState.
func (fl *samlFlow) post(b *browser, samlResponse, relayState string) *page {
	b.t.Helper()
	return b.post(fl.conn.ACSURL, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relayState}})
}

// response is the IdP's answer of fl, decrypted with the service
// provider's key (the response's own signature then no longer holds and
// is removed).
func (fl *samlFlow) response() *samltest.Response {
	t := fl.b.t
	t.Helper()
	r, err := samltest.ParseResponse(fl.form.Fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Encrypted() {
		t.Fatal("the IdP did not encrypt the assertion")
	}
	if err := r.Decrypt(fl.s.spKey); err != nil {
		t.Fatal(err)
	}
	r.RemoveResponseSignature()
	return r
}

// samlClaims are the ID token claims of a federated login.
type samlClaims struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	AMR     []string `json:"amr"`
	IDP     string   `json:"idp"`
	Nonce   string   `json:"nonce"`
}

// complete follows the ACS's answer p through continue and consent to the
// client's redirect, redeems the code and returns the ID token's claims.
func (fl *samlFlow) complete(p *page) samlClaims {
	t := fl.b.t
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/federation/"+fl.conn.ID+"/continue?token=") {
		t.Fatalf("ACS answered %d %s:\n%s", p.status, p.location, p.body)
	}
	for range 6 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			loc := resolve(fl.s.f.issuer, p.location)
			if strings.HasPrefix(loc, redirectURI) {
				return fl.redeem(loc)
			}
			p = fl.b.get(loc)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			p = fl.b.post(fl.s.f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return samlClaims{}
}

func (fl *samlFlow) redeem(loc string) samlClaims {
	t := fl.b.t
	t.Helper()
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("error") != "" || q.Get("state") != fl.state {
		t.Fatalf("client callback %v", q)
	}
	tok, err := fl.cfg.Exchange(fl.s.f.e.ctx(), q.Get("code"), oauth2.VerifierOption(fl.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := fl.s.f.idTokenVerifier().Verify(fl.s.f.e.ctx(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c samlClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Nonce != fl.nonce {
		t.Fatalf("nonce %q, want %q", c.Nonce, fl.nonce)
	}
	return c
}

// login runs a whole SP-initiated login in a new browser.
func (s *samlEnv) login(t *testing.T) (samlClaims, *samlFlow) {
	fl := s.begin(s.browser(t))
	fl.upstream()
	form := fl.authenticate()
	return fl.complete(fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))), fl
}

// rejected counts the tenant's federation.rejected events with reason.
func (s *samlEnv) rejected(t *testing.T, f *fixture, reason string) int {
	t.Helper()
	evs, err := s.e.store.ListAudit(tenants.WithTenant(context.Background(), f.tenant), tenants.AuditFilter{Action: "federation.rejected", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Reason == reason && ev.Outcome == "failure" {
			n++
		}
	}
	return n
}

// wantRejected runs do and checks that it is refused with a 400 page
// giving reason, one more federation.rejected event for it in f's audit
// log, and no session cookie.
func (s *samlEnv) wantRejected(t *testing.T, f *fixture, reason string, do func() *page) *page {
	t.Helper()
	before := s.rejected(t, f, reason)
	p := do()
	if p.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(p.body), reason) {
		t.Fatalf("want a 400 page saying %q, got %d:\n%s", reason, p.status, p.body)
	}
	noSession(t, p)
	if after := s.rejected(t, f, reason); after != before+1 {
		t.Fatalf("%d federation.rejected events with reason %q, want %d", after, reason, before+1)
	}
	return p
}

func noSession(t *testing.T, p *page) {
	t.Helper()
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gh_session=") && !strings.HasPrefix(c, "gh_session=;") {
			t.Fatalf("a session cookie was set: %s", c)
		}
	}
}

// TestFederationSAMLLogin signs in through a SAML IdP: the login button,
// the signed AuthnRequest, the IdP's login, its POST to the ACS, the
// browser check at continue, consent, code, tokens; the first login
// provisions the user just in time, the next ones find the identity; an
// address of the connection's domain goes straight to the IdP; and a
// connection made from the IdP's metadata URL works the same.
func TestFederationSAMLLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		s := newSAMLEnv(t, e, "acme")

		first, fl := s.login(t)
		if !slices.Equal(first.AMR, []string{"fed"}) || first.IDP != "Corp SSO" || first.Email != samlUser.Email || first.Name != samlUser.CommonName {
			t.Fatalf("ID token claims %+v", first)
		}
		u, err := e.store.UserByEmail(s.tctx(), samlUser.Email)
		if err != nil {
			t.Fatalf("no user provisioned: %v", err)
		}
		if u.ID != first.Subject {
			t.Fatalf("ID token sub %s, provisioned user %s", first.Subject, u.ID)
		}
		xs, err := e.store.ListExternalIdentities(s.tctx(), u.ID)
		if err != nil || len(xs) != 1 || xs[0].Issuer != s.idp.EntityID() || xs[0].Subject != "u-"+samlUser.Name {
			t.Fatalf("linked identities %+v (%v)", xs, err)
		}

		// The answer again, after it was used: the state is spent.
		s.wantRejected(t, s.f, "unknown, used or expired state", func() *page {
			return fl.post(fl.b, fl.form.Fields.Get("SAMLResponse"), fl.form.Fields.Get("RelayState"))
		})

		// Again in another browser: the same user.
		again, _ := s.login(t)
		if again.Subject != first.Subject {
			t.Fatalf("second login is user %s, first %s", again.Subject, first.Subject)
		}

		// Home-realm discovery: the address's domain is the connection's.
		fl = s.begin(s.browser(t))
		fl.discover("Sam@Corp.test")
		form := fl.authenticate()
		if c := fl.complete(fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))); c.Subject != first.Subject {
			t.Fatalf("home-realm discovery login is user %s", c.Subject)
		}

		// A connection from the IdP's metadata URL (another user: sam's
		// identity there would be another connection's, to link first).
		kim := samltest.User{Name: "kim", Password: "kim's IdP password", Email: "kim@partner.test", CommonName: "Kim Lee"}
		s.idp.AddUser(t, kim)
		name, mdURL, trust := "Corp SSO by URL", samlMetadataURL(s.idp), true
		byURL, err := e.srv.Admin().CreateConnection(s.f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Provisioning: provisionCreate(), Name: &name,
			MetadataURL: &mdURL, TrustEmail: &trust})
		if err != nil {
			t.Fatal(err)
		}
		if byURL.IdPMetadataURL != mdURL {
			t.Fatalf("IdP metadata URL %q", byURL.IdPMetadataURL)
		}
		s.register(t, byURL)
		fl = s.begin(s.browser(t))
		fl.conn, fl.user = byURL, kim
		fl.upstream()
		form = fl.authenticate()
		c := fl.complete(fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState")))
		if c.IDP != name || c.Email != kim.Email || c.Subject == first.Subject {
			t.Fatalf("login by the URL connection: %+v", c)
		}
	})
}

// TestFederationSAMLRejections sends the ACS what it must refuse: answers
// of the real IdP tampered with (tampered assertions signed again with the
// IdP's key, so that what is refused is the change), replays, answers in
// the wrong place or browser. Each is a clear 400 page, a federation.rejected
// audit event with its reason, and no session.
func TestFederationSAMLRejections(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		s := newSAMLEnv(t, e, "acme")
		signer := s.idp.Signer
		other := samltest.NewIdP(t) // a second IdP, with its own key
		other.AddUser(t, samlUser)
		other.AddServiceProvider(t, "gatehouse", []byte(s.browser(t).get(s.conn.MetadataURL).body))

		resign := func(edit func(a *saml.Assertion)) func(*testing.T, *samlFlow, *samltest.Response) {
			return func(t *testing.T, _ *samlFlow, r *samltest.Response) {
				a, err := r.Assertion()
				if err != nil {
					t.Fatal(err)
				}
				edit(a)
				if err := r.SetAssertion(a, signer); err != nil {
					t.Fatal(err)
				}
			}
		}
		forge := func(orig *etree.Element) *etree.Element {
			f := orig.Copy()
			f.CreateAttr("ID", "id-forged")
			for _, sig := range f.SelectElements("Signature") {
				f.RemoveChild(sig)
			}
			f.FindElement(".//NameID").SetText("u-admin")
			return f
		}
		past := time.Now().Add(-time.Hour)
		cases := []struct {
			name   string
			tamper func(*testing.T, *samlFlow, *samltest.Response)
			reason string
		}{
			{"unsigned response and assertion", func(_ *testing.T, _ *samlFlow, r *samltest.Response) { r.RemoveAssertionSignature() },
				"neither the response nor its assertion is signed"},
			{"signed by another IdP's key", func(t *testing.T, _ *samlFlow, r *samltest.Response) {
				a, _ := r.Assertion()
				if err := r.SetAssertion(a, other.Signer); err != nil {
					t.Fatal(err)
				}
			}, "the signature is not valid for the IdP's certificate"},
			{"XSW: forged assertion, signed original wrapped in Extensions", func(_ *testing.T, _ *samlFlow, r *samltest.Response) {
				orig := r.AssertionElement()
				ext := etree.NewElement("samlp:Extensions")
				r.Root().InsertChildAt(orig.Index(), ext)
				r.Root().RemoveChild(orig)
				ext.AddChild(orig)
				r.Root().AddChild(forge(orig))
			}, "the SAML response must hold exactly one Response and one assertion (signature wrapping)"},
			{"XSW: signature moved to the forged assertion", func(_ *testing.T, _ *samlFlow, r *samltest.Response) {
				orig := r.AssertionElement()
				forged := forge(orig)
				forged.CreateAttr("ID", orig.SelectAttrValue("ID", ""))
				sig := orig.SelectElement("Signature")
				orig.RemoveChild(sig)
				sig.CreateElement("ds:Object").AddChild(orig)
				forged.AddChild(sig)
				r.Root().RemoveChild(orig)
				r.Root().AddChild(forged)
			}, "the SAML response must hold exactly one Response and one assertion (signature wrapping)"},
			{"two assertions (CVE-2022-41912)", func(_ *testing.T, _ *samlFlow, r *samltest.Response) {
				orig := r.AssertionElement()
				r.Root().InsertChildAt(orig.Index(), forge(orig))
			}, "the SAML response must hold exactly one Response and one assertion (signature wrapping)"},
			{"wrong Audience", resign(func(a *saml.Assertion) {
				a.Conditions.AudienceRestrictions[0].Audience.Value = "https://another.example/sp"
			}), "the assertion's Audience is not this service provider"},
			{"wrong Recipient", resign(func(a *saml.Assertion) {
				a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://another.example/acs"
			}), "the assertion's Recipient is not this connection's ACS URL"},
			{"wrong Destination", func(t *testing.T, _ *samlFlow, r *samltest.Response) {
				r.Root().CreateAttr("Destination", "https://another.example/acs")
				if err := r.SignResponse(signer); err != nil {
					t.Fatal(err)
				}
			}, "the response's Destination is not this connection's ACS URL"},
			{"expired", resign(func(a *saml.Assertion) {
				a.IssueInstant, a.Conditions.NotBefore, a.Conditions.NotOnOrAfter = past, past, past.Add(90*time.Second)
				a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past.Add(90 * time.Second)
			}), "the response or its assertion has expired"},
			{"unknown InResponseTo", func(t *testing.T, _ *samlFlow, r *samltest.Response) {
				r.Root().CreateAttr("InResponseTo", "id-of-a-request-never-made")
				if err := r.SignResponse(signer); err != nil {
					t.Fatal(err)
				}
			}, "the response answers another request (InResponseTo is not this login's)"},
			{"IdP-initiated shape (no InResponseTo)", func(t *testing.T, fl *samlFlow, r *samltest.Response) {
				resign(func(a *saml.Assertion) { a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo = "" })(t, fl, r)
				r.Root().RemoveAttr("InResponseTo")
			}, "an IdP-initiated response (no InResponseTo), and IdP-initiated login is off for this connection"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				fl := s.begin(s.browser(t))
				fl.upstream()
				fl.authenticate()
				r := fl.response()
				tc.tamper(t, fl, r)
				s.wantRejected(t, s.f, tc.reason, func() *page { return fl.post(fl.b, r.Encode(), fl.relayState) })
			})
		}

		t.Run("an answer of another IdP", func(t *testing.T) {
			fl := s.begin(s.browser(t))
			fl.upstream()
			// The same AuthnRequest, sent to the other IdP instead.
			u, _ := url.Parse(fl.toIdP)
			raw, _ := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
			xmlReq, _ := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
			xmlReq = bytes.ReplaceAll(xmlReq, []byte(s.idp.URL+"/sso"), []byte(other.URL+"/sso"))
			req, _ := http.NewRequest(http.MethodPost, other.URL+"/sso", strings.NewReader(url.Values{
				"SAMLRequest": {base64.StdEncoding.EncodeToString(xmlReq)}, "RelayState": {fl.relayState}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			form, err := other.Authenticate(fl.b.client, req, samlUser.Name, samlUser.Password)
			if err != nil {
				t.Fatal(err)
			}
			s.wantRejected(t, s.f, "the response comes from another issuer than the configured IdP", func() *page {
				return fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))
			})
		})

		t.Run("the same response under a new state", func(t *testing.T) {
			_, done := s.login(t)
			fl := s.begin(s.browser(t))
			fl.upstream()
			s.wantRejected(t, s.f, "the response answers another request (InResponseTo is not this login's)", func() *page {
				return fl.post(fl.b, done.form.Fields.Get("SAMLResponse"), fl.relayState)
			})
		})

		t.Run("a used assertion answering a new request", func(t *testing.T) {
			_, done := s.login(t)
			fl := s.begin(s.browser(t))
			fl.upstream()
			// The spent assertion, made to answer the new AuthnRequest and
			// signed again: only the replay cache can tell.
			r := done.response()
			a, err := r.Assertion()
			if err != nil {
				t.Fatal(err)
			}
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo = fl.authnReqID
			if err := r.SetAssertion(a, signer); err != nil {
				t.Fatal(err)
			}
			r.Root().CreateAttr("InResponseTo", fl.authnReqID)
			s.wantRejected(t, s.f, "the assertion was already used (replay)", func() *page {
				return fl.post(fl.b, r.Encode(), fl.relayState)
			})
		})

		t.Run("IdP-initiated while off", func(t *testing.T) {
			fl := s.begin(s.browser(t))
			fl.upstream()
			if err := s.idp.Login(fl.b.client, samlUser.Name, samlUser.Password); err != nil {
				t.Fatal(err)
			}
			// The unsolicited answer even carries a live state of ours.
			s.idp.AddShortcut(t, "gatehouse", fl.conn.EntityID, fl.relayState)
			form, err := s.idp.InitiatedResponse(fl.b.client, "gatehouse")
			if err != nil {
				t.Fatal(err)
			}
			s.wantRejected(t, s.f, "an IdP-initiated response (no InResponseTo), and IdP-initiated login is off for this connection", func() *page {
				return fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))
			})
		})

		t.Run("oversized", func(t *testing.T) {
			fl := s.begin(s.browser(t))
			fl.upstream()
			// Over the server's 64 KiB body cap: refused before any handler.
			p := fl.post(fl.b, strings.Repeat("A", 70<<10), fl.relayState)
			if p.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("a %d KiB body: %d", 70, p.status)
			}
			noSession(t, p)
			// Under the body cap, over the response cap.
			big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("a"), 42<<10))
			s.wantRejected(t, s.f, "the SAML response is too large", func() *page { return fl.post(fl.b, big, fl.relayState) })
		})

		t.Run("on another tenant's host", func(t *testing.T) {
			globex := e.fixture("globex")
			fl := s.begin(s.browser(t))
			fl.upstream()
			form := fl.authenticate()
			acs := strings.Replace(fl.conn.ACSURL, s.f.issuer, globex.issuer, 1)
			before := s.rejected(t, globex, "unknown connection")
			p := fl.b.post(acs, url.Values{"SAMLResponse": {form.Fields.Get("SAMLResponse")}, "RelayState": {form.Fields.Get("RelayState")}})
			if p.status != http.StatusNotFound || !strings.Contains(p.body, "Sign-in option not available") {
				t.Fatalf("ACS on another tenant's host: %d\n%s", p.status, p.body)
			}
			noSession(t, p)
			if after := s.rejected(t, globex, "unknown connection"); after != before+1 {
				t.Fatalf("%d audit events in the other tenant, want %d", after, before+1)
			}
			// Nothing was spent: the answer still works where it belongs.
			if c := fl.complete(fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))); c.Email != samlUser.Email {
				t.Fatalf("claims %+v", c)
			}
		})

		t.Run("state of another connection", func(t *testing.T) {
			name, md := "Other SSO", string(s.idp.Metadata())
			otherConn, err := e.srv.Admin().CreateConnection(s.f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Provisioning: provisionCreate(), Name: &name, MetadataXML: &md})
			if err != nil {
				t.Fatal(err)
			}
			fl := s.begin(s.browser(t))
			fl.upstream()
			form := fl.authenticate()
			s.wantRejected(t, s.f, "state of another connection", func() *page {
				return fl.b.post(otherConn.ACSURL, url.Values{"SAMLResponse": {form.Fields.Get("SAMLResponse")}, "RelayState": {form.Fields.Get("RelayState")}})
			})
		})

		t.Run("expired state", func(t *testing.T) {
			fl := s.begin(s.browser(t))
			fl.upstream()
			form := fl.authenticate()
			db, err := e.store.SQLDB()
			if err != nil {
				t.Fatal(err)
			}
			q := "UPDATE federation_states SET expires_at = created_at WHERE id = ?"
			if e.store.Dialect() == tenants.DialectPostgres {
				q = strings.Replace(q, "?", "$1", 1)
			}
			if res, err := db.Exec(q, secret.Hash(fl.relayState)); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%d states updated", n)
			}
			s.wantRejected(t, s.f, "unknown, used or expired state", func() *page {
				return fl.post(fl.b, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))
			})
		})

		t.Run("RelayState of another browser", func(t *testing.T) {
			fl := s.begin(s.browser(t))
			fl.upstream()
			form := fl.authenticate()
			// Another browser posts the answer (the ACS cannot tell: the
			// IdP's cross-site POST carries no cookies) and follows it.
			mallory := s.browser(t)
			p := fl.post(mallory, form.Fields.Get("SAMLResponse"), form.Fields.Get("RelayState"))
			if p.status != http.StatusSeeOther {
				t.Fatalf("ACS: %d\n%s", p.status, p.body)
			}
			noSession(t, p)
			s.wantRejected(t, s.f, "the login was started in another browser", func() *page {
				return mallory.get(resolve(s.f.issuer, p.location))
			})
		})
	})
}
