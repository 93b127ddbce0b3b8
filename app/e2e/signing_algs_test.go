package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
)

// signedWith checks that raw is a compact JWS with alg whose kid is a key
// of that alg in the tenant's JWKS, and returns its header.
func signedWith(t *testing.T, e *env, alg jose.SignatureAlgorithm, issuer, what, raw string) jose.Header {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("%s is not an %s JWS: %v", what, alg, err)
	}
	h := jws.Signatures[0].Protected
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(fetch(t, e, issuer+"/.well-known/jwks.json")), &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("%s: kid %q is %d keys of the JWKS, want 1", what, h.KeyID, len(keys))
	}
	k := keys[0]
	if k.Algorithm != string(alg) || k.Use != "sig" {
		t.Fatalf("%s: JWKS key %q has alg %q use %q, want %s sig", what, h.KeyID, k.Algorithm, k.Use, alg)
	}
	if _, err := jws.Verify(k.Key); err != nil {
		t.Fatalf("%s does not verify with its JWKS key: %v", what, err)
	}
	return h
}

// TestCodeFlowPerAlgorithm runs, for each algorithm a tenant can sign with
// besides RS256, a code flow for an application whose ID tokens and an API
// whose access tokens use it, both chosen through the management API, and
// checks each token the way its consumer does: the ID token with go-oidc's
// verifier allowing that algorithm only, the access token with go-oidc
// against the JWKS (typ at+jwt) and with oauth4webapi's strict RFC 9068
// resource server; the alg of each is the one chosen and its kid a key of
// that alg in the JWKS. The tenant's RS256 key keeps signing for the
// others.
func TestCodeFlowPerAlgorithm(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) { codeFlowWith(t, alg) })
	}
}

func codeFlowWith(t *testing.T, alg jose.SignatureAlgorithm) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		esAPI := "https://" + strings.ToLower(string(alg)) + ".acme.test"
		scope := "read:" + strings.ToLower(string(alg))
		if v := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/apis", map[string]any{
			"audience": esAPI, "signing_alg": string(alg), "scopes": []map[string]any{{"value": scope}}}); v["signing_alg"] != string(alg) {
			t.Fatalf("create API: %v", v)
		}
		app := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/applications", map[string]any{
			"kind": "web", "client_name": string(alg), "redirect_uris": []string{redirectURI}, "audiences": []string{esAPI},
			"id_token_signed_response_alg": string(alg)})
		if app["id_token_signed_response_alg"] != string(alg) {
			t.Fatalf("create application: %v", app)
		}
		client := &admin.Client{ClientID: app["client_id"].(string), ClientSecret: app["client_secret"].(string)}
		f.waitForClient(t, client.ClientID)

		tok, nonce := f.codeFlow(e.browser(), client, []string{"openid", scope}, oauth2.SetAuthURLParam("resource", esAPI))
		rawID, _ := tok.Extra("id_token").(string)
		if h := signedWith(t, e, alg, f.issuer, "ID token", rawID); h.Algorithm != string(alg) {
			t.Fatalf("ID token alg %q", h.Algorithm)
		}
		at := signedWith(t, e, alg, f.issuer, "access token", tok.AccessToken)
		if typ := at.ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
			t.Fatalf("access token typ = %v, want at+jwt", typ)
		}

		ctx := oidc.ClientContext(e.ctx(), e.httpClient(true))
		provider, err := oidc.NewProvider(ctx, f.issuer)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		var d struct {
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		if err := provider.Claims(&d); err != nil || !slices.Contains(d.Algs, string(alg)) {
			t.Fatalf("discovery id_token_signing_alg_values_supported = %v (%v)", d.Algs, err)
		}
		idt, err := provider.Verifier(&oidc.Config{ClientID: client.ClientID, SupportedSigningAlgs: []string{string(alg)}}).Verify(ctx, rawID)
		if err != nil {
			t.Fatalf("ID token refused by go-oidc (%s only): %v", alg, err)
		}
		if idt.Nonce != nonce || idt.Subject != f.userID {
			t.Fatalf("ID token nonce/sub = %q/%q", idt.Nonce, idt.Subject)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash over an %s token: %v", alg, err)
		}
		// An RS256-only verifier refuses it: the alg really is alg.
		if _, err := provider.Verifier(&oidc.Config{ClientID: client.ClientID, SupportedSigningAlgs: []string{oidc.RS256}}).Verify(ctx, rawID); err == nil {
			t.Fatalf("an RS256-only verifier accepted the %s ID token", alg)
		}
		keys := oidc.NewRemoteKeySet(ctx, f.issuer+"/.well-known/jwks.json")
		atv := oidc.NewVerifier(f.issuer, keys, &oidc.Config{ClientID: esAPI, SupportedSigningAlgs: []string{string(alg)}})
		if _, err := atv.Verify(ctx, tok.AccessToken); err != nil {
			t.Fatalf("access token refused by go-oidc (%s only): %v", alg, err)
		}

		// The fixture's RS256 application and API are untouched.
		rs, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "read:orders"}, oauth2.SetAuthURLParam("resource", f.api))
		for what, raw := range map[string]string{"RS256 ID token": rs.Extra("id_token").(string), "RS256 access token": rs.AccessToken} {
			if _, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256}); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}

		// A strict resource server in another language takes it too.
		claims, err := validateWithOAuth4WebAPI(t, f.issuer, esAPI, tok.AccessToken)
		if err != nil {
			t.Fatalf("oauth4webapi refused the %s access token: %v", alg, err)
		}
		if claims["sub"] != f.userID || !strings.Contains(claims["scope"].(string), scope) {
			t.Fatalf("oauth4webapi claims: %v", claims)
		}
	})
}
