package samlidp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	xrv "github.com/mattermost/xml-roundtrip-validator"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Bounds of what an AuthnRequest may bring (anyone can send one).
const (
	maxEncoded    = 64 << 10 // SAMLRequest as sent
	maxXML        = 64 << 10 // the AuthnRequest, inflated
	maxRelayState = 1024     // Bindings §3.4.3 says 80 bytes; SPs send more
	maxRequestID  = 256
	// issueSkew is how far an AuthnRequest's IssueInstant may be from now.
	issueSkew = 5 * time.Minute
)

// inbound is an AuthnRequest as a binding delivered it: the XML, the relay
// state, and the binding's signature (HTTP-Redirect carries it in the
// query; HTTP-POST inside the XML).
type inbound struct {
	Binding    string
	XML        []byte
	RelayState string
	// SigAlg, Signature and Signed are the HTTP-Redirect signature: the
	// octets signed are the query's SAMLRequest, RelayState and SigAlg as
	// they were encoded (Bindings §3.4.4.1).
	SigAlg    string
	Signature []byte
	Signed    string
}

// errBadRequest is an AuthnRequest that cannot be read: an error page,
// no answer to anyone (the SP is not known yet).
type errBadRequest struct{ msg string }

func (e errBadRequest) Error() string { return e.msg }

func bad(format string, args ...any) error { return errBadRequest{fmt.Sprintf(format, args...)} }

// fromRedirect reads the HTTP-Redirect binding (Bindings §3.4): the
// deflated, base64 SAMLRequest of the raw query.
func fromRedirect(rawQuery string) (*inbound, error) {
	return fromRedirectParam(rawQuery, "SAMLRequest")
}

// fromRedirectParam is fromRedirect for the message in param
// (SAMLRequest or SAMLResponse).
func fromRedirectParam(rawQuery, param string) (*inbound, error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k == param || k == "RelayState" || k == "SigAlg" || k == "Signature" {
			if _, dup := raw[k]; dup {
				return nil, bad("the request repeats %s", k)
			}
			raw[k] = v
		}
	}
	in := &inbound{Binding: tenants.BindingHTTPRedirect}
	enc, err := url.QueryUnescape(raw[param])
	if err != nil || enc == "" {
		return nil, bad("the request has no %s", param)
	}
	if len(enc) > maxEncoded {
		return nil, bad("the SAMLRequest is too large")
	}
	deflated, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, bad("the SAMLRequest is not base64")
	}
	in.XML, err = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), maxXML+1))
	if err != nil {
		return nil, bad("the SAMLRequest is not DEFLATE-encoded")
	}
	if len(in.XML) > maxXML {
		return nil, bad("the SAMLRequest is too large")
	}
	if in.RelayState, err = url.QueryUnescape(raw["RelayState"]); err != nil {
		return nil, bad("the RelayState is not URL-encoded")
	}
	if sig, ok := raw["Signature"]; ok {
		if in.SigAlg, err = url.QueryUnescape(raw["SigAlg"]); err != nil {
			return nil, bad("the SigAlg is not URL-encoded")
		}
		s, err := url.QueryUnescape(sig)
		if err == nil {
			in.Signature, err = base64.StdEncoding.DecodeString(s)
		}
		if err != nil || len(in.Signature) == 0 {
			return nil, bad("the Signature is not base64")
		}
		in.Signed = param + "=" + raw[param]
		if rs, ok := raw["RelayState"]; ok {
			in.Signed += "&RelayState=" + rs
		}
		in.Signed += "&SigAlg=" + raw["SigAlg"]
	}
	return in, nil
}

// fromPost reads the HTTP-POST binding (Bindings §3.5): the base64
// SAMLRequest of the form.
func fromPost(samlRequest, relayState string) (*inbound, error) {
	if samlRequest == "" {
		return nil, bad("the request has no SAMLRequest")
	}
	if len(samlRequest) > maxEncoded {
		return nil, bad("the SAMLRequest is too large")
	}
	x, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(samlRequest), ""))
	if err != nil {
		return nil, bad("the SAMLRequest is not base64")
	}
	return &inbound{Binding: tenants.BindingHTTPPost, XML: x, RelayState: relayState}, nil
}

// authnRequest is an AuthnRequest read and checked against its application.
type authnRequest struct {
	ID           string
	Issuer       string
	ACS          tenants.SAMLEndpoint
	ForceAuthn   bool
	IsPassive    bool
	NameIDFormat string
	RelayState   string
	Signed       bool
	// AuthnClasses and AuthnComparison are the RequestedAuthnContext.
	AuthnClasses    []string
	AuthnComparison string
}

// parse reads the AuthnRequest's XML (SAML Core §3.4.1) and its issuer,
// without trusting anything in it yet.
func parse(in *inbound) (*saml.AuthnRequest, *etree.Element, error) {
	if len(in.RelayState) > maxRelayState {
		return nil, nil, bad("the RelayState is longer than %d bytes", maxRelayState)
	}
	if err := xrv.Validate(bytes.NewReader(in.XML)); err != nil {
		return nil, nil, bad("the SAMLRequest is not well-formed XML")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(in.XML); err != nil || doc.Root() == nil {
		return nil, nil, bad("the SAMLRequest is not well-formed XML")
	}
	var req saml.AuthnRequest
	if err := xml.Unmarshal(in.XML, &req); err != nil || doc.Root().Tag != "AuthnRequest" {
		return nil, nil, bad("the SAMLRequest is not an AuthnRequest")
	}
	if req.Issuer == nil || req.Issuer.Value == "" {
		return nil, nil, bad("the AuthnRequest names no Issuer")
	}
	return &req, doc.Root(), nil
}

// verify checks the request's signature, if it has one, with the
// application's certificates only (never one the request carries), and
// requires one when the application does. For HTTP-POST it returns the
// AuthnRequest as signed: what the signature covers, never a sibling. It
// also returns the XML it trusts.
func verify(app *tenants.SAMLApp, in *inbound, req *saml.AuthnRequest, root *etree.Element) (*saml.AuthnRequest, bool, []byte, error) {
	x, signed, err := trusted(app, in, root)
	if err != nil {
		return nil, false, nil, err
	}
	if !signed {
		return req, false, x, nil
	}
	var out saml.AuthnRequest
	if err := xml.Unmarshal(x, &out); err != nil {
		return nil, false, nil, bad("the signed AuthnRequest cannot be read")
	}
	return &out, true, x, nil
}

// trusted checks the signature of a message of app (an AuthnRequest or a
// LogoutRequest) as its binding carries it, with the application's
// certificates only, and requires one when the application does. It
// returns the XML to read: what an HTTP-POST signature covers (never a
// sibling of it), or the message as it came.
func trusted(app *tenants.SAMLApp, in *inbound, root *etree.Element) ([]byte, bool, error) {
	certs, err := appCerts(app)
	if err != nil {
		return nil, false, err
	}
	binding := in.Binding
	if binding == tenants.BindingHTTPRedirect && in.Signature == nil && root.SelectElement("Signature") != nil {
		// Signed inside the XML, as some SPs (crewjam/saml) sign their
		// HTTP-Redirect messages: verified as a POST's is.
		binding = tenants.BindingHTTPPost
	}
	switch binding {
	case tenants.BindingHTTPRedirect:
		if in.Signature == nil {
			break
		}
		if in.SigAlg != dsig.RSASHA256SignatureMethod {
			return nil, false, bad("the request is signed with %q; only RSA-SHA256 is accepted", tenants.Truncate(in.SigAlg, 80))
		}
		sum := sha256.Sum256([]byte(in.Signed))
		for _, c := range certs {
			if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], in.Signature) == nil {
				return in.XML, true, nil
			}
		}
		return nil, false, bad("the request's signature is not the application's")
	case tenants.BindingHTTPPost:
		sig := root.SelectElement("Signature")
		if sig == nil {
			break
		}
		if sm := sig.FindElement("./SignedInfo/SignatureMethod"); sm == nil || sm.SelectAttrValue("Algorithm", "") != dsig.RSASHA256SignatureMethod {
			return nil, false, bad("the request is not signed with RSA-SHA256")
		}
		for _, ki := range sig.SelectElements("KeyInfo") {
			sig.RemoveChild(ki)
		}
		for _, c := range certs {
			ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
			signed, err := ctx.Validate(root.Copy())
			if err != nil {
				continue
			}
			doc := etree.NewDocument()
			doc.SetRoot(signed)
			b, err := doc.WriteToBytes()
			if err != nil {
				return nil, false, err
			}
			return b, true, nil
		}
		return nil, false, bad("the request's signature is not the application's")
	}
	if app.RequireSignedRequests {
		return nil, false, bad("this application must sign its requests")
	}
	return in.XML, false, nil
}

// requestedContext is the RequestedAuthnContext of an AuthnRequest with
// every class it names (crewjam/saml's keeps one).
type requestedContext struct {
	RequestedAuthnContext *struct {
		Comparison string   `xml:",attr"`
		ClassRefs  []string `xml:"urn:oasis:names:tc:SAML:2.0:assertion AuthnContextClassRef"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol RequestedAuthnContext"`
}

// maxAuthnClasses caps the classes a request may name (each one capped
// at maxRequestID), for the stored request.
const maxAuthnClasses = 8

// authnContextOf reads the RequestedAuthnContext of the trusted XML x.
func authnContextOf(x []byte) (classes []string, comparison string, err error) {
	var rc requestedContext
	if err := xml.Unmarshal(x, &rc); err != nil {
		return nil, "", bad("the SAMLRequest is not an AuthnRequest")
	}
	if rc.RequestedAuthnContext == nil {
		return nil, "", nil
	}
	r := rc.RequestedAuthnContext
	switch r.Comparison {
	case "", compareExact, compareMinimum, compareMaximum, compareBetter:
	default:
		return nil, "", bad("the RequestedAuthnContext's Comparison is not one SAML defines")
	}
	if len(r.ClassRefs) > maxAuthnClasses {
		return nil, "", bad("the RequestedAuthnContext names more than %d classes", maxAuthnClasses)
	}
	for _, c := range r.ClassRefs {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > maxRequestID {
			return nil, "", bad("the RequestedAuthnContext names an empty or overlong class")
		}
		classes = append(classes, c)
	}
	if len(classes) == 0 {
		return nil, "", bad("the RequestedAuthnContext names no AuthnContextClassRef")
	}
	return classes, r.Comparison, nil
}

func appCerts(app *tenants.SAMLApp) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, s := range app.SigningCerts {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("samlidp: app %s: certificate: %w", app.ID, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("samlidp: app %s: certificate: %w", app.ID, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// check validates a (verified) AuthnRequest for app at now, received at
// sso (SAML Core §3.4.1, Bindings §3.4.5.2, Profiles §4.1.4.1): version,
// ID, IssueInstant, Destination (required when signed), the assertion
// consumer service (one of the application's, by index or exact URL, or
// its default), the binding, and the NameID format asked for.
func check(app *tenants.SAMLApp, req *saml.AuthnRequest, signed bool, relayState, sso string, now time.Time) (*authnRequest, error) {
	if req.Version != "2.0" {
		return nil, bad("the AuthnRequest is not SAML 2.0")
	}
	if req.ID == "" || len(req.ID) > maxRequestID {
		return nil, bad("the AuthnRequest has no ID, or one too long")
	}
	if req.IssueInstant.IsZero() || req.IssueInstant.Before(now.Add(-issueSkew)) || req.IssueInstant.After(now.Add(issueSkew)) {
		return nil, bad("the AuthnRequest is too old, or from the future (IssueInstant)")
	}
	if (signed || req.Destination != "") && req.Destination != sso {
		return nil, bad("the AuthnRequest is for another destination")
	}
	if req.ProtocolBinding != "" && req.ProtocolBinding != tenants.BindingHTTPPost {
		return nil, bad("only the HTTP-POST binding is supported for responses")
	}
	acs, err := pickACS(app, req.AssertionConsumerServiceIndex, req.AssertionConsumerServiceURL)
	if err != nil {
		return nil, err
	}
	out := &authnRequest{ID: req.ID, Issuer: req.Issuer.Value, ACS: acs, RelayState: relayState, Signed: signed}
	out.ForceAuthn = req.ForceAuthn != nil && *req.ForceAuthn
	out.IsPassive = req.IsPassive != nil && *req.IsPassive
	if req.NameIDPolicy != nil && req.NameIDPolicy.Format != nil {
		out.NameIDFormat = *req.NameIDPolicy.Format
	}
	return out, nil
}

// pickACS is the application's assertion consumer service the request
// names, by index or by exact URL, or its default (the lowest index).
func pickACS(app *tenants.SAMLApp, index, rawURL string) (tenants.SAMLEndpoint, error) {
	if len(app.ACS) == 0 {
		return tenants.SAMLEndpoint{}, bad("the application has no assertion consumer service")
	}
	switch {
	case index != "":
		for _, e := range app.ACS {
			if fmt.Sprint(e.Index) == index {
				return e, nil
			}
		}
		return tenants.SAMLEndpoint{}, bad("the AssertionConsumerServiceIndex is not one of the application's")
	case rawURL != "":
		for _, e := range app.ACS {
			if e.URL == rawURL {
				return e, nil
			}
		}
		return tenants.SAMLEndpoint{}, bad("the AssertionConsumerServiceURL is not registered for this application")
	}
	return app.ACS[0], nil
}

// nameIDFormat decides the NameID format of the answer: the application's,
// or one the SP asks for that Gatehouse can give (email, persistent,
// transient); another is InvalidNameIDPolicy.
func nameIDFormat(app *tenants.SAMLApp, asked string) (string, error) {
	switch asked {
	case "", tenants.NameIDUnspecified, app.NameIDFormat:
		return app.NameIDFormat, nil
	case tenants.NameIDEmail, tenants.NameIDPersistent, tenants.NameIDTransient:
		return asked, nil
	}
	return "", errors.New("NameID format not supported")
}
