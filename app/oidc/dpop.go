package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// DPoP (RFC 9449): proofs of possession of a client's key, at the token
// endpoint (tokens bound to the key: cnf.jkt) and at userinfo (the DPoP
// scheme, with ath).
const (
	// HeaderDPoP carries a proof; HeaderDPoPNonce the server's nonce.
	HeaderDPoP      = "DPoP"
	HeaderDPoPNonce = "DPoP-Nonce"
	// TokenTypeDPoP is the token_type of a DPoP-bound access token (§5).
	TokenTypeDPoP = "DPoP"
	dpopJWTTyp    = "dpop+jwt"
	// Error codes of RFC 9449 §12.2.
	errInvalidDPoPProof = "invalid_dpop_proof"
	errUseDPoPNonce     = "use_dpop_nonce"
	// A proof is accepted from dpopMaxAge before now to dpopMaxSkew after
	// (a client's clock may be a little ahead); its jti is kept as long.
	dpopMaxAge  = 5 * time.Minute
	dpopMaxSkew = time.Minute
	// A nonce is good for its window and the next one.
	dpopNonceWindow = 5 * time.Minute
	maxDPoPProof    = 8 << 10
	maxDPoPJTI      = 256
)

// DPoPAlgorithms are the JWS algorithms a DPoP proof may be signed with,
// as discovery lists them (dpop_signing_alg_values_supported).
func DPoPAlgorithms() []string {
	return []string{string(jose.ES256), string(jose.RS256), string(jose.EdDSA)}
}

var dpopAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

// dpopProof is what a verified proof says.
type dpopProof struct {
	// JKT is the base64url SHA-256 JWK thumbprint (RFC 7638) of its key.
	JKT   string
	JTI   string
	IAT   time.Time
	Nonce string
}

// errDPoP is why a proof was refused: its text is the error_description.
type errDPoP string

func (e errDPoP) Error() string { return string(e) }

// parseDPoPProof checks a DPoP proof JWT the way RFC 9449 §4.3 says, all
// but the nonce and the jti's uniqueness (the caller's, with state): one
// JWS, typ dpop+jwt, alg ES256, RS256 or EdDSA matching a public jwk in
// the header (RSA of 2048 bits or more, EC P-256, Ed25519), signed by it;
// jti, htm equal to method, htu equal to uri (scheme and host in any case,
// no query or fragment), iat within [now-dpopMaxAge, now+dpopMaxSkew], and
// for accessToken != "" ath its SHA-256 (§4.3 item 11).
func parseDPoPProof(proof, method, uri string, now time.Time, accessToken string) (*dpopProof, error) {
	if proof == "" || len(proof) > maxDPoPProof {
		return nil, errDPoP("the DPoP proof is missing or too long")
	}
	jws, err := jose.ParseSigned(proof, dpopAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errDPoP("the DPoP proof is not a JWS signed with ES256, RS256 or EdDSA")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != dpopJWTTyp {
		return nil, errDPoP("the DPoP proof's typ must be dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() || !keyFits(jwk.Key, jose.SignatureAlgorithm(h.Algorithm)) {
		return nil, errDPoP("the DPoP proof's jwk must be a public key of its alg")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return nil, errDPoP("the DPoP proof's signature does not verify with its jwk")
	}
	var c struct {
		JTI   string          `json:"jti"`
		HTM   string          `json:"htm"`
		HTU   string          `json:"htu"`
		IAT   json.RawMessage `json:"iat"`
		ATH   *string         `json:"ath"`
		Nonce string          `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errDPoP("the DPoP proof's claims are not a JSON object")
	}
	iat, err := strconv.ParseFloat(string(c.IAT), 64)
	switch {
	case c.JTI == "" || len(c.JTI) > maxDPoPJTI:
		return nil, errDPoP("the DPoP proof needs a jti")
	case c.HTM != method:
		return nil, errDPoP("the DPoP proof's htm is not this request's method")
	case !sameHTU(c.HTU, uri):
		return nil, errDPoP("the DPoP proof's htu is not this endpoint")
	case err != nil || math.IsNaN(iat) || math.IsInf(iat, 0) || iat < 0 || iat > math.MaxInt32*4:
		return nil, errDPoP("the DPoP proof needs an iat")
	}
	issued := time.Unix(int64(iat), 0)
	if issued.Before(now.Add(-dpopMaxAge)) || issued.After(now.Add(dpopMaxSkew)) {
		return nil, errDPoP("the DPoP proof's iat is too far from now: make a new proof")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if c.ATH == nil || subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(want)) != 1 {
			return nil, errDPoP("the DPoP proof's ath is not the hash of the access token")
		}
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errDPoP("the DPoP proof's jwk has no thumbprint")
	}
	return &dpopProof{JKT: base64.RawURLEncoding.EncodeToString(tp), JTI: c.JTI, IAT: issued, Nonce: c.Nonce}, nil
}

// keyFits reports whether key is a public key alg signs with, strong
// enough: RSA of 2048 bits or more, EC P-256, Ed25519.
func keyFits(key any, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == jose.RS256 && k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return alg == jose.ES256 && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == jose.EdDSA && len(k) == ed25519.PublicKeySize
	}
	return false
}

// sameHTU reports whether the htu of a proof names uri (RFC 9449 §4.3 item
// 9: ignoring query and fragment; scheme and host compared without case,
// RFC 3986 §6.2.2.1, default ports dropped).
func sameHTU(htu, uri string) bool {
	a, err := url.Parse(htu)
	if err != nil || a.Opaque != "" || a.User != nil {
		return false
	}
	b, err := url.Parse(uri)
	if err != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b)) && a.EscapedPath() == b.EscapedPath()
}

// hostPort is u's host with its port, without the scheme's default port.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" || (port == "443" && strings.EqualFold(u.Scheme, "https")) || (port == "80" && strings.EqualFold(u.Scheme, "http")) {
		return u.Hostname()
	}
	return u.Host
}

// SetDPoPNonceKey sets the key of the DPoP nonces (the same on every node):
// with one, the token endpoint requires a nonce of the server in every
// proof (RFC 9449 §8). Call it before serving.
func (p *Provider) SetDPoPNonceKey(key []byte) { p.nonceKey = key }

// dpopNonce is the nonce of tenant t for the window that holds at: an HMAC
// of the tenant and the window, so any node makes and checks it and a
// nonce of one tenant is nothing at another.
func (p *Provider) dpopNonce(t *tenants.Tenant, at time.Time) string {
	window := at.Unix() / int64(dpopNonceWindow/time.Second)
	return secret.MAC(p.nonceKey, "gatehouse dpop nonce", t.ID, strconv.FormatInt(window, 10))
}

// dpopNonceValid reports whether nonce is t's nonce of this window or the
// one before.
func (p *Provider) dpopNonceValid(t *tenants.Tenant, nonce string) bool {
	now := p.now()
	return nonce != "" && (secret.Equal(nonce, p.dpopNonce(t, now)) || secret.Equal(nonce, p.dpopNonce(t, now.Add(-dpopNonceWindow))))
}

// checkDPoP verifies the DPoP proof of request r to uri, if it has one
// (nil, nil if not): its form (parseDPoPProof), the server's nonce when
// requireNonce and a nonce key is set, and that its jti was not used with
// its key before, at any node. A refusal is invalid_dpop_proof, or
// use_dpop_nonce carrying the nonce to use.
func (p *Provider) checkDPoP(ctx context.Context, t *tenants.Tenant, r *http.Request, uri, accessToken string, requireNonce bool) (*dpopProof, error) {
	proofs := r.Header.Values(HeaderDPoP)
	switch len(proofs) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, oauthErr(errInvalidDPoPProof, "send one DPoP proof")
	}
	proof, err := parseDPoPProof(proofs[0], r.Method, uri, p.now(), accessToken)
	if err != nil {
		return nil, oauthErr(errInvalidDPoPProof, "%s", err.Error())
	}
	if requireNonce && p.nonceKey != nil && !p.dpopNonceValid(t, proof.Nonce) {
		e := oauthErr(errUseDPoPNonce, "the DPoP proof must carry the server's nonce (DPoP-Nonce)")
		e.DPoPNonce = p.dpopNonce(t, p.now())
		return nil, e
	}
	err = p.store.UseDPoPProof(ctx, proof.JKT, proof.JTI, proof.IAT.Add(dpopMaxAge+dpopMaxSkew))
	if errors.Is(err, tenants.ErrAlreadyExists) {
		return nil, oauthErr(errInvalidDPoPProof, "the DPoP proof was used before: make a new one for every request")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return proof, nil
}

// tokenDPoP checks the DPoP proof of a token request by client c: one is
// required when the client registered dpop_bound_access_tokens (RFC 9449
// §5.2), and carries the server's nonce.
func (p *Provider) tokenDPoP(ctx context.Context, t *tenants.Tenant, c *client, r *http.Request) (*dpopProof, error) {
	proof, err := p.checkDPoP(ctx, t, r, t.Issuer+PathToken, "", true)
	if err != nil {
		return nil, err
	}
	if proof == nil && c.DPoPBoundAccessTokens {
		return nil, oauthErr(httperr.InvalidRequest, "this client must send a DPoP proof (dpop_bound_access_tokens)")
	}
	return proof, nil
}

type dpopKey struct{}

// withDPoPKey says the token request of ctx proved possession of the key of
// thumbprint jkt: what it issues is bound to that key.
func withDPoPKey(ctx context.Context, jkt string) context.Context {
	return context.WithValue(ctx, dpopKey{}, jkt)
}

// dpopKeyFrom is the thumbprint of the DPoP key of the token request of
// ctx, "" for none.
func dpopKeyFrom(ctx context.Context) string {
	jkt, _ := ctx.Value(dpopKey{}).(string)
	return jkt
}

// tokenTypeFor is the token_type of an access token issued in ctx: DPoP
// for one bound to a key, else Bearer.
func tokenTypeFor(ctx context.Context) string {
	if dpopKeyFrom(ctx) != "" {
		return TokenTypeDPoP
	}
	return "Bearer"
}

// refreshKeyFor is the key a new family's refresh tokens are bound to: a
// public client's DPoP key (RFC 9449 §5); a confidential client's refresh
// tokens are bound to its credentials already.
func refreshKeyFor(ctx context.Context, c *client) string {
	if c.Public() {
		return dpopKeyFrom(ctx)
	}
	return ""
}

// dpopChallenge is the WWW-Authenticate of a resource's refusal to a DPoP
// request (RFC 9449 §7.1).
func dpopChallenge(code string) string {
	c := `DPoP algs="` + strings.Join(DPoPAlgorithms(), " ") + `"`
	if code != "" {
		c += `, error="` + code + `"`
	}
	return c
}

// validJKT reports whether s has the form of a base64url SHA-256 JWK
// thumbprint (RFC 7638): 43 characters decoding to 32 bytes.
func validJKT(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
