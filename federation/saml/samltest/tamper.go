package samltest

import (
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// Response is a SAML response taken apart, for a test to change.
type Response struct {
	Doc *etree.Document
}

// ParseResponse reads the SAMLResponse field of a response form.
func ParseResponse(samlResponse string) (*Response, error) {
	b, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	return &Response{Doc: doc}, nil
}

// Root is the Response element.
func (r *Response) Root() *etree.Element { return r.Doc.Root() }

// Encode returns the response as a SAMLResponse field.
func (r *Response) Encode() string {
	b, err := r.Doc.WriteToBytes()
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// AssertionElement is the Response's (first) Assertion or
// EncryptedAssertion child.
func (r *Response) AssertionElement() *etree.Element {
	for _, ch := range r.Root().ChildElements() {
		if ch.Tag == "Assertion" || ch.Tag == "EncryptedAssertion" {
			return ch
		}
	}
	return nil
}

// Encrypted says whether the assertion is encrypted.
func (r *Response) Encrypted() bool {
	a := r.AssertionElement()
	return a != nil && a.Tag == "EncryptedAssertion"
}

// Decrypt replaces the EncryptedAssertion with the signed Assertion inside
// it, with the service provider's key. The response's own signature no
// longer holds: remove it or sign again.
func (r *Response) Decrypt(key *rsa.PrivateKey) error {
	enc := r.AssertionElement()
	if enc == nil || enc.Tag != "EncryptedAssertion" {
		return errors.New("no EncryptedAssertion")
	}
	data := enc.FindElement("./EncryptedData")
	if data == nil {
		return errors.New("no EncryptedData")
	}
	plain, err := xmlenc.Decrypt(key, data)
	if err != nil {
		return fmt.Errorf("decrypt: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(plain); err != nil {
		return err
	}
	replace(enc, doc.Root())
	return nil
}

// Assertion returns the (plain) assertion.
func (r *Response) Assertion() (*saml.Assertion, error) {
	el := r.AssertionElement()
	if el == nil || el.Tag != "Assertion" {
		return nil, errors.New("no plain Assertion (decrypt first)")
	}
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	var a saml.Assertion
	return &a, xml.Unmarshal(b, &a)
}

// SetAssertion puts a in place of the response's assertion, signed by s
// (or unsigned when s is nil), the way samlidp signs. The response's own
// signature no longer holds.
func (r *Response) SetAssertion(a *saml.Assertion, s *Signer) error {
	return r.SetAssertionWith(a, s, dsig.RSASHA256SignatureMethod)
}

// SetAssertionWith is SetAssertion with another signature method.
func (r *Response) SetAssertionWith(a *saml.Assertion, s *Signer, method string) error {
	a.Signature = nil
	if s != nil {
		signed, err := s.sign(a.Element(), method)
		if err != nil {
			return err
		}
		a.Signature = signed.ChildElements()[len(signed.ChildElements())-1]
	}
	replace(r.AssertionElement(), a.Element())
	return nil
}

// RemoveResponseSignature removes the Response's own signature.
func (r *Response) RemoveResponseSignature() {
	removeSignature(r.Root())
}

// RemoveAssertionSignature removes the assertion's signature.
func (r *Response) RemoveAssertionSignature() {
	removeSignature(r.AssertionElement())
}

// SignResponse signs the Response element again with s (RSA-SHA256).
func (r *Response) SignResponse(s *Signer) error {
	root := r.Root()
	removeSignature(root)
	signed, err := s.sign(root, dsig.RSASHA256SignatureMethod)
	if err != nil {
		return err
	}
	sig := signed.ChildElements()[len(signed.ChildElements())-1]
	// After the Issuer, where the schema puts it.
	at := 0
	if iss := root.SelectElement("Issuer"); iss != nil {
		at = iss.Index() + 1
	}
	root.InsertChildAt(at, sig)
	return nil
}

// sign returns el with an enveloped signature by s appended.
func (s *Signer) sign(el *etree.Element, method string) (*etree.Element, error) {
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{s.Cert.Raw}, PrivateKey: s.Key, Leaf: s.Cert})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(method); err != nil {
		return nil, err
	}
	return ctx.SignEnveloped(el)
}

func removeSignature(el *etree.Element) {
	if el == nil {
		return
	}
	for _, sig := range el.SelectElements("Signature") {
		el.RemoveChild(sig)
	}
}

// replace puts el where old is.
func replace(old, el *etree.Element) {
	parent := old.Parent()
	at := old.Index()
	parent.RemoveChild(old)
	parent.InsertChildAt(at, el)
}
