// Package samltest runs a real SAML identity provider inside a test
// (crewjam/saml's samlidp, signing with RSA-SHA256) and takes its responses
// apart so that tests can tamper with them. It is for tests only.
package samltest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"html/template"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	dsig "github.com/russellhaering/goxmldsig"
	"golang.org/x/crypto/bcrypt"
)

// IdP is a SAML identity provider listening on 127.0.0.1.
type IdP struct {
	Server *samlidp.Server
	// URL is the IdP's base URL; its entity id is URL + "/metadata", its
	// single sign-on service URL + "/sso".
	URL    string
	Signer *Signer
	// NameIDFormat is the format of the NameIDs it asserts: persistent
	// (an opaque "u-<user name>") unless changed.
	NameIDFormat string
	http         *httptest.Server
}

// Signer is a key and its certificate.
type Signer struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// NewSigner makes an RSA key and a self-signed certificate valid for a year.
func NewSigner(t testing.TB, name string) *Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &Signer{Key: key, Cert: cert}
}

// loginForm is the IdP's login page: it posts the credentials to the SSO
// endpoint with the request, so that the login goes on to the response
// (samlidp's own form posts to /login, which only answers JSON).
var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Test IdP sign-in</title></head><body>
<p class="toast">{{.Toast}}</p>
<form method="post" action="{{.URL}}" id="idp-login">
<input type="text" name="user" id="idp-user" placeholder="user" value="" />
<input type="password" name="password" id="idp-password" placeholder="password" value="" />
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}" />
<input type="hidden" name="RelayState" value="{{.RelayState}}" />
<input type="submit" id="idp-submit" value="Log In" />
</form></body></html>`))

// NewIdP starts an IdP, stopped when t ends.
func NewIdP(t testing.TB) *IdP {
	t.Helper()
	idp := &IdP{Signer: NewSigner(t, "test idp"), NameIDFormat: string(saml.PersistentNameIDFormat)}
	idp.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idp.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(idp.http.Close)
	idp.URL = idp.http.URL
	u, _ := url.Parse(idp.URL)
	s, err := samlidp.New(samlidp.Options{
		URL: *u, Key: idp.Signer.Key, Certificate: idp.Signer.Cert, Store: &samlidp.MemoryStore{},
		Logger: testLogger{t}, LoginFormTemplate: loginForm,
	})
	if err != nil {
		t.Fatal(err)
	}
	// samlidp signs with RSA-SHA1 unless told otherwise.
	s.IDP.SignatureMethod = dsig.RSASHA256SignatureMethod
	// The login form posts to the SSO endpoint (see loginForm).
	s.IDP.LoginURL = s.IDP.SSOURL
	s.IDP.AssertionMaker = assertionMaker{idp}
	idp.Server = s
	return idp
}

// Port is the port the IdP listens on (at 127.0.0.1).
func (idp *IdP) Port() string {
	u, _ := url.Parse(idp.URL)
	return u.Port()
}

// EntityID is the IdP's entity id.
func (idp *IdP) EntityID() string { return idp.URL + "/metadata" }

// assertionMaker is samlidp's, with NameIDs in idp.NameIDFormat.
type assertionMaker struct{ idp *IdP }

func (m assertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	nid := req.Assertion.Subject.NameID
	nid.Format = m.idp.NameIDFormat
	if m.idp.NameIDFormat != string(saml.TransientNameIDFormat) {
		nid.Value = "u-" + session.UserName
	}
	return nil
}

type testLogger struct{ t testing.TB }

func (l testLogger) Printf(f string, v ...any) { l.t.Logf("samlidp: "+f, v...) }
func (l testLogger) Print(v ...any)            { l.t.Log(append([]any{"samlidp:"}, v...)...) }
func (l testLogger) Println(v ...any)          { l.t.Log(append([]any{"samlidp:"}, v...)...) }
func (l testLogger) Fatal(v ...any)            { l.t.Fatal(v...) }
func (l testLogger) Fatalf(f string, v ...any) { l.t.Fatalf(f, v...) }
func (l testLogger) Fatalln(v ...any)          { l.t.Fatal(v...) }
func (l testLogger) Panic(v ...any)            { panic(fmt.Sprint(v...)) }
func (l testLogger) Panicf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }
func (l testLogger) Panicln(v ...any)          { panic(fmt.Sprint(v...)) }

// User is an account at the IdP.
type User struct {
	Name, Password, Email, CommonName, GivenName, Surname string
	Groups                                                []string
}

// AddUser adds an account (hashed with bcrypt's lowest cost: tests log in
// often).
func (idp *IdP) AddUser(t testing.TB, u User) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	err = idp.Server.Store.Put("/users/"+u.Name, samlidp.User{Name: u.Name, HashedPassword: h, Email: u.Email,
		CommonName: u.CommonName, GivenName: u.GivenName, Surname: u.Surname, Groups: u.Groups})
	if err != nil {
		t.Fatal(err)
	}
}

// AddServiceProvider registers a service provider by its metadata.
func (idp *IdP) AddServiceProvider(t testing.TB, name string, metadata []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	idp.Server.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/services/"+name, bytes.NewReader(metadata)))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("register service provider %s: %d %s", name, rec.Code, rec.Body)
	}
}

// AddShortcut registers an IdP-initiated login to the service provider
// entityID at /login/<name>, with relayState.
func (idp *IdP) AddShortcut(t testing.TB, name, entityID, relayState string) {
	t.Helper()
	if err := idp.Server.Store.Put("/shortcuts/"+name, samlidp.Shortcut{Name: name, ServiceProviderID: entityID, RelayState: &relayState}); err != nil {
		t.Fatal(err)
	}
}

// Metadata returns the IdP's EntityDescriptor, changed by edits.
func (idp *IdP) Metadata(edits ...func(*saml.EntityDescriptor)) []byte {
	ed := idp.Server.IDP.Metadata()
	for _, e := range edits {
		e(ed)
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// PostOnly drops the HTTP-Redirect single sign-on endpoint.
func PostOnly(ed *saml.EntityDescriptor) {
	d := &ed.IDPSSODescriptors[0]
	var keep []saml.Endpoint
	for _, e := range d.SingleSignOnServices {
		if e.Binding == saml.HTTPPostBinding {
			keep = append(keep, e)
		}
	}
	d.SingleSignOnServices = keep
}

// SigningCerts makes the metadata name certs as the IdP's signing
// certificates (two during a rollover), and no other.
func SigningCerts(certs ...*x509.Certificate) func(*saml.EntityDescriptor) {
	return func(ed *saml.EntityDescriptor) {
		d := &ed.IDPSSODescriptors[0]
		var kds []saml.KeyDescriptor
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "encryption" {
				kds = append(kds, kd)
			}
		}
		for _, c := range certs {
			kds = append(kds, saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
				X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(c.Raw)}}}}})
		}
		d.KeyDescriptors = kds
	}
}

// Form is an HTML form: where it posts, and its fields.
type Form struct {
	Action string
	Fields url.Values
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// ParseForm reads the first form of an HTML page.
func ParseForm(body string) (*Form, bool) {
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		return nil, false
	}
	f := &Form{Action: html.UnescapeString(m[1]), Fields: url.Values{}}
	for _, in := range formInput.FindAllStringSubmatch(body, -1) {
		f.Fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return f, true
}

// Authenticate sends req (the AuthnRequest: a redirect to the IdP, or the
// auto-posted form) with client, logs in as user/password when the IdP
// asks, and returns the IdP's response form (SAMLResponse, RelayState,
// and the ACS URL as its action).
func (idp *IdP) Authenticate(client *http.Client, req *http.Request, user, password string) (*Form, error) {
	for range 3 {
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("IdP answered %d: %s", resp.StatusCode, body)
		}
		f, ok := ParseForm(string(body))
		if !ok {
			return nil, fmt.Errorf("IdP page has no form: %s", body)
		}
		if f.Fields.Get("SAMLResponse") != "" {
			return f, nil
		}
		if _, ok := f.Fields["SAMLRequest"]; !ok {
			return nil, fmt.Errorf("IdP page is neither a login form nor a response: %s", body)
		}
		f.Fields.Set("user", user)
		f.Fields.Set("password", password)
		req, err = http.NewRequest(http.MethodPost, resolve(idp.URL, f.Action), strings.NewReader(f.Fields.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, fmt.Errorf("the IdP kept asking to log in as %s", user)
}

// Login logs in at the IdP directly, leaving its session cookie in
// client's jar (for IdP-initiated logins).
func (idp *IdP) Login(client *http.Client, user, password string) error {
	resp, err := client.PostForm(idp.URL+"/login", url.Values{"user": {user}, "password": {password}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("IdP login answered %d", resp.StatusCode)
	}
	return nil
}

// InitiatedResponse asks for an IdP-initiated response at shortcut (the
// client must be logged in at the IdP).
func (idp *IdP) InitiatedResponse(client *http.Client, shortcut string) (*Form, error) {
	req, _ := http.NewRequest(http.MethodGet, idp.URL+"/login/"+shortcut, nil)
	return idp.Authenticate(client, req, "", "")
}

func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}
