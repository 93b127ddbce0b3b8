package tenants

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// assertionAlgorithms are the JWS algorithms a private_key_jwt client may
// sign its assertions with (RFC 7523 §3 item 9): asymmetric ones only, so
// that no HMAC can ever be keyed with a public key, and never none.
var assertionAlgorithms = []string{AlgRS256, AlgPS256, AlgES256, AlgEdDSA}

// AssertionAlgorithms returns the JWS algorithms of private_key_jwt
// assertions.
func AssertionAlgorithms() []string { return slices.Clone(assertionAlgorithms) }

// AlgHS256 is HMAC with SHA-256, keyed by the client secret: the one
// algorithm of client_secret_jwt assertions (OIDC Core §9). A client secret
// is 32 random bytes, base64url (43 octets): enough key for HS256 (RFC
// 7518 §3.2), not for HS384 or HS512.
const AlgHS256 = "HS256"

// SecretAssertionAlgorithms returns the JWS algorithms of
// client_secret_jwt assertions.
func SecretAssertionAlgorithms() []string { return []string{AlgHS256} }

// AssertionAlgorithmsFor returns the JWS algorithms an assertion of a
// client authenticating with method may be signed with: asymmetric ones
// for private_key_jwt (so that no HMAC is ever keyed with a public key),
// HS256 for client_secret_jwt, none for any other method.
func AssertionAlgorithmsFor(method string) []string {
	switch method {
	case AuthMethodPrivateKey:
		return AssertionAlgorithms()
	case AuthMethodSecretJWT:
		return SecretAssertionAlgorithms()
	}
	return nil
}

// AllAssertionAlgorithms returns every algorithm of a client assertion
// Gatehouse verifies, for discovery's
// token_endpoint_auth_signing_alg_values_supported (and the introspection
// and revocation endpoints' lists).
func AllAssertionAlgorithms() []string {
	return append(AssertionAlgorithms(), SecretAssertionAlgorithms()...)
}

// Bounds of a client's key set: a few keys (a rollover's worth), each
// small; the same bound holds for a set fetched from a jwks_uri.
const (
	MaxClientJWKSBytes = 64 << 10
	MaxClientJWKSKeys  = 20
	// MaxJWKSURILength bounds a registered jwks_uri.
	MaxJWKSURILength = 2048
)

// ParseClientKeys reads a client's JSON Web Key Set (RFC 7517 §5): at most
// MaxClientJWKSKeys public signing keys, each RSA of at least 2048 bits,
// EC P-256 or Ed25519, with use "sig" (or none) and, when an alg is named,
// one of AssertionAlgorithms. A private key is refused: a client
// registers only what verifies its signatures. field names the field of a
// ValidationError.
func ParseClientKeys(field string, raw []byte) (*jose.JSONWebKeySet, error) {
	if len(raw) > MaxClientJWKSBytes {
		return nil, Invalid(field, "at most %d KiB", MaxClientJWKSBytes>>10)
	}
	// Unmarshal key by key: one bad key is named, not lost in the set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, Invalid(field, "must be a JSON Web Key Set: {\"keys\": [...]}")
	}
	if len(set.Keys) == 0 {
		return nil, Invalid(field, "holds no key")
	}
	if len(set.Keys) > MaxClientJWKSKeys {
		return nil, Invalid(field, "at most %d keys", MaxClientJWKSKeys)
	}
	out := &jose.JSONWebKeySet{}
	kids := map[string]bool{}
	for i, k := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(k); err != nil {
			return nil, Invalid(field, "key %d is not a valid JSON Web Key", i+1)
		}
		if !key.IsPublic() {
			return nil, Invalid(field, "key %d is a private key: register only public keys", i+1)
		}
		if key.Use != "" && key.Use != "sig" {
			return nil, Invalid(field, "key %d is not a signing key (use %q)", i+1, key.Use)
		}
		if key.Algorithm != "" && !slices.Contains(assertionAlgorithms, key.Algorithm) {
			return nil, Invalid(field, "key %d names alg %q; assertions are signed with RS256, PS256, ES256 or EdDSA", i+1, key.Algorithm)
		}
		switch pk := key.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < 2048 {
				return nil, Invalid(field, "key %d: RSA keys have at least 2048 bits", i+1)
			}
		case *ecdsa.PublicKey:
			if pk.Curve != elliptic.P256() {
				return nil, Invalid(field, "key %d: EC keys are on P-256", i+1)
			}
		case ed25519.PublicKey:
		default:
			return nil, Invalid(field, "key %d: only RSA, EC P-256 and Ed25519 keys sign assertions", i+1)
		}
		if kids[key.KeyID] && key.KeyID != "" {
			return nil, Invalid(field, "kid %q is used twice", key.KeyID)
		}
		kids[key.KeyID] = true
		out.Keys = append(out.Keys, key)
	}
	return out, nil
}

// KeyAlgorithms returns the assertion algorithms key may verify: its alg
// when it names one, otherwise those of its type.
func KeyAlgorithms(key jose.JSONWebKey) []string {
	if key.Algorithm != "" {
		return []string{key.Algorithm}
	}
	switch key.Key.(type) {
	case *rsa.PublicKey:
		return []string{AlgRS256, AlgPS256}
	case *ecdsa.PublicKey:
		return []string{AlgES256}
	case ed25519.PublicKey:
		return []string{AlgEdDSA}
	}
	return nil
}
