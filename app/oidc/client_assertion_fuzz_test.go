package oidc

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/httperr"
)

// FuzzClientAssertion sends arbitrary client assertions (private_key_jwt,
// RFC 7523) to the client authentication of the token endpoint, and
// arbitrary claims signed correctly with the client's registered key, with
// the JWS headers fuzzed too. It must never panic and never answer a 5xx:
// a refusal is invalid_request or invalid_client. What it accepts was
// signed with the registered key in its algorithm, names the client as iss
// and sub and the tenant as aud, and has not expired; the genuine
// assertion is accepted once.
func FuzzClientAssertion(f *testing.F) {
	fx := newFuzzFixture(f)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k1", Algorithm: "EdDSA", Use: "sig"}}})
	if err != nil {
		f.Fatal(err)
	}
	if err := fx.p.store.CreateClient(fx.ctx, &tenants.Client{ClientID: "svc", Name: "svc", ApplicationType: "web",
		TokenEndpointAuthMethod: tenants.AuthMethodPrivateKey, JWKS: string(jwks),
		GrantTypes: tenants.Strings{tenants.GrantClientCredentials}}, nil); err != nil {
		f.Fatal(err)
	}
	endpoint := fx.t.Issuer + PathToken
	sign := func(tb testing.TB, k ed25519.PrivateKey, kid, typ string, claims []byte) string {
		opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
		if typ != "" {
			opts = opts.WithType(jose.ContentType(typ))
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k}, opts)
		if err != nil {
			tb.Fatal(err)
		}
		obj, err := s.Sign(claims)
		if err != nil {
			tb.Fatal(err)
		}
		out, _ := obj.CompactSerialize()
		return out
	}
	now := time.Now()
	claims := func(extra map[string]any) []byte {
		c := map[string]any{"iss": "svc", "sub": "svc", "aud": endpoint, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": tenants.NewRandomID()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		b, _ := json.Marshal(c)
		return b
	}
	// The genuine assertion authenticates, once.
	genuine := sign(f, key, "k1", "", claims(nil))
	for i, want := range []bool{true, false} {
		_, err := fx.p.authenticate(fx.ctx, ClientAuth{ID: "svc", Assertion: genuine}, true, "", endpoint)
		if (err == nil) != want {
			f.Fatalf("the genuine assertion, use %d: %v", i+1, err)
		}
	}
	good := sign(f, key, "k1", "", claims(nil))
	parts := strings.Split(good, ".")
	f.Add(good, claims(nil), "k1", "")
	f.Add(sign(f, other, "k1", "", claims(nil)), claims(map[string]any{"aud": []string{"x", fx.t.Issuer}}), "", "JWT")
	f.Add("eyJhbGciOiJub25lIn0."+parts[1]+".", claims(map[string]any{"exp": nil}), "k2", "")
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0."+parts[1]+"."+parts[2], claims(map[string]any{"exp": now.Add(time.Hour).Unix()}), "k1", "")
	f.Add(parts[0]+"."+parts[1]+"."+parts[2]+"A", claims(map[string]any{"iss": "other"}), "k1", "")
	f.Add(parts[0]+".e30.", claims(map[string]any{"exp": "soon", "jti": strings.Repeat("j", 300)}), "k1", "")
	f.Add("a.b.c", []byte(`{"iss":"svc","sub":"svc","aud":1}`), "k1", "")
	f.Add("..", []byte(`[]`), "\x00", "\xff")
	c, err := fx.p.lookupClient(fx.ctx, "svc")
	if err != nil {
		f.Fatal(err)
	}
	challenge := basicChallenge(fx.t.Issuer)
	f.Fuzz(func(t *testing.T, raw string, claimBytes []byte, kid, typ string) {
		check := func(assertion string) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {AssertionTypeJWTBearer}, "client_assertion": {assertion}}
			r := httptest.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			creds, err := clientAuth(r, form, challenge)
			if err == nil {
				// authenticate, but for the jti's single use (the
				// database's, tested by the store's suite): what the
				// fuzzer finds is in the parsing and the checks.
				if creds.ID != "svc" {
					return // another client: looked up and refused as unknown
				}
				_, _, verr := fx.p.checkAssertion(fx.ctx, c, assertion, endpoint)
				if verr == nil {
					accepted(t, assertion, pub, fx.t.Issuer, endpoint)
					return
				}
				var shown errAssertion
				var hidden errNoKey
				if !errors.As(verr, &shown) && !errors.As(verr, &hidden) {
					t.Fatalf("refusal of %.80q: %T %v, which answers 500", assertion, verr, verr)
				}
				err = fx.p.assertionFailure(fx.ctx, c, verr, challenge)
			}
			var e *httperr.Error
			if !errors.As(err, &e) || e.Status >= 500 || (e.Code != httperr.InvalidClient && e.Code != httperr.InvalidRequest) {
				t.Fatalf("refusal of %.80q: %T %v", assertion, err, err)
			}
		}
		check(raw)
		if len(claimBytes) > 4096 || len(kid) > 64 || len(typ) > 64 {
			return
		}
		check(sign(t, key, kid, typ, claimBytes))
	})
}

// accepted checks an assertion authenticate accepted for c.
func accepted(t *testing.T, assertion string, pub ed25519.PublicKey, issuer, endpoint string) {
	t.Helper()
	jws, err := jose.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("accepted %q, not an EdDSA JWS: %v", assertion, err)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		t.Fatalf("accepted %q, not signed with the registered key", assertion)
	}
	var cl assertionClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		t.Fatalf("accepted claims %s: %v", payload, err)
	}
	if cl.Issuer != "svc" || cl.Subject != "svc" || cl.JTI == "" || cl.Expiry == nil {
		t.Fatalf("accepted claims %s", payload)
	}
	okAud := false
	for _, a := range cl.Audience {
		okAud = okAud || a == issuer || a == endpoint || a == issuer+PathToken
	}
	exp, err := numericDate(*cl.Expiry)
	if !okAud || err != nil || !time.Now().Before(exp.Add(assertionSkew)) || exp.After(time.Now().Add(maxAssertionLifetime+assertionSkew+time.Second)) {
		t.Fatalf("accepted claims %s", payload)
	}
}
