package saml

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// harness is one tenant with a SAML connection to a samlidp.
type harness struct {
	t      *testing.T
	ctx    context.Context
	store  *tenants.Store
	svc    *federation.Service
	tenant *tenants.Tenant
	idp    *samltest.IdP
	conn   *tenants.Connection
	c      *Connector
	spKey  *rsa.PrivateKey
	client *http.Client
}

var sam = samltest.User{Name: "sam", Password: "sam's password", Email: "sam@corp.test", CommonName: "Sam Jones",
	GivenName: "Sam", Surname: "Jones", Groups: []string{"staff", "admins"}}

// newHarness makes the tenant, the IdP and the connection; cfg edits the
// connection's configuration (metadata from the IdP unless set).
func newHarness(t *testing.T, cfg func(*samltest.IdP, *federation.ConnConfig)) *harness {
	t.Helper()
	store := storetest.Open(t, storetest.SQLiteURL(t))
	tn := storetest.MustTenant(t, store, "acme")
	box, err := secret.NewBox(mustMasterKey(t))
	if err != nil {
		t.Fatal(err)
	}
	svc := federation.New(federation.Config{Factories: map[string]federation.Factory{tenants.ConnectionSAML: New}}, store, box)
	h := &harness{t: t, ctx: tenants.WithTenant(context.Background(), tn), store: store, svc: svc, tenant: tn, idp: samltest.NewIdP(t)}
	h.idp.AddUser(t, sam)
	cc := federation.ConnConfig{MetadataXML: string(h.idp.Metadata()),
		Attributes: map[string]string{"groups": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"}}
	if cfg != nil {
		cfg(h.idp, &cc)
	}
	h.conn = &tenants.Connection{Type: tenants.ConnectionSAML, Name: "Corp SSO", Enabled: true}
	federation.SetConfig(h.conn, cc)
	if err := svc.Prepare(h.ctx, tn, h.conn, nil, true); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	if err := store.CreateConnection(h.ctx, h.conn); err != nil {
		t.Fatal(err)
	}
	st, err := svc.Settings(tn, h.conn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := New(st)
	if err != nil {
		t.Fatal(err)
	}
	h.c = conn.(*Connector)
	k, _ := x509.ParsePKCS8PrivateKey(st.SPKey)
	h.spKey = k.(*rsa.PrivateKey)
	md, err := h.c.Metadata(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.idp.AddServiceProvider(t, "gatehouse", md)
	jar, _ := cookiejar.New(nil)
	h.client = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	return h
}

func mustMasterKey(t *testing.T) []byte {
	k, err := secret.ParseMasterKey(secret.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// login is one SP-initiated login up to the IdP's answer.
type login struct {
	step  *federation.Step
	state *tenants.FederationState
	form  *samltest.Form
}

// login starts a login and authenticates at the IdP as sam.
func (h *harness) login() *login {
	h.t.Helper()
	step, err := h.c.Start(h.ctx, federation.Begin{State: secret.Token(32)})
	if err != nil {
		h.t.Fatalf("start: %v", err)
	}
	var req *http.Request
	if step.RedirectURL != "" {
		req, _ = http.NewRequest(http.MethodGet, step.RedirectURL, nil)
	} else {
		form := url.Values{}
		for k, v := range step.PostFields {
			form.Set(k, v)
		}
		req, _ = http.NewRequest(http.MethodPost, step.PostURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	form, err := h.idp.Authenticate(h.client, req, sam.Name, sam.Password)
	if err != nil {
		h.t.Fatalf("IdP: %v", err)
	}
	if form.Action != h.c.st.ACSURL {
		h.t.Fatalf("the IdP posts to %q, not the ACS %q", form.Action, h.c.st.ACSURL)
	}
	return &login{step: step, form: form,
		state: &tenants.FederationState{ConnectionID: h.conn.ID, RequestID: step.RequestID, Purpose: tenants.FederationLogin}}
}

// finish posts samlResponse to the connector for l's state.
func (h *harness) finish(l *login, samlResponse string) (*federation.Identity, error) {
	return h.c.Finish(h.ctx, l.state, acsRequest(h.c.st.ACSURL, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {l.form.Fields.Get("RelayState")}}))
}

func acsRequest(acs string, form url.Values) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, acs, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_ = r.ParseForm()
	return r
}

// response is l's answer taken apart, its assertion decrypted.
func (h *harness) response(l *login) *samltest.Response {
	h.t.Helper()
	r, err := samltest.ParseResponse(l.form.Fields.Get("SAMLResponse"))
	if err != nil {
		h.t.Fatal(err)
	}
	if r.Encrypted() {
		if err := r.Decrypt(h.spKey); err != nil {
			h.t.Fatal(err)
		}
		r.RemoveResponseSignature()
	}
	return r
}

func reason(t *testing.T, err error) string {
	t.Helper()
	var rej *federation.Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("error %v is not a *federation.Rejection", err)
	}
	return rej.Reason
}

func TestSAMLLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	l := h.login()
	r, _ := samltest.ParseResponse(l.form.Fields.Get("SAMLResponse"))
	if !r.Encrypted() {
		t.Error("the IdP did not encrypt the assertion to the key of our metadata")
	}
	if got := l.form.Fields.Get("RelayState"); got == "" {
		t.Error("the RelayState did not come back")
	}
	id, err := h.finish(l, l.form.Fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	want := federation.Identity{Issuer: h.idp.EntityID(), Subject: "u-sam", Email: "sam@corp.test", EmailVerified: true,
		Name: "Sam Jones", GivenName: "Sam", FamilyName: "Jones", Groups: []string{"staff", "admins"}}
	if id.Issuer != want.Issuer || id.Subject != want.Subject || id.Email != want.Email || !id.EmailVerified ||
		id.Name != want.Name || id.GivenName != want.GivenName || id.FamilyName != want.FamilyName ||
		strings.Join(id.Groups, ",") != strings.Join(want.Groups, ",") {
		t.Fatalf("identity = %+v, want %+v", *id, want)
	}

	// The same answer again: the assertion id is spent.
	_, err = h.finish(l, l.form.Fields.Get("SAMLResponse"))
	if got := reason(t, err); got != reasonReplay {
		t.Fatalf("replay: reason %q", got)
	}
}

// TestRejections tampers with real answers of the IdP; each must be
// refused for its own reason. Tampered assertions are signed again with
// the IdP's key, so that what is refused is the change, not a broken
// signature.
func TestSAMLRejections(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	other := samltest.NewSigner(t, "another idp")
	signer := h.idp.Signer

	// assertion changes the decrypted assertion and signs it again.
	assertion := func(edit func(a *saml.Assertion)) func(*testing.T, *samltest.Response) {
		return func(t *testing.T, r *samltest.Response) {
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
	// response changes the Response element and signs it again.
	response := func(edit func(root *etree.Element)) func(*testing.T, *samltest.Response) {
		return func(t *testing.T, r *samltest.Response) {
			edit(r.Root())
			if err := r.SignResponse(signer); err != nil {
				t.Fatal(err)
			}
		}
	}
	past := time.Now().Add(-time.Hour)

	cases := []struct {
		name   string
		tamper func(*testing.T, *samltest.Response)
		want   string // "" is accepted
	}{
		{"control: decrypted, assertion signed, response unsigned", func(*testing.T, *samltest.Response) {}, ""},
		{"control: response signed, assertion unsigned", func(t *testing.T, r *samltest.Response) {
			r.RemoveAssertionSignature()
			if err := r.SignResponse(signer); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"unsigned response and assertion", func(_ *testing.T, r *samltest.Response) { r.RemoveAssertionSignature() }, reasonUnsigned},
		{"assertion signed by another key", func(t *testing.T, r *samltest.Response) {
			a, _ := r.Assertion()
			a.Subject.NameID.Value = "u-admin"
			if err := r.SetAssertion(a, other); err != nil {
				t.Fatal(err)
			}
		}, reasonSignature},
		{"response signed by another key", func(t *testing.T, r *samltest.Response) {
			r.RemoveAssertionSignature()
			if err := r.SignResponse(other); err != nil {
				t.Fatal(err)
			}
		}, reasonSignature},
		{"edited after signing", func(_ *testing.T, r *samltest.Response) {
			r.AssertionElement().FindElement(".//NameID").SetText("u-admin")
		}, reasonSignature},
		{"signed with RSA-SHA1", func(t *testing.T, r *samltest.Response) {
			a, _ := r.Assertion()
			if err := r.SetAssertionWith(a, signer, dsig.RSASHA1SignatureMethod); err != nil {
				t.Fatal(err)
			}
		}, reasonWeakAlg},
		{"XSW: forged assertion, signed original in Extensions", func(_ *testing.T, r *samltest.Response) {
			orig := r.AssertionElement()
			forged := forge(orig, "u-admin")
			ext := etree.NewElement("samlp:Extensions")
			r.Root().InsertChildAt(orig.Index(), ext)
			r.Root().RemoveChild(orig)
			ext.AddChild(orig)
			r.Root().AddChild(forged)
		}, reasonWrapping},
		{"XSW: signed original inside the forged assertion", func(_ *testing.T, r *samltest.Response) {
			orig := r.AssertionElement()
			forged := forge(orig, "u-admin")
			r.Root().RemoveChild(orig)
			forged.AddChild(orig)
			r.Root().AddChild(forged)
		}, reasonWrapping},
		{"XSW: signature moved to the forged assertion, original in its Object", func(_ *testing.T, r *samltest.Response) {
			orig := r.AssertionElement()
			forged := forge(orig, "u-admin")
			forged.CreateAttr("ID", orig.SelectAttrValue("ID", ""))
			sig := orig.SelectElement("Signature")
			orig.RemoveChild(sig)
			obj := sig.CreateElement("ds:Object")
			obj.AddChild(orig)
			forged.AddChild(sig)
			r.Root().RemoveChild(orig)
			r.Root().AddChild(forged)
		}, reasonWrapping},
		{"two assertions: forged first, signed second (CVE-2022-41912)", func(_ *testing.T, r *samltest.Response) {
			orig := r.AssertionElement()
			r.Root().InsertChildAt(orig.Index(), forge(orig, "u-admin"))
		}, reasonWrapping},
		{"two assertions: signed first, forged second", func(_ *testing.T, r *samltest.Response) {
			r.Root().AddChild(forge(r.AssertionElement(), "u-admin"))
		}, reasonWrapping},
		{"XSW: forged Response around the signed one", func(_ *testing.T, r *samltest.Response) {
			orig := r.Root()
			outer := orig.Copy()
			outer.CreateAttr("ID", "id-forged-response")
			for _, ch := range outer.ChildElements() {
				if ch.Tag == "Signature" || ch.Tag == "Assertion" {
					outer.RemoveChild(ch)
				}
			}
			outer.AddChild(forge(r.AssertionElement(), "u-admin"))
			ext := outer.CreateElement("samlp:Extensions")
			ext.AddChild(orig.Copy())
			r.Doc.SetRoot(outer)
		}, reasonWrapping},
		{"DOCTYPE", func(_ *testing.T, r *samltest.Response) {
			r.Doc.InsertChildAt(0, etree.NewDirective(`DOCTYPE Response [<!ENTITY x "y">]`))
		}, reasonDoctype},
		{"wrong Audience", assertion(func(a *saml.Assertion) {
			a.Conditions.AudienceRestrictions[0].Audience.Value = "https://another.example/sp"
		}), reasonAudience},
		{"no AudienceRestriction", assertion(func(a *saml.Assertion) { a.Conditions.AudienceRestrictions = nil }), reasonAudience},
		{"a second AudienceRestriction without us", assertion(func(a *saml.Assertion) {
			a.Conditions.AudienceRestrictions = append(a.Conditions.AudienceRestrictions, saml.AudienceRestriction{Audience: saml.Audience{Value: "https://another.example/sp"}})
		}), reasonAudience},
		{"wrong Recipient", assertion(func(a *saml.Assertion) {
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://another.example/acs"
		}), reasonRecipient},
		{"wrong Destination", response(func(root *etree.Element) {
			root.CreateAttr("Destination", "https://another.example/acs")
		}), reasonDestination},
		{"expired: old IssueInstant", assertion(func(a *saml.Assertion) { a.IssueInstant = past }), reasonExpired},
		{"expired: Conditions NotOnOrAfter", assertion(func(a *saml.Assertion) { a.Conditions.NotOnOrAfter = past }), reasonExpired},
		{"expired: SubjectConfirmationData NotOnOrAfter", assertion(func(a *saml.Assertion) {
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past
		}), reasonExpired},
		{"expired: response IssueInstant", response(func(root *etree.Element) {
			root.CreateAttr("IssueInstant", past.UTC().Format(time.RFC3339))
		}), reasonExpired},
		{"not yet valid", assertion(func(a *saml.Assertion) { a.Conditions.NotBefore = time.Now().Add(time.Hour) }), reasonNotYetValid},
		{"another issuer", assertion(func(a *saml.Assertion) { a.Issuer.Value = "https://another.example/idp" }), reasonIssuer},
		{"unknown InResponseTo on the response", response(func(root *etree.Element) {
			root.CreateAttr("InResponseTo", "id-of-another-request")
		}), reasonInResponseTo},
		{"unknown InResponseTo in the assertion", assertion(func(a *saml.Assertion) {
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo = "id-of-another-request"
		}), reasonInResponseTo},
		{"IdP-initiated (no InResponseTo)", func(t *testing.T, r *samltest.Response) {
			assertion(func(a *saml.Assertion) { a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo = "" })(t, r)
			r.Root().RemoveAttr("InResponseTo")
		}, reasonIDPInitiated},
		{"no bearer SubjectConfirmation", assertion(func(a *saml.Assertion) { a.Subject.SubjectConfirmations = nil }), reasonNoBearer},
		{"no NameID", assertion(func(a *saml.Assertion) { a.Subject.NameID = nil }), reasonNoSubject},
		{"transient NameID", assertion(func(a *saml.Assertion) { a.Subject.NameID.Format = string(saml.TransientNameIDFormat) }), reasonTransient},
		{"no Conditions (crewjam would panic)", assertion(func(a *saml.Assertion) { a.Conditions = nil }), reasonMalformed},
		{"status Requester", func(_ *testing.T, r *samltest.Response) {
			r.Root().FindElement("./Status/StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
		}, "the IdP did not sign the user in (status Requester)"},
		{"not a Response", func(_ *testing.T, r *samltest.Response) { r.Root().Tag = "LogoutResponse" }, reasonNotResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := h.login()
			r := h.response(l)
			tc.tamper(t, r)
			id, err := h.finish(l, r.Encode())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != "u-sam" {
					t.Fatalf("subject %q", id.Subject)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted as %+v, want %q", id, tc.want)
			}
			if got := reason(t, err); got != tc.want {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// forge returns a copy of the signed assertion orig, unsigned, with
// another ID and NameID.
func forge(orig *etree.Element, nameID string) *etree.Element {
	f := orig.Copy()
	f.CreateAttr("ID", "id-forged")
	for _, sig := range f.SelectElements("Signature") {
		f.RemoveChild(sig)
	}
	f.FindElement(".//NameID").SetText(nameID)
	return f
}

// TestRejectEncrypted covers answers whose assertion stays encrypted.
func TestSAMLRejectEncrypted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cases := []struct {
		name   string
		tamper func(*samltest.Response)
		want   string
	}{
		{"RSA PKCS#1 v1.5 key transport", func(r *samltest.Response) {
			for _, em := range r.AssertionElement().FindElements(".//EncryptionMethod") {
				if strings.Contains(em.SelectAttrValue("Algorithm", ""), "rsa-oaep") {
					em.CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmlenc#rsa-1_5")
				}
			}
		}, reasonEncAlgorithm},
		{"ciphertext changed, response unsigned", func(r *samltest.Response) {
			r.RemoveResponseSignature()
			cv := r.AssertionElement().FindElement("./EncryptedData/CipherData/CipherValue")
			b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(cv.Text()))
			b[len(b)-1] ^= 1
			cv.SetText(base64.StdEncoding.EncodeToString(b))
		}, reasonEncrypted},
		{"ciphertext changed, response signature kept", func(r *samltest.Response) {
			cv := r.AssertionElement().FindElement("./EncryptedData/CipherData/CipherValue")
			b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(cv.Text()))
			b[len(b)-1] ^= 1
			cv.SetText(base64.StdEncoding.EncodeToString(b))
		}, reasonSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := h.login()
			r, err := samltest.ParseResponse(l.form.Fields.Get("SAMLResponse"))
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(r)
			_, err = h.finish(l, r.Encode())
			if got := reason(t, err); got != tc.want {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestRejectTransport covers what is refused before the XML is read.
func TestSAMLRejectTransport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	l := h.login()
	st := l.state
	acs := h.c.st.ACSURL
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("<a/>"), MaxResponseSize/4+1))
	cases := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"GET", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, acs+"?SAMLResponse=x", nil)
			return r
		}(), reasonNotPost},
		{"artifact binding", acsRequest(acs, url.Values{"SAMLart": {"AAQAA"}}), reasonNotPost},
		{"no SAMLResponse", acsRequest(acs, url.Values{"RelayState": {"x"}}), reasonNoResponse},
		{"not base64", acsRequest(acs, url.Values{"SAMLResponse": {"<Response/>"}}), reasonNotBase64},
		{"larger than MaxResponseSize decoded", acsRequest(acs, url.Values{"SAMLResponse": {big}}), reasonTooLarge},
		{"not XML", acsRequest(acs, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte("<Response"))}}), reasonNotXML},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.c.Finish(h.ctx, st, tc.req)
			if got := reason(t, err); got != tc.want {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	// A response wrapped in lines (some IdPs do) is read.
	wrapped := l.form.Fields.Get("SAMLResponse")
	var lines []string
	for len(wrapped) > 76 {
		lines, wrapped = append(lines, wrapped[:76]), wrapped[76:]
	}
	if _, err := h.finish(l, strings.Join(append(lines, wrapped), "\r\n")); err != nil {
		t.Fatalf("line-wrapped response refused: %v", err)
	}
}

// TestIDPInitiated: off by default (refused even with a valid state), and
// when switched on an answer without InResponseTo passes, while one naming
// another request still does not.
func TestSAMLIDPInitiated(t *testing.T) {
	t.Parallel()
	off := newHarness(t, nil)
	off.idp.AddShortcut(t, "gatehouse", off.c.st.EntityID, "relay")
	if err := off.idp.Login(off.client, sam.Name, sam.Password); err != nil {
		t.Fatal(err)
	}
	form, err := off.idp.InitiatedResponse(off.client, "gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	l := off.login() // a state of ours, which the unsolicited answer borrows
	_, err = off.finish(l, form.Fields.Get("SAMLResponse"))
	if got := reason(t, err); got != reasonIDPInitiated {
		t.Fatalf("IdP-initiated while off: reason %q", got)
	}

	on := newHarness(t, func(_ *samltest.IdP, cc *federation.ConnConfig) { cc.AllowIDPInitiated = true })
	on.idp.AddShortcut(t, "gatehouse", on.c.st.EntityID, "relay")
	if err := on.idp.Login(on.client, sam.Name, sam.Password); err != nil {
		t.Fatal(err)
	}
	form, err = on.idp.InitiatedResponse(on.client, "gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	id, err := on.finish(&login{state: &tenants.FederationState{ConnectionID: on.conn.ID}, form: form}, form.Fields.Get("SAMLResponse"))
	if err != nil || id.Subject != "u-sam" {
		t.Fatalf("IdP-initiated while on: %v, %+v", err, id)
	}
	l = on.login()
	r := on.response(l)
	r.Root().CreateAttr("InResponseTo", "id-of-another-request")
	if err := r.SignResponse(on.idp.Signer); err != nil {
		t.Fatal(err)
	}
	_, err = on.finish(l, r.Encode())
	if got := reason(t, err); got != reasonInResponseTo {
		t.Fatalf("another request's answer while IdP-initiated is on: reason %q", got)
	}
}

// TestCertificateRollover: with two certificates in the metadata, answers
// signed with either are accepted, and with a third refused.
func TestSAMLCertificateRollover(t *testing.T) {
	t.Parallel()
	next := samltest.NewSigner(t, "next idp key")
	h := newHarness(t, func(idp *samltest.IdP, cc *federation.ConnConfig) {
		cc.MetadataXML = string(idp.Metadata(samltest.SigningCerts(idp.Signer.Cert, next.Cert)))
	})
	if len(h.c.idpCerts) != 2 {
		t.Fatalf("%d trusted certificates, want 2", len(h.c.idpCerts))
	}
	for _, tc := range []struct {
		name   string
		signer *samltest.Signer
		ok     bool
	}{
		{"current key", h.idp.Signer, true},
		{"next key", next, true},
		{"unknown key", samltest.NewSigner(t, "unknown"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := h.login()
			r := h.response(l)
			a, _ := r.Assertion()
			if err := r.SetAssertion(a, tc.signer); err != nil {
				t.Fatal(err)
			}
			_, err := h.finish(l, r.Encode())
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && reason(t, err) != reasonSignature {
				t.Fatalf("reason %v", err)
			}
		})
	}

	// Only the metadata's certificates count: a signature by another key
	// that carries its own certificate in KeyInfo is refused.
	t.Run("certificate in KeyInfo", func(t *testing.T) {
		l := h.login()
		r := h.response(l)
		a, _ := r.Assertion()
		mallory := samltest.NewSigner(t, "mallory")
		if err := r.SetAssertion(a, mallory); err != nil {
			t.Fatal(err)
		}
		if c := r.AssertionElement().FindElement(".//KeyInfo/X509Data/X509Certificate"); c == nil {
			t.Fatal("the signature carries no certificate")
		}
		_, err := h.finish(l, r.Encode())
		if got := reason(t, err); got != reasonSignature {
			t.Fatalf("reason %q", got)
		}
	})
}

// TestStartRedirect: the AuthnRequest goes over HTTP-Redirect with the
// query signed (RSA-SHA256) by the service provider's key.
func TestSAMLStartRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	state := secret.Token(32)
	step, err := h.c.Start(h.ctx, federation.Begin{State: state})
	if err != nil {
		t.Fatal(err)
	}
	if step.RedirectURL == "" || step.PostURL != "" || step.RequestID == "" {
		t.Fatalf("step %+v", step)
	}
	u, _ := url.Parse(step.RedirectURL)
	if got := u.Scheme + "://" + u.Host + u.Path; got != h.idp.URL+"/sso" {
		t.Fatalf("redirect to %s", got)
	}
	q := u.Query()
	if q.Get("RelayState") != state || q.Get("SigAlg") != dsig.RSASHA256SignatureMethod {
		t.Fatalf("RelayState %q, SigAlg %q", q.Get("RelayState"), q.Get("SigAlg"))
	}
	// SAML bindings 3.4.4.1: the signature covers the query as sent, up to SigAlg.
	signed := u.RawQuery[:strings.Index(u.RawQuery, "&Signature=")]
	sig, _ := base64.StdEncoding.DecodeString(q.Get("Signature"))
	sum := sha256.Sum256([]byte(signed))
	if err := rsa.VerifyPKCS1v15(h.c.sp.Certificate.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the query's signature does not verify with the SP certificate: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	xmlReq, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var req saml.AuthnRequest
	if err := xml.Unmarshal(xmlReq, &req); err != nil {
		t.Fatal(err)
	}
	if req.ID != step.RequestID || req.Destination != h.idp.URL+"/sso" || req.Issuer.Value != h.c.st.EntityID ||
		req.AssertionConsumerServiceURL != h.c.st.ACSURL || req.ProtocolBinding != saml.HTTPPostBinding {
		t.Fatalf("AuthnRequest %+v", req)
	}
	if req.NameIDPolicy == nil || req.NameIDPolicy.Format != nil {
		t.Fatalf("NameIDPolicy %+v: want one without Format", req.NameIDPolicy)
	}
}

// TestStartPost: an IdP without HTTP-Redirect gets the AuthnRequest by
// HTTP-POST with an enveloped signature.
func TestSAMLStartPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(idp *samltest.IdP, cc *federation.ConnConfig) {
		cc.MetadataXML = string(idp.Metadata(samltest.PostOnly))
	})
	state := secret.Token(32)
	step, err := h.c.Start(h.ctx, federation.Begin{State: state})
	if err != nil {
		t.Fatal(err)
	}
	if step.PostURL != h.idp.URL+"/sso" || step.RedirectURL != "" || step.PostFields["RelayState"] != state {
		t.Fatalf("step %+v", step)
	}
	raw, _ := base64.StdEncoding.DecodeString(step.PostFields["SAMLRequest"])
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	if doc.Root().SelectAttrValue("ID", "") != step.RequestID {
		t.Fatal("the request's ID is not the step's")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{h.c.sp.Certificate}})
	if _, err := vc.Validate(doc.Root()); err != nil {
		t.Fatalf("the AuthnRequest's signature does not verify with the SP certificate: %v", err)
	}
	if m := doc.Root().FindElement(".//SignatureMethod"); m.SelectAttrValue("Algorithm", "") != dsig.RSASHA256SignatureMethod {
		t.Fatalf("signature method %s", m.SelectAttrValue("Algorithm", ""))
	}
	// And the whole login works over it.
	l := h.login()
	if _, err := h.finish(l, l.form.Fields.Get("SAMLResponse")); err != nil {
		t.Fatal(err)
	}
}

// TestSPMetadata checks what the IdP's admin is given.
func TestSAMLSPMetadata(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b, err := h.c.Metadata(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != h.c.st.EntityID || len(ed.SPSSODescriptors) != 1 {
		t.Fatalf("entity %q, %d SP descriptors", ed.EntityID, len(ed.SPSSODescriptors))
	}
	d := ed.SPSSODescriptors[0]
	if d.AuthnRequestsSigned == nil || !*d.AuthnRequestsSigned || d.WantAssertionsSigned == nil || !*d.WantAssertionsSigned {
		t.Error("the metadata does not say requests are signed and assertions wanted signed")
	}
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Binding != saml.HTTPPostBinding ||
		d.AssertionConsumerServices[0].Location != h.c.st.ACSURL {
		t.Errorf("ACS %+v: want HTTP-POST at %s only", d.AssertionConsumerServices, h.c.st.ACSURL)
	}
	if len(d.NameIDFormats) == 0 || d.NameIDFormats[0] != saml.PersistentNameIDFormat {
		t.Errorf("NameID formats %v: persistent first", d.NameIDFormats)
	}
	uses := map[string]bool{}
	for _, kd := range d.KeyDescriptors {
		uses[kd.Use] = true
		der, _ := base64.StdEncoding.DecodeString(kd.KeyInfo.X509Data.X509Certificates[0].Data)
		if !bytes.Equal(der, h.c.sp.Certificate.Raw) {
			t.Errorf("%s key is not the SP certificate", kd.Use)
		}
	}
	if !uses["signing"] || !uses["encryption"] {
		t.Errorf("key uses %v", uses)
	}
	if !ed.ValidUntil.Equal(h.c.sp.Certificate.NotAfter.UTC()) {
		t.Errorf("validUntil %v, want the certificate's end %v", ed.ValidUntil, h.c.sp.Certificate.NotAfter)
	}
	// The certificate in the configuration is the sealed key's.
	cc, _ := federation.ParseConfig(h.conn)
	block, _ := pem.Decode([]byte(cc.SPCertificate))
	if block == nil || !bytes.Equal(block.Bytes, h.c.sp.Certificate.Raw) {
		t.Error("the SP certificate is not the configuration's")
	}
}

func TestSAMLParseIDPMetadata(t *testing.T) {
	t.Parallel()
	idp := samltest.NewIdP(t)
	other := samltest.NewIdP(t)
	one := string(idp.Metadata())
	strip := func(s string) string { return s[strings.Index(s, "<EntityDescriptor"):] }
	sp := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`
	cases := []struct {
		name    string
		xml     string
		certs   int
		wantErr string
	}{
		{"EntityDescriptor", one, 1, ""},
		{"EntitiesDescriptor with one IdP and an SP", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + sp + strip(one) + `</EntitiesDescriptor>`, 1, ""},
		{"nested EntitiesDescriptor", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><EntitiesDescriptor>` + strip(one) + `</EntitiesDescriptor></EntitiesDescriptor>`, 1, ""},
		{"two certificates", string(idp.Metadata(samltest.SigningCerts(idp.Signer.Cert, other.Signer.Cert))), 2, ""},
		{"EntitiesDescriptor with two IdPs", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + strip(one) + strip(string(other.Metadata())) + `</EntitiesDescriptor>`, 0, "2 identity providers"},
		{"only a service provider", sp, 0, "0 identity providers"},
		{"no signing certificate", string(idp.Metadata(samltest.SigningCerts())), 0, "no signing certificate"},
		{"not metadata", `<html/>`, 0, "not SAML metadata"},
		{"DOCTYPE", `<!DOCTYPE x [<!ENTITY a "b">]>` + one, 0, "DOCTYPE"},
		{"empty", ``, 0, "empty"},
		{"too large", one + strings.Repeat(" ", federation.MaxMetadataSize), 0, "larger than 1 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ed, certs, err := ParseIDPMetadata([]byte(tc.xml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ed.EntityID != idp.EntityID() || len(certs) != tc.certs {
				t.Fatalf("entity %q with %d certificates", ed.EntityID, len(certs))
			}
		})
	}
}

func TestSAMLAttributeMapping(t *testing.T) {
	t.Parallel()
	attrs := func(kv ...string) *saml.Assertion {
		a := &saml.Assertion{Subject: &saml.Subject{NameID: &saml.NameID{Value: "u-1", Format: string(saml.PersistentNameIDFormat)}}}
		st := saml.AttributeStatement{}
		for i := 0; i < len(kv); i += 2 {
			st.Attributes = append(st.Attributes, saml.Attribute{Name: kv[i], Values: []saml.AttributeValue{{Value: kv[i+1]}}})
		}
		a.AttributeStatements = []saml.AttributeStatement{st}
		return a
	}
	cases := []struct {
		name    string
		mapping map[string]string
		a       *saml.Assertion
		want    federation.Identity
	}{
		{"plain names", nil, attrs("email", "a@x.test", "displayName", "Ann A", "givenName", "Ann", "sn", "A", "groups", "g1", "groups", "g2", "groups", "g1"),
			federation.Identity{Email: "a@x.test", EmailVerified: true, Name: "Ann A", GivenName: "Ann", FamilyName: "A", Groups: []string{"g1", "g2"}}},
		{"OIDs", nil, attrs("urn:oid:0.9.2342.19200300.100.1.3", "b@x.test", "urn:oid:2.5.4.3", "Bo B", "urn:oid:2.5.4.42", "Bo", "urn:oid:2.5.4.4", "B"),
			federation.Identity{Email: "b@x.test", EmailVerified: true, Name: "Bo B", GivenName: "Bo", FamilyName: "B"}},
		{"Entra ID claims", nil, attrs("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "c@x.test",
			"http://schemas.microsoft.com/identity/claims/displayname", "Cy C", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", "0000-1111"),
			federation.Identity{Email: "c@x.test", EmailVerified: true, Name: "Cy C", Groups: []string{"0000-1111"}}},
		{"configured names win", map[string]string{"email": "corpMail", "name": "fullName", "groups": "roles"},
			attrs("email", "personal@x.test", "corpMail", "d@corp.test", "displayName", "ignored", "fullName", "Di D", "groups", "ignored", "roles", "r1"),
			federation.Identity{Email: "d@corp.test", EmailVerified: true, Name: "Di D", Groups: []string{"r1"}}},
		{"a configured name that is absent maps nothing", map[string]string{"email": "corpMail"}, attrs("email", "e@x.test"),
			federation.Identity{}},
		{"not an email address", nil, attrs("email", "not an address"), federation.Identity{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Connector{cfg: federation.ConnConfig{Attributes: tc.mapping}, sp: &saml.ServiceProvider{IDPMetadata: &saml.EntityDescriptor{EntityID: "https://idp.test"}}}
			got := c.identity(tc.a)
			tc.want.Issuer, tc.want.Subject = "https://idp.test", "u-1"
			if got.Email != tc.want.Email || got.EmailVerified != tc.want.EmailVerified || got.Name != tc.want.Name ||
				got.GivenName != tc.want.GivenName || got.FamilyName != tc.want.FamilyName ||
				strings.Join(got.Groups, ",") != strings.Join(tc.want.Groups, ",") || got.Issuer != tc.want.Issuer || got.Subject != tc.want.Subject {
				t.Fatalf("identity %+v, want %+v", *got, tc.want)
			}
		})
	}
	// An emailAddress NameID is the address when no attribute gives one.
	c := &Connector{sp: &saml.ServiceProvider{IDPMetadata: &saml.EntityDescriptor{EntityID: "https://idp.test"}}}
	a := attrs()
	a.Subject.NameID = &saml.NameID{Value: "f@x.test", Format: string(saml.EmailAddressNameIDFormat)}
	if got := c.identity(a); got.Email != "f@x.test" || !got.EmailVerified || got.Subject != "f@x.test" {
		t.Fatalf("emailAddress NameID: %+v", *got)
	}
}

// TestNewRefusesBrokenConfig: a connection that cannot work is refused
// when it is saved (Prepare builds it).
func TestSAMLNewRefusesBrokenConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	st, _ := h.svc.Settings(h.tenant, h.conn)
	for name, edit := range map[string]func(*federation.Settings, *federation.ConnConfig){
		"no metadata":     func(_ *federation.Settings, cc *federation.ConnConfig) { cc.MetadataXML = "" },
		"no SP key":       func(s *federation.Settings, _ *federation.ConnConfig) { s.SPKey = nil },
		"another SP cert": func(_ *federation.Settings, cc *federation.ConnConfig) { cc.SPCertificate = pemCert(h.idp.Signer.Cert) },
		"no SSO endpoints": func(_ *federation.Settings, cc *federation.ConnConfig) {
			cc.MetadataXML = string(h.idp.Metadata(noSSO))
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := st
			c := *h.conn
			cc, _ := federation.ParseConfig(&c)
			edit(&s, &cc)
			federation.SetConfig(&c, cc)
			s.Connection = &c
			if _, err := New(s); err == nil {
				t.Fatal("built")
			}
		})
	}
}

func noSSO(ed *saml.EntityDescriptor) { ed.IDPSSODescriptors[0].SingleSignOnServices = nil }

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
