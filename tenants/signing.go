package tenants

import (
	"slices"
	"strings"
)

// The JWS algorithms (RFC 7518 §3, RFC 8037 §3.1) a tenant can sign with.
// RS256 is OpenID Connect's mandatory one: every tenant always has an RS256
// key; it gets a key of another algorithm when an API or a client selects it.
const (
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
	AlgES256 = "ES256" // ECDSA on P-256 with SHA-256
	AlgPS256 = "PS256" // RSASSA-PSS with SHA-256, 2048-bit keys
	AlgEdDSA = "EdDSA" // Ed25519

	// DefaultSigningAlgorithm signs what selects no algorithm.
	DefaultSigningAlgorithm = AlgRS256
)

// signingAlgorithms is the one list of supported algorithms: the API's
// enum, the CLI's help, the console's options and validation derive from
// it, through SigningAlgorithms.
var signingAlgorithms = []string{AlgRS256, AlgES256, AlgPS256, AlgEdDSA}

// SigningAlgorithms returns the JWS algorithms Gatehouse signs with,
// DefaultSigningAlgorithm first.
func SigningAlgorithms() []string { return slices.Clone(signingAlgorithms) }

// SigningAlgorithmLabel says in a few words what alg is, for the console's
// options and the API's enum descriptions.
func SigningAlgorithmLabel(alg string) string {
	switch alg {
	case AlgRS256:
		return "RS256: RSA (the default, supported everywhere)"
	case AlgES256:
		return "ES256: ECDSA P-256 (fast, small tokens)"
	case AlgPS256:
		return "PS256: RSA-PSS"
	case AlgEdDSA:
		return "EdDSA: Ed25519 (fastest; check that your libraries support it)"
	}
	return alg
}

// ValidateSigningAlgorithm checks that alg (case-sensitive, as JWS "alg"
// values are) is one of SigningAlgorithms; field names the input in the
// error. An empty alg is DefaultSigningAlgorithm.
func ValidateSigningAlgorithm(field, alg string) (string, error) {
	if alg == "" {
		return DefaultSigningAlgorithm, nil
	}
	if !slices.Contains(signingAlgorithms, alg) {
		return "", Invalid(field, "unsupported signing algorithm %q (%s)", Truncate(alg, 20), strings.Join(signingAlgorithms, ", "))
	}
	return alg, nil
}

// AccessTokenAlg is the JWS algorithm of the API's access tokens.
func (a *API) AccessTokenAlg() string { return orDefaultAlg(a.SigningAlg) }

// IDTokenAlg is the JWS algorithm of the client's ID tokens.
func (c *Client) IDTokenAlg() string { return orDefaultAlg(c.IDTokenSignedResponseAlg) }

func orDefaultAlg(alg string) string {
	if alg == "" {
		return DefaultSigningAlgorithm
	}
	return alg
}
