package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
)

const (
	testHTU = "http://acme.localhost:8080/oauth/token"
)

var testNow = time.Unix(1_800_000_000, 0)

// signProof signs claims as a DPoP proof with key (alg) and header typ,
// embedding jwk (the public key of key unless given).
func signProof(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, typ string, jwk *jose.JSONWebKey, claims any) string {
	t.Helper()
	if jwk == nil {
		jwk = &jose.JSONWebKey{Key: key.Public()}
	}
	opts := (&jose.SignerOptions{EmbedJWK: false}).WithHeader("jwk", jwk)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func proofClaims(over map[string]any) map[string]any {
	c := map[string]any{"jti": "j-1", "htm": "POST", "htu": testHTU, "iat": testNow.Unix()}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func ath(token string) string {
	s := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// TestParseDPoPProof checks each rule of RFC 9449 §4.3 that needs no state.
func TestParseDPoPProof(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const token = "an-access-token"
	for _, tc := range []struct {
		name   string
		proof  string
		method string
		uri    string
		token  string
		ok     bool
	}{
		{"ES256", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, "", true},
		{"RS256", signProof(t, rs, jose.RS256, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, "", true},
		{"EdDSA", signProof(t, ed, jose.EdDSA, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, "", true},
		{"htu with another case, a default port and a query", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htu": "HTTP://ACME.localhost:8080/oauth/token?x=1#f"})), "POST", testHTU, "", true},
		{"default port", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htm": "GET", "htu": "https://acme.test:443/userinfo"})), "GET", "https://acme.test/userinfo", "", true},
		{"ath", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htm": "GET", "ath": ath(token)})), "GET", testHTU, token, true},
		{"ath missing", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htm": "GET"})), "GET", testHTU, token, false},
		{"ath of another token", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htm": "GET", "ath": ath("other")})), "GET", testHTU, token, false},
		{"typ JWT", signProof(t, ec, jose.ES256, "JWT", nil, proofClaims(nil)), "POST", testHTU, "", false},
		{"no typ", signProof(t, ec, jose.ES256, "", nil, proofClaims(nil)), "POST", testHTU, "", false},
		{"ES384 key", signProof(t, ec384, jose.ES384, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, "", false},
		{"RSA 1024", signProof(t, rsSmall, jose.RS256, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, "", false},
		{"PS256", signProof(t, rs, jose.PS256, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, "", false},
		{"jwk of another key", signProof(t, ec, jose.ES256, "dpop+jwt", &jose.JSONWebKey{Key: other.Public()}, proofClaims(nil)), "POST", testHTU, "", false},
		{"private jwk", signProof(t, ec, jose.ES256, "dpop+jwt", &jose.JSONWebKey{Key: ec}, proofClaims(nil)), "POST", testHTU, "", false},
		{"jwk of another type", signProof(t, ec, jose.ES256, "dpop+jwt", &jose.JSONWebKey{Key: rs.Public()}, proofClaims(nil)), "POST", testHTU, "", false},
		{"no jti", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"jti": nil})), "POST", testHTU, "", false},
		{"huge jti", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"jti": strings.Repeat("j", 300)})), "POST", testHTU, "", false},
		{"htm GET at POST", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htm": "GET"})), "POST", testHTU, "", false},
		{"htm lower case", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htm": "post"})), "POST", testHTU, "", false},
		{"htu of another endpoint", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htu": "http://acme.localhost:8080/userinfo"})), "POST", testHTU, "", false},
		{"htu of another tenant", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htu": "http://beta.localhost:8080/oauth/token"})), "POST", testHTU, "", false},
		{"htu with a user", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htu": "http://u@acme.localhost:8080/oauth/token"})), "POST", testHTU, "", false},
		{"no htu", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"htu": nil})), "POST", testHTU, "", false},
		{"no iat", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"iat": nil})), "POST", testHTU, "", false},
		{"iat a string", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"iat": "1800000000"})), "POST", testHTU, "", false},
		{"iat too old", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"iat": testNow.Add(-6 * time.Minute).Unix()})), "POST", testHTU, "", false},
		{"iat in the future", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"iat": testNow.Add(2 * time.Minute).Unix()})), "POST", testHTU, "", false},
		{"iat huge", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"iat": 1e300})), "POST", testHTU, "", false},
		{"iat a little ahead", signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"iat": testNow.Add(30 * time.Second).Unix()})), "POST", testHTU, "", true},
		{"claims not an object", signProof(t, ec, jose.ES256, "dpop+jwt", nil, []string{"a"}), "POST", testHTU, "", false},
		{"empty", "", "POST", testHTU, "", false},
		{"garbage", "a.b.c", "POST", testHTU, "", false},
		{"too long", strings.Repeat("a", maxDPoPProof+1), "POST", testHTU, "", false},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x"}`)) + ".", "POST", testHTU, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseDPoPProof(tc.proof, tc.method, tc.uri, testNow, tc.token)
			if tc.ok != (err == nil) {
				t.Fatalf("parseDPoPProof: %v", err)
			}
			var shown errDPoP
			if err != nil && !errors.As(err, &shown) {
				t.Fatalf("a refusal that is not an errDPoP: %v", err)
			}
			if err == nil && (len(p.JKT) != 43 || p.JTI == "") {
				t.Fatalf("proof %+v", p)
			}
		})
	}
	// The thumbprint is the key's, whatever signs: RFC 7638's example
	// agrees with go-jose's (checked there); here two proofs of one key
	// agree and another key's differs.
	a, _ := parseDPoPProof(signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, testNow, "")
	b, _ := parseDPoPProof(signProof(t, ec, jose.ES256, "dpop+jwt", nil, proofClaims(map[string]any{"jti": "j-2"})), "POST", testHTU, testNow, "")
	c, _ := parseDPoPProof(signProof(t, other, jose.ES256, "dpop+jwt", nil, proofClaims(nil)), "POST", testHTU, testNow, "")
	if a.JKT != b.JKT || a.JKT == c.JKT {
		t.Fatalf("thumbprints %s %s %s", a.JKT, b.JKT, c.JKT)
	}
}

// FuzzDPoPProof feeds parseDPoPProof arbitrary proofs, and arbitrary claims
// signed correctly with an embedded key: it never panics, refuses with an
// errDPoP, and what it accepts names a key and a jti, for this method and
// endpoint, within the time window.
func FuzzDPoPProof(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	f.Add(signProof(f, ec, jose.ES256, "dpop+jwt", nil, proofClaims(nil)), []byte(`{"jti":"x","htm":"POST","htu":"`+testHTU+`","iat":1800000000}`))
	f.Add(signProof(f, ed, jose.EdDSA, "dpop+jwt", nil, proofClaims(map[string]any{"ath": ath("t")})), []byte(`{"jti":"x","htm":"POST","htu":"`+testHTU+`?q","iat":1.8e9,"ath":"x"}`))
	f.Add("eyJhbGciOiJub25lIn0.e30.", []byte(`[]`))
	f.Add("a.b.c", []byte(`{"iat":-1}`))
	f.Fuzz(func(t *testing.T, proof string, claims []byte) {
		check := func(proof string) {
			p, err := parseDPoPProof(proof, "POST", testHTU, testNow, "")
			if err != nil {
				var shown errDPoP
				if !errors.As(err, &shown) {
					t.Fatalf("refusal %T %v", err, err)
				}
				return
			}
			if len(p.JKT) != 43 || p.JTI == "" || len(p.JTI) > maxDPoPJTI || p.IAT.Before(testNow.Add(-dpopMaxAge)) || p.IAT.After(testNow.Add(dpopMaxSkew)) {
				t.Fatalf("accepted %+v", p)
			}
		}
		check(proof)
		if len(claims) > 4096 {
			return
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ec}, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", &jose.JSONWebKey{Key: ec.Public()}))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		signed, _ := obj.CompactSerialize()
		check(signed)
	})
}

// TestDPoPNonce: a nonce is the tenant's, good in its window and the next,
// and made alike by every node that has the key.
func TestDPoPNonce(t *testing.T) {
	now := testNow
	key := []byte("0123456789abcdef0123456789abcdef")
	p := &Provider{now: func() time.Time { return now }, nonceKey: key}
	other := &Provider{now: p.now, nonceKey: key}
	acme, beta := &tenants.Tenant{ID: "t-acme"}, &tenants.Tenant{ID: "t-beta"}
	n := p.dpopNonce(acme, now)
	if n == "" || n != other.dpopNonce(acme, now) || !other.dpopNonceValid(acme, n) {
		t.Fatal("two nodes disagree on the nonce")
	}
	if p.dpopNonceValid(beta, n) || p.dpopNonceValid(acme, "") || p.dpopNonceValid(acme, n+"x") {
		t.Fatal("a nonce of another tenant, none, or a changed one was accepted")
	}
	now = now.Add(dpopNonceWindow)
	if !p.dpopNonceValid(acme, n) {
		t.Fatal("a nonce of the window before was refused")
	}
	now = now.Add(dpopNonceWindow)
	if p.dpopNonceValid(acme, n) {
		t.Fatal("a nonce two windows old was accepted")
	}
	if (&Provider{now: p.now, nonceKey: []byte("another key of 32 bytes, exactly")}).dpopNonceValid(acme, p.dpopNonce(acme, now)) {
		t.Fatal("a nonce under another key was accepted")
	}
}
