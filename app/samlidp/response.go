package samlidp

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// assertionLifetime is how long an assertion may be presented (its
// Conditions' and SubjectConfirmationData's NotOnOrAfter): long enough for
// a slow browser's POST, short enough that a stolen one is soon useless.
const assertionLifetime = 5 * time.Minute

// clockSkew is how far before now an assertion is valid (NotBefore), for
// SPs whose clocks are behind.
const clockSkew = 90 * time.Second

// signer signs responses and assertions: the tenant's RS256 key and its
// certificate.
type signer struct {
	key  crypto.Signer
	cert *x509.Certificate
}

func (s signer) context() (*dsig.SigningContext, error) {
	ctx, err := dsig.NewSigningContext(s.key, [][]byte{s.cert.Raw})
	if err != nil {
		return nil, err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	return ctx, nil
}

// subject is who an assertion is about and how they signed in.
type subject struct {
	User     *tenants.User
	Roles    []string
	Groups   []string
	AuthTime time.Time
	ACR      string
	// Class is the AuthnContextClassRef to state (contextClass); "" for
	// the class of ACR.
	Class string
	// SessionIndex names the session at the IdP (for logout).
	SessionIndex string
}

func (s subject) class() string {
	if s.Class != "" {
		return s.Class
	}
	return reachedClass(s.ACR)
}

// answer is what the response answers: the request (ID "" for an
// IdP-initiated one) and where it goes.
type answer struct {
	InResponseTo string
	ACS          string
	NameIDFormat string
	// NameID is the subject's NameID in NameIDFormat ("" to make one).
	NameID     string
	RelayState string
}

func (a answer) nameID(app *tenants.SAMLApp, u *tenants.User, format string) string {
	if a.NameID != "" {
		return a.NameID
	}
	return nameID(app, u, format)
}

// nameID is the user's NameID in format for app: the email, an opaque
// persistent id (HMAC of the user id under the application's salt, so
// that two applications cannot correlate), the user id, or a new
// transient one.
func nameID(app *tenants.SAMLApp, u *tenants.User, format string) string {
	switch format {
	case tenants.NameIDEmail:
		return u.Email
	case tenants.NameIDPersistent:
		m := hmac.New(sha256.New, []byte(app.NameIDSalt))
		m.Write([]byte(u.ID))
		return "p-" + hex.EncodeToString(m.Sum(nil))[:40]
	case tenants.NameIDTransient:
		return "t-" + randomID()
	}
	switch app.NameIDSource {
	case tenants.NameIDSourceEmail:
		return u.Email
	case tenants.NameIDSourcePersistent:
		return nameID(app, u, tenants.NameIDPersistent)
	}
	return u.ID
}

// attributes maps the user's properties to the application's attributes;
// an empty value is left out.
func attributes(app *tenants.SAMLApp, s subject) []saml.Attribute {
	var out []saml.Attribute
	for _, a := range app.Attributes {
		var vals []string
		switch a.Source {
		case "email":
			vals = []string{s.User.Email}
		case "email_verified":
			vals = []string{strconv.FormatBool(s.User.EmailVerified)}
		case "name":
			vals = []string{s.User.Name}
		case "given_name":
			vals = []string{s.User.GivenName}
		case "family_name":
			vals = []string{s.User.FamilyName}
		case "user_id":
			vals = []string{s.User.ID}
		case "groups":
			vals = s.Groups
		case "roles":
			vals = s.Roles
		}
		attr := saml.Attribute{Name: a.Name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}
		for _, v := range vals {
			if v != "" {
				attr.Values = append(attr.Values, saml.AttributeValue{Type: "xs:string", Value: v})
			}
		}
		if len(attr.Values) > 0 {
			out = append(out, attr)
		}
	}
	return out
}

// issue builds the Response to a (the SAML Web Browser SSO Profile,
// Profiles §4.1.4.2): issued by the tenant's IdP, for app's audience, to
// the ACS as Destination and Recipient, InResponseTo the request, valid
// from now minus skew for assertionLifetime, with the user's NameID and
// attributes; the assertion and/or the response signed (RSA-SHA256) as the
// application says, the assertion encrypted to the SP when it asks. It
// returns the Response (base64, for the POST binding) and the assertion's
// ID.
func issue(t *tenants.Tenant, app *tenants.SAMLApp, sg signer, s subject, a answer, now time.Time) (string, string, error) {
	idp := t.SAMLIdPEntityID()
	format := a.NameIDFormat
	if format == "" {
		format = app.NameIDFormat
	}
	conf := &saml.SubjectConfirmationData{InResponseTo: a.InResponseTo, NotOnOrAfter: now.Add(assertionLifetime), Recipient: a.ACS}
	assertion := &saml.Assertion{
		ID: "_" + randomID(), IssueInstant: now, Version: "2.0",
		Issuer: saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: idp},
		Subject: &saml.Subject{
			NameID:               &saml.NameID{Format: format, NameQualifier: idp, SPNameQualifier: app.EntityID, Value: a.nameID(app, s.User, format)},
			SubjectConfirmations: []saml.SubjectConfirmation{{Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer", SubjectConfirmationData: conf}},
		},
		Conditions: &saml.Conditions{NotBefore: now.Add(-clockSkew), NotOnOrAfter: now.Add(assertionLifetime),
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: app.EntityID}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: s.AuthTime, SessionIndex: s.SessionIndex,
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: s.class()}}}},
	}
	if attrs := attributes(app, s); len(attrs) > 0 {
		assertion.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	sctx, err := sg.context()
	if err != nil {
		return "", "", err
	}
	assertionEl := assertion.Element()
	if app.SignAssertion {
		signed, err := sctx.SignEnveloped(assertionEl)
		if err != nil {
			return "", "", fmt.Errorf("samlidp: sign assertion: %w", err)
		}
		assertion.Signature = signed.ChildElements()[len(signed.ChildElements())-1]
		assertionEl = assertion.Element()
	}
	if app.EncryptAssertions {
		if assertionEl, err = encrypt(app, assertionEl); err != nil {
			return "", "", err
		}
	}
	resp := &saml.Response{ID: "_" + randomID(), InResponseTo: a.InResponseTo, Version: "2.0", IssueInstant: now, Destination: a.ACS,
		Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: idp},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
	respEl := resp.Element()
	respEl.AddChild(assertionEl)
	if app.SignResponse {
		signed, err := sctx.SignEnveloped(respEl)
		if err != nil {
			return "", "", fmt.Errorf("samlidp: sign response: %w", err)
		}
		resp.Signature = signed.ChildElements()[len(signed.ChildElements())-1]
		respEl = resp.Element()
		respEl.AddChild(assertionEl)
	}
	b, err := serialize(respEl)
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(b), assertion.ID, nil
}

// encrypt wraps a signed assertion in an EncryptedAssertion to the SP's
// encryption certificate (RSA-OAEP, AES-256-CBC: what SPs decrypt).
func encrypt(app *tenants.SAMLApp, el *etree.Element) (*etree.Element, error) {
	der, err := base64.StdEncoding.DecodeString(app.EncryptionCert)
	if err != nil {
		return nil, fmt.Errorf("samlidp: encryption certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("samlidp: encryption certificate: %w", err)
	}
	plain, err := serialize(el)
	if err != nil {
		return nil, err
	}
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES256CBC
	enc.DigestMethod = &xmlenc.SHA1
	data, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		return nil, fmt.Errorf("samlidp: encrypt assertion: %w", err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	out := etree.NewElement("saml:EncryptedAssertion")
	out.AddChild(data)
	return out, nil
}

// failure builds an unsigned Response with a non-success status (SAML Core
// §3.2.2.2), for an SP whose request Gatehouse read but cannot grant:
// NoPassive, RequestDenied, InvalidNameIDPolicy...
func failure(t *tenants.Tenant, a answer, top, second, message string, now time.Time) (string, error) {
	resp := &saml.Response{ID: "_" + randomID(), InResponseTo: a.InResponseTo, Version: "2.0", IssueInstant: now, Destination: a.ACS,
		Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: t.SAMLIdPEntityID()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: top}}}
	if second != "" {
		resp.Status.StatusCode.StatusCode = &saml.StatusCode{Value: second}
	}
	if message != "" {
		resp.Status.StatusMessage = &saml.StatusMessage{Value: message}
	}
	b, err := serialize(resp.Element())
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func serialize(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	return doc.WriteToBytes()
}

func randomID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionIndex is the SessionIndex of a session's assertions (SAML Core
// §2.7.2): the session's sid, stable when the session rotates, telling the
// SP nothing of its cookie.
func sessionIndex(sess *tenants.Session) string { return tenants.SessionSID(sess) }
