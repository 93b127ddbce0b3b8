package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// dpopKey is a client's DPoP key pair, making proofs (RFC 9449 §4.2).
type dpopKey struct {
	t   *testing.T
	key crypto.Signer
	alg jose.SignatureAlgorithm
	jkt string
}

func newDPoPKey(t *testing.T, alg jose.SignatureAlgorithm) *dpopKey {
	var k crypto.Signer
	switch alg {
	case jose.EdDSA:
		_, k, _ = ed25519.GenerateKey(rand.Reader)
	default:
		k, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	tp, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{t: t, key: k, alg: alg, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proof makes a proof for method on uri, with nonce and the hash of
// accessToken when given.
func (k *dpopKey) proof(method, uri, nonce, accessToken string) string {
	k.t.Helper()
	claims := map[string]any{"jti": secret.Token(12), "htm": method, "htu": uri, "iat": time.Now().Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		s := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(s[:])
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", &jose.JSONWebKey{Key: k.key.Public()}))
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// postProof posts form to the fixture's path with client credentials
// (user, pass; the client_id alone in the body for a public client) and
// the DPoP header proof ("" for none).
func (f *fixture) postProof(path, user, pass string, form url.Values, proof string) (int, http.Header, map[string]any) {
	req, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if pass != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return f.e.doJSON(req)
}

// tokenWithDPoP asks the token endpoint with a proof of k, fetching the
// server's nonce first (use_dpop_nonce, RFC 9449 §8) as a client does.
func (f *fixture) tokenWithDPoP(t *testing.T, k *dpopKey, user, pass string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	uri := f.issuer + "/oauth/token"
	status, hdr, body := f.postProof("/oauth/token", user, pass, form, k.proof("POST", uri, "", ""))
	if status != http.StatusBadRequest || errorCode(body) != "use_dpop_nonce" || hdr.Get("DPoP-Nonce") == "" {
		t.Fatalf("a proof without the server's nonce: %d %v %v", status, hdr, body)
	}
	return f.postProof("/oauth/token", user, pass, form, k.proof("POST", uri, hdr.Get("DPoP-Nonce"), ""))
}

// nonceOf fetches the server's current DPoP nonce.
func (f *fixture) nonceOf(t *testing.T, k *dpopKey) string {
	t.Helper()
	_, hdr, _ := f.postProof("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}}, k.proof("POST", f.issuer+"/oauth/token", "", ""))
	return hdr.Get("DPoP-Nonce")
}

// userinfoWith calls userinfo with the Authorization header auth and the
// DPoP header proof ("" for none).
func (f *fixture) userinfoWith(auth, proof string) (int, http.Header) {
	req, _ := http.NewRequest(http.MethodGet, f.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", auth)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	status, hdr, _ := f.e.doJSON(req)
	return status, hdr
}

func cnfJKT(t *testing.T, token string) string {
	cnf, _ := jwtClaims(t, token)["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// TestDPoP: a public client binds its tokens to its DPoP key (RFC 9449):
// the nonce dance, a cnf.jkt access token of type DPoP, the DPoP scheme at
// userinfo with ath, the same token as Bearer refused (401), a refresh
// token that works only with a proof of the same key, and proofs refused
// when replayed, made with another key, or for another request.
func TestDPoP(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		k := newDPoPKey(t, jose.ES256)
		userinfo := f.issuer + "/userinfo"

		disc := fetch(t, e, f.issuer+"/.well-known/openid-configuration")
		if !strings.Contains(disc, `"dpop_signing_alg_values_supported":["ES256","RS256","EdDSA"]`) {
			t.Fatalf("discovery: %s", disc)
		}

		code, verifier := f.authCode(e.browser(), f.spa.ClientID, "openid offline_access")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}, "client_id": {f.spa.ClientID}}
		status, hdr, body := f.tokenWithDPoP(t, k, "", "", form)
		if status != http.StatusOK || body["token_type"] != "DPoP" || hdr.Get("DPoP-Nonce") == "" {
			t.Fatalf("code exchange with DPoP: %d %v %v", status, hdr, body)
		}
		at, rt := mustToken(t, body, "access_token"), mustToken(t, body, "refresh_token")
		if cnfJKT(t, at) != k.jkt {
			t.Fatalf("cnf.jkt = %q, want %q", cnfJKT(t, at), k.jkt)
		}

		// Userinfo: DPoP scheme with a proof of the key for this token.
		if s, _ := f.userinfoWith("DPoP "+at, k.proof("GET", userinfo, "", at)); s != http.StatusOK {
			t.Fatalf("userinfo with DPoP: %d", s)
		}
		replayed := k.proof("GET", userinfo, "", at)
		f.userinfoWith("DPoP "+at, replayed)
		other := newDPoPKey(t, jose.EdDSA)
		for _, tc := range []struct {
			name, auth, proof, scheme string
		}{
			{"as Bearer", "Bearer " + at, "", "Bearer"},
			{"as Bearer with a proof", "Bearer " + at, k.proof("GET", userinfo, "", at), "Bearer"},
			{"DPoP without a proof", "DPoP " + at, "", "DPoP"},
			{"proof replayed", "DPoP " + at, replayed, "DPoP"},
			{"proof of another key", "DPoP " + at, other.proof("GET", userinfo, "", at), "DPoP"},
			{"proof without ath", "DPoP " + at, k.proof("GET", userinfo, "", ""), "DPoP"},
			{"proof for another method", "DPoP " + at, k.proof("POST", userinfo, "", at), "DPoP"},
			{"proof for another endpoint", "DPoP " + at, k.proof("GET", f.issuer+"/oauth/token", "", at), "DPoP"},
		} {
			s, h := f.userinfoWith(tc.auth, tc.proof)
			if s != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), tc.scheme) {
				t.Fatalf("userinfo %s: %d %q", tc.name, s, h.Get("WWW-Authenticate"))
			}
		}

		// Introspection tells a resource server the key.
		_, _, in := f.post("/oauth/introspect", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {at}})
		if in["active"] != false {
			t.Fatalf("another client introspected the token: %v", in)
		}

		// The refresh token is bound to the key (a public client's).
		rform := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {f.spa.ClientID}}
		nonce := f.nonceOf(t, k)
		for name, proof := range map[string]string{"no proof": "", "another key": other.proof("POST", f.issuer+"/oauth/token", nonce, "")} {
			if s, _, b := f.postProof("/oauth/token", "", "", rform, proof); s != http.StatusBadRequest || errorCode(b) != "invalid_dpop_proof" {
				t.Fatalf("refresh with %s: %d %v", name, s, b)
			}
		}
		proof := k.proof("POST", f.issuer+"/oauth/token", nonce, "")
		status, _, body = f.postProof("/oauth/token", "", "", rform, proof)
		if status != http.StatusOK || body["token_type"] != "DPoP" || cnfJKT(t, mustToken(t, body, "access_token")) != k.jkt {
			t.Fatalf("refresh with the key: %d %v", status, body)
		}
		// The proofs without the key did not count as a reuse; the same
		// proof again is a replay.
		rform.Set("refresh_token", mustToken(t, body, "refresh_token"))
		if s, _, b := f.postProof("/oauth/token", "", "", rform, proof); s != http.StatusBadRequest || errorCode(b) != "invalid_dpop_proof" {
			t.Fatalf("replayed proof at the token endpoint: %d %v", s, b)
		}

		// Without DPoP, tokens stay bearer tokens.
		status, _, body = f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusOK || body["token_type"] != "Bearer" || cnfJKT(t, mustToken(t, body, "access_token")) != "" {
			t.Fatalf("client credentials without DPoP: %d %v", status, body)
		}
		// With it, a confidential client's tokens are bound too.
		status, _, body = f.tokenWithDPoP(t, k, f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusOK || body["token_type"] != "DPoP" || cnfJKT(t, mustToken(t, body, "access_token")) != k.jkt {
			t.Fatalf("client credentials with DPoP: %d %v", status, body)
		}
		_, _, in = f.post("/oauth/introspect", f.worker.ClientID, f.worker.ClientSecret, url.Values{"token": {mustToken(t, body, "access_token")}})
		if cnf, _ := in["cnf"].(map[string]any); in["active"] != true || in["token_type"] != "DPoP" || cnf["jkt"] != k.jkt {
			t.Fatalf("introspection of a bound token: %v", in)
		}
	})
}

// TestDPoPRefusals: malformed proofs, two proofs, a stale or foreign
// nonce, another tenant's endpoint, a client registered with
// dpop_bound_access_tokens that sends none, and a bound token at the
// management API (bearer only) are refused.
func TestDPoPRefusals(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/g.db")
	f := e.fixture("acme")
	beta := e.fixture("beta")
	k := newDPoPKey(t, jose.ES256)
	tokenURI := f.issuer + "/oauth/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	nonce := f.nonceOf(t, k)
	betaNonce := beta.nonceOf(t, k)
	if nonce == "" || betaNonce == "" || nonce == betaNonce {
		t.Fatalf("nonces %q %q", nonce, betaNonce)
	}
	for _, tc := range []struct {
		name, proof, code string
	}{
		{"garbage", "not.a.proof", "invalid_dpop_proof"},
		{"another tenant's nonce", k.proof("POST", tokenURI, betaNonce, ""), "use_dpop_nonce"},
		{"a made-up nonce", k.proof("POST", tokenURI, "nonce", ""), "use_dpop_nonce"},
		{"another tenant's token endpoint", k.proof("POST", beta.issuer+"/oauth/token", nonce, ""), "invalid_dpop_proof"},
		{"GET", k.proof("GET", tokenURI, nonce, ""), "invalid_dpop_proof"},
		{"huge", strings.Repeat("a", 20000), "invalid_dpop_proof"},
	} {
		status, _, body := f.postProof("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, cc, tc.proof)
		if status != http.StatusBadRequest || errorCode(body) != tc.code || body["access_token"] != nil {
			t.Fatalf("%s: %d %v", tc.name, status, body)
		}
	}
	// Two DPoP headers.
	req, _ := http.NewRequest(http.MethodPost, tokenURI, strings.NewReader(cc.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.worker.ClientID, f.worker.ClientSecret)
	req.Header.Add("DPoP", k.proof("POST", tokenURI, nonce, ""))
	req.Header.Add("DPoP", k.proof("POST", tokenURI, nonce, ""))
	if status, _, body := e.doJSON(req); status != http.StatusBadRequest || errorCode(body) != "invalid_dpop_proof" {
		t.Fatalf("two proofs: %d %v", status, body)
	}
	// A proof made for acme, replayed at beta: its endpoint is not beta's.
	status, _, body := f.postProof("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, cc, k.proof("POST", tokenURI, nonce, ""))
	if status != http.StatusOK {
		t.Fatalf("proof with the nonce: %d %v", status, body)
	}
	bound := mustToken(t, body, "access_token")
	if s, _, b := beta.postProof("/oauth/token", beta.worker.ClientID, beta.worker.ClientSecret, cc, k.proof("POST", tokenURI, betaNonce, "")); s != http.StatusBadRequest || errorCode(b) != "invalid_dpop_proof" {
		t.Fatalf("acme's proof at beta: %d %v", s, b)
	}
	// acme's bound token at beta's userinfo.
	if s, _ := beta.userinfoWith("DPoP "+bound, k.proof("GET", beta.issuer+"/userinfo", "", bound)); s != http.StatusUnauthorized {
		t.Fatalf("acme's token at beta's userinfo: %d", s)
	}

	// dpop_bound_access_tokens, set through the management API.
	api := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
	v := api.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/applications/"+f.worker.ClientID, map[string]any{"dpop_bound_access_tokens": true})
	if v["dpop_bound_access_tokens"] != true {
		t.Fatalf("application: %v", v)
	}
	eventually(t, 5*time.Second, "the client requires DPoP", func() bool {
		s, _, b := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, cc)
		return s == http.StatusBadRequest && errorCode(b) == "invalid_request"
	})
	if s, _, b := f.tokenWithDPoP(t, k, f.worker.ClientID, f.worker.ClientSecret, cc); s != http.StatusOK || b["token_type"] != "DPoP" {
		t.Fatalf("dpop_bound_access_tokens client with a proof: %d %v", s, b)
	}

	// The management API takes bearer tokens: a bound one is refused.
	mc, err := e.srv.Admin().CreateAdminClient(context.Background(), admin.CreateAdminClientInput{Name: "dpop", Scopes: []string{admin.ScopeTenantsRead}, TenantSlug: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	sys := &fixture{e: e, issuer: strings.TrimSuffix(mc.TokenURL, "/oauth/token"), worker: &admin.Client{ClientID: mc.ClientID, ClientSecret: mc.ClientSecret}}
	status, _, body = sys.tokenWithDPoP(t, k, mc.ClientID, mc.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "resource": {mc.Audience}})
	if status != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("management token with DPoP: %d %v", status, body)
	}
	mreq, _ := http.NewRequest(http.MethodGet, e.base+admin.APIPath+"/tenants/acme", nil)
	mreq.Header.Set("Authorization", "Bearer "+mustToken(t, body, "access_token"))
	if s, _, b := e.doJSON(mreq); s != http.StatusUnauthorized {
		t.Fatalf("a DPoP-bound token as Bearer at the management API: %d %v", s, b)
	}

	// The replay table is per tenant and swept: its rows go with the tenant.
	if n := countTable(t, e, "dpop_proofs", f.tenant.ID); n == 0 {
		t.Fatal("no proof recorded")
	}
	if err := e.srv.Admin().DeleteTenant(beta.adminCtx(), "beta"); err != nil {
		t.Fatal(err)
	}
	if n := countTable(t, e, "dpop_proofs", beta.tenant.ID); n != 0 {
		t.Fatalf("%d proofs of a deleted tenant", n)
	}
}

func countTable(t *testing.T, e *env, table, tenantID string) int64 {
	t.Helper()
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	q := "SELECT COUNT(*) FROM " + table + " WHERE tenant_id = ?"
	if e.store.Dialect() == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	if err := db.QueryRow(q, tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDPoPWithOAuth4WebAPI runs a public client's code exchange, userinfo
// and refresh through oauth4webapi's DPoP support (its own ES256 key, its
// own nonce handling), after a browser sign-in in Go.
func TestDPoPWithOAuth4WebAPI(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("oauth4webapi check skipped: node not found")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "resource-server"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oauth4webapi")); err != nil {
		t.Skip("oauth4webapi check skipped: run `npm ci --prefix app/e2e/testdata/resource-server` (.ci/run does)")
	}
	e := newEnv(t, "sqlite:"+t.TempDir()+"/g.db")
	f := e.fixture("acme")
	verifier, challenge := pkce()
	state := "st-" + secret.Token(6)
	cb := f.login(e.browser(), f.authorizeURL(f.spa.ClientID, url.Values{"scope": {"openid offline_access"}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "dpop.mjs", f.issuer, f.spa.ClientID, redirectURI+"?"+cb.Encode(), state, verifier)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpop.mjs: %v: %s", err, stderr.String())
	}
	var res struct {
		TokenType, AccessToken, RefreshedTokenType, RefreshedAccessToken, JKT string
		Userinfo                                                              map[string]any
		BearerStatus                                                          int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("dpop.mjs printed %s", out)
	}
	if !strings.EqualFold(res.TokenType, "DPoP") || !strings.EqualFold(res.RefreshedTokenType, "DPoP") {
		t.Fatalf("token types %q %q", res.TokenType, res.RefreshedTokenType)
	}
	if j := cnfJKT(t, res.AccessToken); j == "" || j != res.JKT || cnfJKT(t, res.RefreshedAccessToken) != j {
		t.Fatalf("cnf.jkt %q / %q, key %q", j, cnfJKT(t, res.RefreshedAccessToken), res.JKT)
	}
	if res.Userinfo["sub"] != f.userID || res.BearerStatus != http.StatusUnauthorized {
		t.Fatalf("userinfo %v, as Bearer %d", res.Userinfo, res.BearerStatus)
	}
}

// TestDPoPCodeBinding: an authorization request with dpop_jkt (RFC 9449
// §10), sent directly or pushed, binds its code to that key: redeemed
// without a proof, or with another key's, it is invalid_dpop_proof and not
// spent; with the key it gives tokens bound to it. A malformed dpop_jkt is
// refused at /authorize.
func TestDPoPCodeBinding(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		k, other := newDPoPKey(t, jose.ES256), newDPoPKey(t, jose.EdDSA)
		tokenURI := f.issuer + "/oauth/token"

		verifier, challenge := pkce()
		cb := f.login(e.browser(), f.authorizeURL(f.spa.ClientID, url.Values{"scope": {"openid"}, "dpop_jkt": {k.jkt},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}, "client_id": {f.spa.ClientID}}
		nonce := f.nonceOf(t, k)
		for name, proof := range map[string]string{"no proof": "", "another key": other.proof("POST", tokenURI, nonce, "")} {
			if s, _, b := f.postProof("/oauth/token", "", "", form, proof); s != http.StatusBadRequest || errorCode(b) != "invalid_dpop_proof" {
				t.Fatalf("code bound to a key, redeemed with %s: %d %v", name, s, b)
			}
		}
		status, _, body := f.postProof("/oauth/token", "", "", form, k.proof("POST", tokenURI, nonce, ""))
		if status != http.StatusOK || cnfJKT(t, mustToken(t, body, "access_token")) != k.jkt {
			t.Fatalf("code bound to a key, redeemed with it: %d %v", status, body)
		}

		// Pushed (RFC 9126), dpop_jkt is kept.
		verifier, challenge = pkce()
		_, _, par := f.postProof("/oauth/par", "", "", url.Values{"client_id": {f.spa.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "dpop_jkt": {k.jkt}}, "")
		uri, _ := par["request_uri"].(string)
		if uri == "" {
			t.Fatalf("PAR: %v", par)
		}
		cb = f.login(e.browser(), f.issuer+"/authorize?"+url.Values{"client_id": {f.spa.ClientID}, "request_uri": {uri}}.Encode())
		form.Set("code", cb.Get("code"))
		form.Set("code_verifier", verifier)
		if s, _, b := f.postProof("/oauth/token", "", "", form, other.proof("POST", tokenURI, nonce, "")); s != http.StatusBadRequest || errorCode(b) != "invalid_dpop_proof" {
			t.Fatalf("pushed code bound to a key, redeemed with another: %d %v", s, b)
		}

		// A malformed thumbprint: an error back at the redirect URI.
		cb = f.login(e.browser(), f.authorizeURL(f.spa.ClientID, url.Values{"dpop_jkt": {"not-a-thumbprint"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		if cb.Get("error") != "invalid_request" || cb.Get("code") != "" {
			t.Fatalf("malformed dpop_jkt: %v", cb)
		}
	})
}
