package keyring

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// certID keys a key's certificate in Set.signers.
type certID struct{ kid string }

// certLifetime is how long a key's certificate says it is valid: SAML
// service providers trust the certificate of the IdP's metadata, not a CA,
// and the key's own rotation decides how long it signs.
const certLifetime = 20 * 365 * 24 * time.Hour

// Certificate returns the self-signed X.509 certificate of an RSA key, for
// SAML metadata and signatures (which name keys by certificate, not kid).
// It is made from the key alone — subject, serial and validity derive
// from its kid and creation — and RSA PKCS #1 v1.5 signatures are
// deterministic, so every node makes the same certificate.
func (s *Set) Certificate(k *Key) (*x509.Certificate, error) {
	if k.Algorithm != jose.RS256 {
		return nil, fmt.Errorf("keyring: a certificate is made for RS256 keys only, not %s", k.Algorithm)
	}
	if v, ok := s.signers.Load(certID{k.ID}); ok {
		return v.(*x509.Certificate), nil
	}
	priv, err := k.privateKey()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(k.ID))
	created := k.CreatedAt.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(sum[:16]),
		Subject:               pkix.Name{CommonName: "Gatehouse SAML signing key " + k.ID},
		NotBefore:             created.Add(-time.Hour),
		NotAfter:              created.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(noRandom{}, tmpl, tmpl, k.Public, priv)
	if err != nil {
		return nil, fmt.Errorf("keyring: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	v, _ := s.signers.LoadOrStore(certID{k.ID}, cert)
	return v.(*x509.Certificate), nil
}

// noRandom is the reader of a deterministic certificate: PKCS #1 v1.5
// needs no randomness, and the serial is given.
type noRandom struct{}

func (noRandom) Read(p []byte) (int, error) {
	return 0, errors.New("keyring: no randomness in a certificate")
}

// SAMLSigner returns the tenant's active RS256 key (the private half) and
// its certificate: what signs SAML responses and assertions (RSA-SHA256).
func (s *Set) SAMLSigner() (crypto.Signer, *x509.Certificate, error) {
	k, ok := s.Active(jose.RS256)
	if !ok {
		return nil, nil, errors.New("keyring: no active RS256 key")
	}
	priv, err := k.privateKey()
	if err != nil {
		return nil, nil, err
	}
	cert, err := s.Certificate(k)
	if err != nil {
		return nil, nil, err
	}
	return priv, cert, nil
}

// SAMLCertificates returns the certificates of every published RS256 key,
// the active one first: the IdP metadata lists them all, so that a service
// provider that fetched it before a rotation knows the next key already,
// and one that fetches it after still verifies what the old key signed.
func (s *Set) SAMLCertificates() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	active, _ := s.Active(jose.RS256)
	keys := s.Verifying()
	if active != nil {
		keys = append([]*Key{active}, keys...)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Algorithm != jose.RS256 || seen[k.ID] {
			continue
		}
		seen[k.ID] = true
		c, err := s.Certificate(k)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
