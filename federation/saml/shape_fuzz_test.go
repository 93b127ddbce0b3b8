package saml

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/gatehouse-id/gatehouse/federation"
)

// FuzzCheckShape feeds the SAML response shape check what an attacker
// posts to the ACS (after base64): it never panics, refuses with a
// federation rejection (never another error), and what it accepts is one
// protocol Response whose only Response or assertion element below it is
// one assertion, its direct child — the property that shuts out signature
// wrapping.
func FuzzCheckShape(f *testing.F) {
	const (
		p = `xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`
		a = `xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`
	)
	for _, seed := range []string{
		`<samlp:Response ` + p + ` ` + a + ` InResponseTo="id-1"><saml:Assertion ID="a1"><saml:Subject/></saml:Assertion></samlp:Response>`,
		`<samlp:Response ` + p + ` ` + a + `><saml:EncryptedAssertion><EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/></saml:EncryptedAssertion></samlp:Response>`,
		// XSW: the signed assertion hidden in an extension, a forged one beside it.
		`<samlp:Response ` + p + ` ` + a + `><samlp:Extensions><saml:Assertion ID="signed"/></samlp:Extensions><saml:Assertion ID="forged"/></samlp:Response>`,
		`<samlp:Response ` + p + ` ` + a + `><saml:Assertion><samlp:Response><saml:Assertion/></samlp:Response></saml:Assertion></samlp:Response>`,
		`<!DOCTYPE r [<!ENTITY x "y">]><samlp:Response ` + p + `/>`,
		`<samlp:Response ` + p + `><saml:Assertion xmlns:saml="urn:evil"/></samlp:Response>`,
		`<Response><Assertion/></Response>`,
		"\x00<", "", strings.Repeat("<a>", 2000),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		if len(buf) > MaxResponseSize {
			return // readResponse refuses these before the shape check
		}
		s, err := checkShape(buf)
		if err != nil {
			var r *federation.Rejection
			if !errors.As(err, &r) {
				t.Fatalf("refused with %T %v, not a federation rejection", err, err)
			}
			return
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(buf); err != nil {
			t.Fatalf("accepted a document etree cannot read: %v", err)
		}
		root := doc.Root()
		if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
			t.Fatalf("accepted a root %s in %q", root.Tag, root.NamespaceURI())
		}
		var found []*etree.Element
		for _, el := range root.FindElements(".//*") {
			if el.Tag == "Response" || el.Tag == "Assertion" || el.Tag == "EncryptedAssertion" {
				found = append(found, el)
			}
		}
		if len(found) != 1 || found[0].Parent() != root || found[0].NamespaceURI() != nsAssertion {
			t.Fatalf("accepted %d Response/assertion elements below the root", len(found))
		}
		if s.encrypted != (found[0].Tag == "EncryptedAssertion") {
			t.Fatalf("shape says encrypted=%v of a %s", s.encrypted, found[0].Tag)
		}
	})
}
