package keyring

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func testKey(tb testing.TB, alg jose.SignatureAlgorithm) *Key {
	tb.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return &Key{ID: string(alg) + "-kid", Algorithm: alg, Private: priv, Public: priv.Public(), ActivatesAt: time.Unix(0, 0)}
}

// claims is the size of a typical access token's claims.
var claims = []byte(`{"iss":"https://acme.example.com","sub":"8f7c1d3e-2b4a-4c6d-9e8f-0a1b2c3d4e5f","aud":["https://api.acme.test"],` +
	`"client_id":"oZIa68OJsNB0vvE2lqRo2g","scope":"read:orders write:orders","exp":1924992000,"iat":1924988400,"nbf":1924988400,"jti":"Jx2k9mQvT1sLw8yZ"}`)

// BenchmarkSign signs a typical JWT access token with the cached signer of
// each algorithm, as token issuance does (go test -bench Sign
// ./tenants/keyring).
func BenchmarkSign(b *testing.B) {
	for _, alg := range Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			set := &Set{keys: []*Key{testKey(b, alg)}, now: time.Now}
			b.ReportAllocs()
			for b.Loop() {
				signer, err := set.Signer(alg, "at+jwt")
				if err != nil {
					b.Fatal(err)
				}
				jws, err := signer.Sign(claims)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := jws.CompactSerialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies such a token with each algorithm's public key.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			k := testKey(b, alg)
			set := &Set{keys: []*Key{k}, now: time.Now}
			signer, err := set.Signer(alg, "at+jwt")
			if err != nil {
				b.Fatal(err)
			}
			jws, err := signer.Sign(claims)
			if err != nil {
				b.Fatal(err)
			}
			token, _ := jws.CompactSerialize()
			b.ReportAllocs()
			for b.Loop() {
				parsed, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{alg})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := parsed.Verify(k.Public); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newLRU(3)
	for i := range 10 {
		c.put(fmt.Sprint(i), &Set{})
		if _, ok := c.get("0"); !ok && i < 5 {
			t.Fatalf("after %d puts, the most recently used entry 0 was evicted", i+1)
		}
		if c.len() > 3 {
			t.Fatalf("%d entries, want at most 3", c.len())
		}
	}
	// 0 was read after every put until the fifth: it survived while
	// others went; since then it aged out.
	if _, ok := c.get("9"); !ok {
		t.Fatal("the newest entry is missing")
	}
	if _, ok := c.get("1"); ok {
		t.Fatal("an old entry survived")
	}
	c.remove("9")
	if _, ok := c.get("9"); ok {
		t.Fatal("a removed entry is still there")
	}
}

// TestSignerCachePerKey: a signer is cached per key and typ, so a rotation
// (another key) gets a new signer, and the typ header is the asked one.
func TestSignerCachePerKey(t *testing.T) {
	k1, k2 := testKey(t, jose.ES256), testKey(t, jose.ES256)
	k2.ID = "next"
	k2.ActivatesAt = time.Now().Add(time.Hour)
	retired := k2.ActivatesAt
	k1.RetiredAt = &retired
	now := time.Now()
	set := &Set{keys: []*Key{k2, k1}, now: func() time.Time { return now }}
	for _, tc := range []struct {
		at  time.Time
		kid string
	}{{now, k1.ID}, {retired, k2.ID}} {
		now = tc.at
		for _, typ := range []string{"JWT", "at+jwt"} {
			signer, err := set.Signer(jose.ES256, typ)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := signer.Sign(claims)
			if err != nil {
				t.Fatal(err)
			}
			compact, _ := jws.CompactSerialize()
			parsed, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			h := parsed.Signatures[0].Protected
			if h.KeyID != tc.kid || h.ExtraHeaders[jose.HeaderType] != typ {
				t.Errorf("at %v: kid %s typ %v, want %s %s", tc.at, h.KeyID, h.ExtraHeaders[jose.HeaderType], tc.kid, typ)
			}
		}
	}
}
