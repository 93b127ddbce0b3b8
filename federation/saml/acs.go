package saml

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/federation"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// MaxResponseSize caps a SAML response, decoded. Real responses are a few
// KiB (tens with many groups); the server caps the whole request body at
// 64 KiB before this.
const MaxResponseSize = 40 << 10

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	bearer      = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// Reasons a response is refused, as the user and the audit log see them.
const (
	reasonNotPost      = "a SAML response is only accepted over the HTTP-POST binding"
	reasonNoResponse   = "the answer holds no SAMLResponse"
	reasonTooLarge     = "the SAML response is too large"
	reasonNotBase64    = "the SAML response is not base64"
	reasonNotXML       = "the SAML response is not well-formed XML"
	reasonDoctype      = "the SAML response holds a DOCTYPE"
	reasonNotResponse  = "the document is not a SAML Response"
	reasonWrapping     = "the SAML response must hold exactly one Response and one assertion (signature wrapping)"
	reasonEncAlgorithm = "the assertion is encrypted with an algorithm that is not accepted"
	reasonIDPInitiated = "an IdP-initiated response (no InResponseTo), and IdP-initiated login is off for this connection"
	reasonInResponseTo = "the response answers another request (InResponseTo is not this login's)"
	reasonUnsigned     = "neither the response nor its assertion is signed"
	reasonSignature    = "the signature is not valid for the IdP's certificate"
	reasonWeakAlg      = "the signature uses an algorithm that is not accepted (SHA-1?): use RSA-SHA256 or stronger"
	reasonEncrypted    = "the encrypted assertion cannot be decrypted and verified"
	reasonDestination  = "the response's Destination is not this connection's ACS URL"
	reasonRecipient    = "the assertion's Recipient is not this connection's ACS URL"
	reasonAudience     = "the assertion's Audience is not this service provider"
	reasonExpired      = "the response or its assertion has expired"
	reasonNotYetValid  = "the assertion is not yet valid"
	reasonIssuer       = "the response comes from another issuer than the configured IdP"
	reasonMalformed    = "the SAML response is not valid"
	reasonNoSubject    = "the assertion names no subject (NameID)"
	reasonTransient    = "the IdP sent a transient NameID, which changes at every login: configure a persistent NameID (or the email address) for this service provider"
	reasonNoBearer     = "the assertion has no bearer SubjectConfirmation"
	reasonReplay       = "the assertion was already used (replay)"
)

// Finish checks a SAML response posted to the connection's ACS for the
// login st records and returns the identity it asserts. In order: the
// binding and sizes; the document's shape (one Response, exactly one
// assertion, no DOCTYPE, accepted encryption algorithms); InResponseTo
// against st's AuthnRequest id; then crewjam's checks with our signature
// verifier (only the metadata's certificates, no SHA-1), Destination,
// Recipient, Audience, Issuer, validity window; then the subject; and last
// the replay cache, so that only an accepted assertion's id is spent.
func (c *Connector) Finish(ctx context.Context, st *tenants.FederationState, r *http.Request) (*federation.Identity, error) {
	buf, shape, err := readResponse(r)
	if err != nil {
		return nil, err
	}
	possible := []string{st.RequestID}
	switch {
	case shape.inResponseTo == "" && !c.cfg.AllowIDPInitiated:
		return nil, federation.Reject(reasonIDPInitiated, nil)
	case shape.inResponseTo == "":
		// Allowed: the assertion must then answer no request either.
		possible = []string{""}
	case st.RequestID == "" || !secret.Equal(shape.inResponseTo, st.RequestID):
		return nil, federation.Reject(reasonInResponseTo, nil)
	}
	return c.check(ctx, buf, shape, possible)
}

var _ federation.UnsolicitedConnector = (*Connector)(nil)

// FinishUnsolicited checks a SAML response that came with no state of ours
// (IdP-initiated login) and returns the identity it asserts. It makes every
// check Finish makes, in the same order, but one: there is no AuthnRequest
// to answer, so the Response and its assertion's SubjectConfirmationData
// must carry no InResponseTo at all (an assertion that answered a request
// cannot pass as unsolicited). A response that names a request is
// federation.ErrSolicited: it needed its login's state. With IdP-initiated
// login off for the connection, an unsolicited response is refused.
func (c *Connector) FinishUnsolicited(ctx context.Context, r *http.Request) (*federation.Identity, error) {
	buf, shape, err := readResponse(r)
	if err != nil {
		return nil, err
	}
	if shape.inResponseTo != "" {
		return nil, federation.ErrSolicited
	}
	if !c.cfg.AllowIDPInitiated {
		return nil, federation.Reject(reasonIDPInitiated, nil)
	}
	return c.check(ctx, buf, shape, []string{""})
}

// readResponse reads the SAMLResponse of an HTTP-POST binding request,
// within the size caps, and checks its shape.
func readResponse(r *http.Request) ([]byte, *shape, error) {
	if r.Method != http.MethodPost {
		return nil, nil, federation.Reject(reasonNotPost, nil)
	}
	if r.URL.Query().Has("SAMLResponse") || r.PostFormValue("SAMLart") != "" {
		return nil, nil, federation.Reject(reasonNotPost, nil)
	}
	raw := r.PostFormValue("SAMLResponse")
	if raw == "" {
		return nil, nil, federation.Reject(reasonNoResponse, nil)
	}
	if len(raw) > 2*base64.StdEncoding.EncodedLen(MaxResponseSize) {
		return nil, nil, federation.Reject(reasonTooLarge, nil)
	}
	buf, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, nil, federation.Reject(reasonNotBase64, err)
	}
	if len(buf) > MaxResponseSize {
		return nil, nil, federation.Reject(reasonTooLarge, fmt.Errorf("%d bytes", len(buf)))
	}
	shape, err := checkShape(buf)
	if err != nil {
		return nil, nil, err
	}
	return buf, shape, nil
}

// check runs crewjam's checks on a response of the right shape, with the
// request ids it may answer (possible), then the subject and the replay
// cache.
func (c *Connector) check(ctx context.Context, buf []byte, shape *shape, possible []string) (*federation.Identity, error) {
	assertion, err := c.parse(buf, possible)
	if err != nil {
		return nil, c.explain(err, shape)
	}
	if err := checkSubject(assertion); err != nil {
		return nil, err
	}
	if c.st.Store == nil {
		return nil, errors.New("saml: no replay cache (Settings.Store is nil)")
	}
	if len(assertion.ID) == 0 || len(assertion.ID) > 256 {
		return nil, federation.Reject(reasonMalformed, errors.New("assertion id missing or too long"))
	}
	err = c.st.Store.RecordSAMLAssertion(ctx, c.st.Connection.ID, assertion.ID, replayUntil(assertion, c.now()))
	if errors.Is(err, tenants.ErrAlreadyExists) {
		return nil, federation.Reject(reasonReplay, nil)
	}
	if err != nil {
		return nil, err
	}
	return c.identity(assertion), nil
}

func (c *Connector) now() time.Time {
	if c.st.Now != nil {
		return c.st.Now()
	}
	return time.Now()
}

// parse runs crewjam's checks. A panic in them (crewjam dereferences
// optional elements of a signed assertion) is a refusal, not a crash.
func (c *Connector) parse(buf []byte, possible []string) (a *saml.Assertion, err error) {
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("saml: panic parsing the response: %v", p)
		}
	}()
	return c.sp.ParseXMLResponse(buf, possible, c.sp.AcsURL)
}

// shape is what checkShape learnt of a response.
type shape struct {
	inResponseTo string
	// signed says the Response element has a Signature child.
	signed bool
	// encrypted says the assertion is an EncryptedAssertion.
	encrypted bool
}

// encryptionAlgorithms are the XML Encryption algorithms accepted for an
// EncryptedAssertion: AES (CBC, GCM) for the data, RSA-OAEP for the key.
// RSA PKCS#1 v1.5 key transport (Bleichenbacher) and 3DES are not.
var encryptionAlgorithms = map[string]bool{
	"http://www.w3.org/2001/04/xmlenc#aes128-cbc":     true,
	"http://www.w3.org/2001/04/xmlenc#aes192-cbc":     true,
	"http://www.w3.org/2001/04/xmlenc#aes256-cbc":     true,
	"http://www.w3.org/2009/xmlenc11#aes128-gcm":      true,
	"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p": true,
	"http://www.w3.org/2009/xmlenc11#rsa-oaep":        true,
}

// checkShape refuses, before any signature or decryption work, a document
// that is not one SAML Response holding exactly one assertion as a direct
// child. Every signature-wrapping attack (XSW1-8, and the two-assertion
// CVE-2022-41912) needs the signed original somewhere in the document next
// to the forged element: counting every element named Response, Assertion
// or EncryptedAssertion, in any namespace and at any depth, shuts them all
// out whatever the library would have made of them.
func checkShape(buf []byte) (*shape, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(buf); err != nil {
		return nil, federation.Reject(reasonNotXML, err)
	}
	for _, tok := range doc.Child {
		if _, ok := tok.(*etree.Directive); ok {
			return nil, federation.Reject(reasonDoctype, nil)
		}
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return nil, federation.Reject(reasonNotResponse, nil)
	}
	var responses, assertions int
	var assertion *etree.Element
	var walkErr error
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		switch el.Tag {
		case "Response":
			responses++
		case "Assertion", "EncryptedAssertion":
			assertions++
			assertion = el
		}
		for _, tok := range el.Child {
			switch t := tok.(type) {
			case *etree.Directive:
				walkErr = federation.Reject(reasonDoctype, nil)
			case *etree.Element:
				walk(t)
			}
		}
	}
	walk(root)
	if walkErr != nil {
		return nil, walkErr
	}
	if responses != 1 || assertions != 1 || assertion.Parent() != root || assertion.NamespaceURI() != nsAssertion {
		return nil, federation.Reject(reasonWrapping, fmt.Errorf("%d Response and %d assertion elements", responses, assertions))
	}
	s := &shape{inResponseTo: root.SelectAttrValue("InResponseTo", ""), encrypted: assertion.Tag == "EncryptedAssertion"}
	for _, ch := range root.ChildElements() {
		if ch.Tag == "Signature" && ch.NamespaceURI() == nsDSig {
			s.signed = true
		}
	}
	if s.encrypted {
		for _, em := range assertion.FindElements(".//EncryptionMethod") {
			if !encryptionAlgorithms[em.SelectAttrValue("Algorithm", "")] {
				return nil, federation.Reject(reasonEncAlgorithm, fmt.Errorf("algorithm %q", em.SelectAttrValue("Algorithm", "")))
			}
		}
	}
	return s, nil
}

// checkSubject requires a subject crewjam does not: a NameID that is not
// transient, and a bearer confirmation (crewjam checks Recipient and
// InResponseTo only on the confirmations there are, so none would pass).
func checkSubject(a *saml.Assertion) error {
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return federation.Reject(reasonNoSubject, nil)
	}
	if len(a.Subject.NameID.Value) > 512 {
		return federation.Reject(reasonMalformed, errors.New("NameID longer than 512 bytes"))
	}
	if a.Subject.NameID.Format == string(saml.TransientNameIDFormat) {
		return federation.Reject(reasonTransient, nil)
	}
	for _, sc := range a.Subject.SubjectConfirmations {
		if sc.Method == bearer && sc.SubjectConfirmationData != nil {
			return nil
		}
	}
	return federation.Reject(reasonNoBearer, nil)
}

// replayUntil is how long an assertion's id must be remembered: until no
// check would accept it any more, whichever of its limits is last, plus
// the clock skew crewjam allows.
func replayUntil(a *saml.Assertion, now time.Time) time.Time {
	until := a.IssueInstant.Add(saml.MaxIssueDelay)
	if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(until) {
		until = a.Conditions.NotOnOrAfter
	}
	if a.Subject != nil {
		for _, sc := range a.Subject.SubjectConfirmations {
			if sc.SubjectConfirmationData != nil && sc.SubjectConfirmationData.NotOnOrAfter.After(until) {
				until = sc.SubjectConfirmationData.NotOnOrAfter
			}
		}
	}
	until = until.Add(saml.MaxClockSkew)
	if floor := now.Add(saml.MaxIssueDelay + saml.MaxClockSkew); until.Before(floor) {
		until = floor
	}
	return until.UTC()
}

// errAudience is our audience rule's refusal.
var errAudience = errors.New("audience")

// checkAudience requires at least one AudienceRestriction, each naming
// this service provider (SAML core 2.5.1.4: the relying party must be in
// every one). crewjam accepts an assertion that has none.
func (c *Connector) checkAudience(a *saml.Assertion) error {
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
		return fmt.Errorf("%w: no AudienceRestriction", errAudience)
	}
	for _, ar := range a.Conditions.AudienceRestrictions {
		if ar.Audience.Value != c.st.EntityID {
			return fmt.Errorf("%w: %q is not %q", errAudience, ar.Audience.Value, c.st.EntityID)
		}
	}
	return nil
}

// crewjamReasons maps crewjam's failure messages (it has no typed errors
// for them) to reasons. The pinned version's messages; a test per reason
// catches a change.
var crewjamReasons = []struct{ contains, reason string }{
	{"signature element not present", reasonUnsigned},
	{"cannot validate signature", reasonSignature},
	{"failed to decrypt", reasonEncrypted},
	{"plaintext response contains invalid XML", reasonEncrypted},
	{"`Destination` does not match", reasonDestination},
	{"Recipient is not", reasonRecipient},
	{"`InResponseTo` does not match", reasonInResponseTo},
	{"possible request IDs", reasonInResponseTo},
	{"response Issuer does not match", reasonIssuer},
	{"issuer is not", reasonIssuer},
	{"not yet valid", reasonNotYetValid},
	{"expired", reasonExpired},
}

// explain turns a crewjam failure into a *federation.Rejection.
func (c *Connector) explain(err error, s *shape) error {
	cause := err
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		// Never ire.Response: it is the raw assertion.
		cause = ire.PrivateErr
	}
	reason := reasonMalformed
	var sigErr *signatureError
	var bad saml.ErrBadStatus
	switch {
	case errors.As(cause, &sigErr):
		reason = sigErr.reason
	case errors.Is(cause, errAudience):
		reason = reasonAudience
	case errors.As(cause, &bad):
		reason = "the IdP did not sign the user in (status " + statusName(bad.Status) + ")"
	default:
		msg := cause.Error()
		for _, m := range crewjamReasons {
			if strings.Contains(msg, m.contains) {
				reason = m.reason
				break
			}
		}
	}
	// An unsigned response around an encrypted assertion: whatever went
	// wrong from decryption to the assertion's signature gets one answer,
	// so that the refusals are no decryption oracle.
	if s.encrypted && !s.signed {
		switch reason {
		case reasonUnsigned, reasonSignature, reasonWeakAlg, reasonEncrypted, reasonMalformed:
			reason = reasonEncrypted
		}
	}
	return federation.Reject(reason, cause)
}

var statusChars = regexp.MustCompile(`[^A-Za-z0-9:._-]`)

// statusName shortens a SAML status code for display
// ("urn:oasis:names:tc:SAML:2.0:status:Requester" is "Requester"); it comes
// from an answer that may not be signed yet.
func statusName(s string) string {
	s = statusChars.ReplaceAllString(s, "")
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "unknown"
	}
	return s
}

// signatureError is our verifier's refusal.
type signatureError struct {
	reason string
	err    error
}

func (e *signatureError) Error() string {
	if e.err != nil {
		return "cannot validate signature: " + e.err.Error()
	}
	return "cannot validate signature"
}

func (e *signatureError) Unwrap() error { return e.err }

// signatureMethods and digestMethods are the XML Signature algorithms
// accepted: no SHA-1.
var (
	signatureMethods = map[string]bool{
		dsig.RSASHA256SignatureMethod: true, dsig.RSASHA384SignatureMethod: true, dsig.RSASHA512SignatureMethod: true,
		dsig.ECDSASHA256SignatureMethod: true, dsig.ECDSASHA384SignatureMethod: true, dsig.ECDSASHA512SignatureMethod: true,
	}
	digestMethods = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
	}
)

// verifier checks an enveloped signature against the IdP certificates of
// the metadata only: the KeyInfo of the signature is removed first, so no
// certificate or key the document carries is ever used or even compared;
// each configured certificate is tried in turn (a rollover has two). Every
// Signature in the element must use accepted algorithms.
type verifier struct {
	certs []*x509.Certificate
}

func (v verifier) VerifySignature(vc *dsig.ValidationContext, el *etree.Element) error {
	el = el.Copy()
	for _, sig := range el.FindElements(".//Signature") {
		if sig.NamespaceURI() != nsDSig {
			continue
		}
		sm := sig.FindElement("./SignedInfo/SignatureMethod")
		if sm == nil || !signatureMethods[sm.SelectAttrValue("Algorithm", "")] {
			return &signatureError{reason: reasonWeakAlg}
		}
		for _, dm := range sig.FindElements("./SignedInfo/Reference/DigestMethod") {
			if !digestMethods[dm.SelectAttrValue("Algorithm", "")] {
				return &signatureError{reason: reasonWeakAlg}
			}
		}
	}
	for _, sig := range el.SelectElements("Signature") {
		for _, ki := range sig.SelectElements("KeyInfo") {
			sig.RemoveChild(ki)
		}
	}
	var last error
	for _, cert := range v.certs {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		ctx.IdAttribute = vc.IdAttribute
		if vc.Clock != nil {
			ctx.Clock = vc.Clock
		}
		// Validate rewrites the Signature it checks: a fresh copy each time.
		_, err := ctx.Validate(el.Copy())
		if err == nil {
			return nil
		}
		last = err
	}
	return &signatureError{reason: reasonSignature, err: last}
}
