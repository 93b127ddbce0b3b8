package e2e

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// signer signs client assertions with one private key.
type signer struct {
	key any
	kid string
	alg jose.SignatureAlgorithm
}

// public is the signer's public key as a JWK.
func (s signer) public() jose.JSONWebKey {
	var pub any
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		pub = k.Public()
	}
	return jose.JSONWebKey{Key: pub, KeyID: s.kid, Use: "sig"}
}

func jwksOf(keys ...jose.JSONWebKey) json.RawMessage {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	return b
}

// sign returns a compact JWS of claims.
func (s signer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := sig.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// claims are a good assertion of clientID for aud, for a minute.
func assertionClaims(clientID, aud string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "jti": secret.Token(16),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

func newSigners(t *testing.T) (rsaKey, ecKey, edKey signer) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, dk, _ := ed25519.GenerateKey(rand.Reader)
	return signer{rk, "rsa-1", jose.PS256}, signer{ek, "ec-1", jose.ES256}, signer{dk, "ed-1", jose.EdDSA}
}

// assertionForm is a request form authenticating with assertion.
func assertionForm(form url.Values, assertion string) url.Values {
	out := url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {assertion}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// TestPrivateKeyJWT registers private_key_jwt applications through the
// management API (inline jwks, and a jwks_uri the node fetches through its
// guarded upstream client) and checks, over HTTP, that the token,
// introspection and revocation endpoints accept exactly the assertions RFC
// 7523 §3 allows: x/oauth2's client credentials flow with an assertion
// works; a replayed jti, a wrong or another endpoint's aud, an expired or
// too long-lived assertion, alg none, HS256 keyed with the public key, the
// key (and kid) of another client, another tenant's client, and the wrong
// method are each invalid_client, 401; registration refuses what could
// not be verified.
func TestPrivateKeyJWT(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		// The client's key server, on loopback, reachable only because the
		// allow list names it.
		rsaKey, ecKey, edKey := newSigners(t)
		var published atomic.Value
		published.Store(jwksOf(ecKey.public()))
		var hits atomic.Int64
		ks := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write(published.Load().(json.RawMessage))
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go ks.Serve(ln)
		t.Cleanup(func() { ks.Close() })
		_, ksPort, _ := net.SplitHostPort(ln.Addr().String())
		e := newEnv(t, db.URL(t), withAllowHosts("keys.localhost:"+ksPort))
		e.names.route("keys.localhost", "127.0.0.1")
		e.names.route("internal.test", "127.0.0.1")

		f := e.fixture("acme")
		other := e.fixture("globex")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		base := "/tenants/acme/applications"
		machine := func(name string, extra map[string]any) map[string]any {
			b := map[string]any{"kind": "machine", "client_name": name, "audiences": []string{f.api}, "token_endpoint_auth_method": "private_key_jwt"}
			for k, v := range extra {
				b[k] = v
			}
			return b
		}

		// Registration.
		inline := c.must(t, http.StatusCreated, http.MethodPost, base, machine("inline", map[string]any{"jwks": jwksOf(rsaKey.public(), edKey.public())}))
		if inline["token_endpoint_auth_method"] != "private_key_jwt" || inline["client_secret"] != nil || inline["jwks"] == nil {
			t.Fatalf("registered: %v", inline)
		}
		byURI := c.must(t, http.StatusCreated, http.MethodPost, base, machine("by-uri", map[string]any{"jwks_uri": "http://keys.localhost:" + ksPort + "/jwks"}))
		otherKey := signer{key: mustEC(t), kid: "other-1", alg: jose.ES256}
		stranger := c.must(t, http.StatusCreated, http.MethodPost, base, machine("stranger", map[string]any{"jwks": jwksOf(otherKey.public())}))
		id, uriID, strangerID := inline["client_id"].(string), byURI["client_id"].(string), stranger["client_id"].(string)

		rsaPriv := rsaKey.key.(*rsa.PrivateKey)
		privJWK, _ := json.Marshal(jose.JSONWebKey{Key: rsaPriv, KeyID: "p"})
		pubDER, _ := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
		small, _ := rsa.GenerateKey(rand.Reader, 1024)
		for _, tc := range []struct {
			name, field string
			body        map[string]any
		}{
			{"client_secret_jwt with keys", "jwks", map[string]any{"kind": "machine", "client_name": "x", "token_endpoint_auth_method": "client_secret_jwt", "jwks": jwksOf(ecKey.public())}},
			{"no keys", "jwks", machine("x", nil)},
			{"both", "jwks", machine("x", map[string]any{"jwks": jwksOf(ecKey.public()), "jwks_uri": "https://keys.example.com/jwks"})},
			{"keys for a secret method", "jwks", map[string]any{"kind": "machine", "client_name": "x", "jwks": jwksOf(ecKey.public())}},
			{"a private key", "jwks", machine("x", map[string]any{"jwks": json.RawMessage(`{"keys":[` + string(privJWK) + `]}`)})},
			{"a symmetric key", "jwks", machine("x", map[string]any{"jwks": json.RawMessage(`{"keys":[{"kty":"oct","k":"` + base64.RawURLEncoding.EncodeToString(pubPEM) + `"}]}`)})},
			{"a short RSA key", "jwks", machine("x", map[string]any{"jwks": jwksOf(jose.JSONWebKey{Key: &small.PublicKey})})},
			{"an HS256 alg", "jwks", machine("x", map[string]any{"jwks": jwksOf(jose.JSONWebKey{Key: &rsaPriv.PublicKey, Algorithm: "HS256"})})},
			{"not a key set", "jwks", machine("x", map[string]any{"jwks": json.RawMessage(`{"keys":"no"}`)})},
			{"empty key set", "jwks", machine("x", map[string]any{"jwks": json.RawMessage(`{"keys":[]}`)})},
			{"jwks_uri on loopback", "jwks_uri", machine("x", map[string]any{"jwks_uri": "http://127.0.0.1:" + ksPort + "/jwks"})},
			{"jwks_uri on a loopback name not allowed", "jwks_uri", machine("x", map[string]any{"jwks_uri": "http://evil.localhost:" + ksPort + "/jwks"})},
			{"jwks_uri on the metadata address", "jwks_uri", machine("x", map[string]any{"jwks_uri": "https://169.254.169.254/jwks"})},
			{"jwks_uri over http", "jwks_uri", machine("x", map[string]any{"jwks_uri": "http://keys.example.com/jwks"})},
			{"jwks_uri with user info", "jwks_uri", machine("x", map[string]any{"jwks_uri": "https://u:p@keys.example.com/jwks"})},
		} {
			s, h, b := c.do(t, http.MethodPost, base, tc.body)
			wantProblem(t, tc.name, s, h, b, http.StatusBadRequest, tc.field)
		}
		// A private_key_jwt application has no secret to rotate.
		s, h, b := c.do(t, http.MethodPost, base+"/"+id+"/secret", map[string]any{})
		wantProblem(t, "rotate the secret of a private_key_jwt client", s, h, b, http.StatusBadRequest, "")

		tokenURL := f.issuer + "/oauth/token"
		// x/oauth2's client credentials flow, the assertion in the
		// endpoint parameters (x/oauth2 has no private_key_jwt of its own).
		cc := clientcredentials.Config{ClientID: id, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams,
			EndpointParams: url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {rsaKey.sign(t, assertionClaims(id, tokenURL))}}}
		tok, err := cc.Token(e.ctx())
		if err != nil {
			t.Fatalf("client credentials with private_key_jwt: %v", err)
		}
		// Every algorithm and form of aud the server offers.
		ps := rsaKey
		rs := signer{rsaKey.key, rsaKey.kid, jose.RS256}
		noKid := signer{edKey.key, "", jose.EdDSA}
		grant := url.Values{"grant_type": {"client_credentials"}}
		for _, tc := range []struct {
			name   string
			s      signer
			claims map[string]any
		}{
			{"PS256, aud the token endpoint", ps, assertionClaims(id, tokenURL)},
			{"RS256, aud the issuer", rs, assertionClaims(id, f.issuer)},
			{"EdDSA without a kid, aud a list", noKid, func() map[string]any {
				m := assertionClaims(id, "")
				m["aud"] = []string{"https://elsewhere.example", f.issuer}
				return m
			}()},
		} {
			if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, tc.s.sign(t, tc.claims))); s != http.StatusOK {
				t.Fatalf("%s: %d %v", tc.name, s, b)
			}
		}
		// Introspection and revocation take an assertion for themselves.
		introspect := url.Values{"token": {tok.AccessToken}}
		if s, _, b := f.post("/oauth/introspect", "", "", assertionForm(introspect, rsaKey.sign(t, assertionClaims(id, f.issuer+"/oauth/introspect")))); s != http.StatusOK || b["active"] != true {
			t.Fatalf("introspect: %d %v", s, b)
		}
		// A jwks_uri client: the set is fetched, then kept.
		for range 2 {
			if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, ecKey.sign(t, assertionClaims(uriID, tokenURL)))); s != http.StatusOK {
				t.Fatalf("jwks_uri client: %d %v", s, b)
			}
		}
		if n := hits.Load(); n != 1 {
			t.Fatalf("the key set was fetched %d times, want once", n)
		}

		refused := func(name string, form url.Values) {
			t.Helper()
			for _, path := range []string{"/oauth/token"} {
				s, h, b := f.post(path, "", "", form)
				if s != http.StatusUnauthorized || errorCode(b) != "invalid_client" || h.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: %d %v, want 401 invalid_client", name, s, b)
				}
			}
		}
		replayed := rsaKey.sign(t, assertionClaims(id, tokenURL))
		if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, replayed)); s != http.StatusOK {
			t.Fatalf("first use: %d %v", s, b)
		}
		refused("replayed jti", assertionForm(grant, replayed))
		with := func(s signer, clientID, aud string, change func(m map[string]any)) string {
			m := assertionClaims(clientID, aud)
			if change != nil {
				change(m)
			}
			return s.sign(t, m)
		}
		refused("wrong aud", assertionForm(grant, with(rsaKey, id, "https://acme.example.com/oauth/token", nil)))
		refused("aud of another endpoint", assertionForm(grant, with(rsaKey, id, f.issuer+"/oauth/revoke", nil)))
		refused("aud of another tenant", assertionForm(grant, with(rsaKey, id, other.issuer+"/oauth/token", nil)))
		refused("expired", assertionForm(grant, with(rsaKey, id, tokenURL, func(m map[string]any) {
			m["iat"], m["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-10*time.Minute).Unix()
		})))
		refused("exp an hour ahead", assertionForm(grant, with(rsaKey, id, tokenURL, func(m map[string]any) { m["exp"] = time.Now().Add(time.Hour).Unix() })))
		refused("no exp", assertionForm(grant, with(rsaKey, id, tokenURL, func(m map[string]any) { delete(m, "exp") })))
		refused("no jti", assertionForm(grant, with(rsaKey, id, tokenURL, func(m map[string]any) { delete(m, "jti") })))
		refused("nbf in the future", assertionForm(grant, with(rsaKey, id, tokenURL, func(m map[string]any) { m["nbf"] = time.Now().Add(2 * time.Minute).Unix() })))
		refused("iss another client", assertionForm(grant, with(rsaKey, id, tokenURL, func(m map[string]any) { m["iss"] = strangerID })))
		enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
		refused("alg none", assertionForm(grant, enc(map[string]any{"alg": "none", "typ": "JWT"})+"."+enc(assertionClaims(id, tokenURL))+"."))
		hs := signer{pubPEM, rsaKey.kid, jose.HS256}
		refused("HS256 keyed with the public key", assertionForm(grant, hs.sign(t, assertionClaims(id, tokenURL))))
		hsDER := signer{pubDER, rsaKey.kid, jose.HS256}
		refused("HS256 keyed with the public key's DER", assertionForm(grant, hsDER.sign(t, assertionClaims(id, tokenURL))))
		refused("the key and kid of another client", assertionForm(grant, with(otherKey, id, tokenURL, nil)))
		refused("a kid of the client, the key of another", assertionForm(grant, with(signer{otherKey.key, edKey.kid, jose.ES256}, id, tokenURL, nil)))
		refused("the alg of another key type", assertionForm(grant, with(signer{rsaKey.key, edKey.kid, jose.RS256}, id, tokenURL, nil)))
		refused("the client's own key for another client", assertionForm(grant, with(rsaKey, strangerID, tokenURL, nil)))
		refused("another tenant's client", assertionForm(grant, with(rsaKey, other.worker.ClientID, other.issuer+"/oauth/token", nil)))
		refused("an assertion for a secret client", assertionForm(grant, with(rsaKey, f.worker.ClientID, tokenURL, nil)))
		bad := assertionForm(grant, with(rsaKey, id, tokenURL, nil))
		bad.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		refused("another assertion type", bad)
		refused("client_id alone", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}})
		if s, _, b := f.post("/oauth/token", id, "made-up", grant); s != http.StatusUnauthorized || errorCode(b) != "invalid_client" {
			t.Errorf("Basic for a private_key_jwt client: %d %v", s, b)
		}
		// The same assertion, if not yet used, at the other tenant's token
		// endpoint: no such client there.
		if s, _, b := other.post("/oauth/token", "", "", assertionForm(grant, with(rsaKey, id, other.issuer+"/oauth/token", nil))); s != http.StatusUnauthorized {
			t.Errorf("at another tenant: %d %v", s, b)
		}

		// A rotated key at the jwks_uri: an unknown kid fetches the set
		// again, once, and no sooner than 30 s after the last fetch.
		rotated := signer{mustEC(t), "ec-2", jose.ES256}
		published.Store(jwksOf(ecKey.public(), rotated.public()))
		refused("a new kid right after a fetch", assertionForm(grant, rotated.sign(t, assertionClaims(uriID, tokenURL))))
		e.store.SetClock(func() time.Time { return time.Now().Add(31 * time.Second) })
		if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, rotated.sign(t, assertionClaims(uriID, tokenURL)))); s != http.StatusOK {
			t.Fatalf("rotated key: %d %v", s, b)
		}
		for range 5 {
			refused("made-up kid", assertionForm(grant, with(signer{otherKey.key, "made-up", jose.ES256}, uriID, tokenURL, nil)))
		}
		e.store.SetClock(time.Now)
		if n := hits.Load(); n != 2 {
			t.Fatalf("the key set was fetched %d times, want twice: unknown kids refetch at most every 30 s", n)
		}

		// A jwks_uri whose name resolves to loopback, not allowed: the
		// fetch is refused, and the client with it.
		internal := c.must(t, http.StatusCreated, http.MethodPost, base, machine("internal", map[string]any{"jwks_uri": "https://internal.test:" + ksPort + "/jwks"}))
		before := hits.Load()
		refused("jwks_uri resolving to loopback", assertionForm(grant, ecKey.sign(t, assertionClaims(internal["client_id"].(string), tokenURL))))
		if hits.Load() != before {
			t.Fatal("the key server was asked for a jwks_uri that resolves to loopback")
		}

		// Revocation with an assertion meant for it.
		if s, _, b := f.post("/oauth/revoke", "", "", assertionForm(url.Values{"token": {tok.AccessToken}}, rsaKey.sign(t, assertionClaims(id, f.issuer+"/oauth/revoke")))); s != http.StatusOK {
			t.Fatalf("revoke: %d %v", s, b)
		}
		if s, _, b := f.post("/oauth/introspect", "", "", assertionForm(introspect, rsaKey.sign(t, assertionClaims(id, f.issuer)))); s != http.StatusOK || b["active"] != false {
			t.Fatalf("introspect revoked: %d %v", s, b)
		}

		// Discovery names the method and its algorithms, from one list.
		var d map[string]any
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		strs := func(v any) []string {
			var out []string
			for _, x := range v.([]any) {
				out = append(out, x.(string))
			}
			return out
		}
		if got := strs(d["token_endpoint_auth_methods_supported"]); !slices.Equal(got, []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}) {
			t.Errorf("token_endpoint_auth_methods_supported = %v", got)
		}
		if got := strs(d["introspection_endpoint_auth_methods_supported"]); !slices.Equal(got, []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"}) {
			t.Errorf("introspection_endpoint_auth_methods_supported = %v", got)
		}
		for _, k := range []string{"token_endpoint_auth_signing_alg_values_supported", "introspection_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported"} {
			if got := strs(d[k]); !slices.Equal(got, []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"}) {
				t.Errorf("%s = %v", k, got)
			}
		}
	})
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
