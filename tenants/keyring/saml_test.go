package keyring_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants/keyring"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestSAMLCertificates checks that a tenant's SAML certificate is its RS256
// key's, the same on two nodes (two keyrings over one database), and that
// a rotation publishes the next key's certificate beside the current one.
func TestSAMLCertificates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := storetest.Open(t, db.URL(t))
		box := newBox(t)
		one, two := keyring.New(s, box, keyring.Config{PoolSize: -1}), keyring.New(s, box, keyring.Config{PoolSize: -1})
		tn := newTenant(t, s, one, "acme")
		signer, cert, err := keys(t, one, s, tn).SAMLSigner()
		if err != nil {
			t.Fatal(err)
		}
		_, again, err := keys(t, two, s, tn).SAMLSigner()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cert.Raw, again.Raw) {
			t.Fatal("two nodes made different certificates of one key")
		}
		if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
			t.Fatalf("self-signature: %v", err)
		}
		sum := sha256.Sum256([]byte("signed info"))
		sig, err := signer.Sign(nil, sum[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("the certificate is not the signing key's: %v", err)
		}
		if _, err := one.Rotate(context.Background(), current(t, s, tn), jose.RS256, false); err != nil {
			t.Fatal(err)
		}
		set := keys(t, one, s, tn)
		certs, err := set.SAMLCertificates()
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 2 || !bytes.Equal(certs[0].Raw, cert.Raw) {
			t.Fatalf("after a pre-published rotation: %d certificates, the first the current key's: %v", len(certs), len(certs) > 0 && bytes.Equal(certs[0].Raw, cert.Raw))
		}
	})
}
