package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// accessClaims are the RFC 9068 claims of a Gatehouse access token.
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	JTI      string   `json:"jti"`
	AuthTime int64    `json:"auth_time"`
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// verifyAccessToken checks an access token offline, the way a resource
// server does: signature against the tenant's JWKS, iss, aud, exp (go-oidc),
// and the RFC 9068 header typ at+jwt.
func (f *fixture) verifyAccessToken(t *testing.T, raw, wantAudience string) accessClaims {
	t.Helper()
	ctx := oidc.ClientContext(f.e.ctx(), f.e.httpClient(true))
	keys := oidc.NewRemoteKeySet(ctx, f.issuer+"/.well-known/jwks.json")
	v := oidc.NewVerifier(f.issuer, keys, &oidc.Config{ClientID: wantAudience})
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		t.Fatalf("access token typ = %v, want at+jwt", typ)
	}
	var c accessClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != f.issuer || c.Subject == "" || c.ClientID == "" || c.JTI == "" || c.Exp <= c.Iat || c.Iat == 0 {
		t.Fatalf("access token claims incomplete: %+v", c)
	}
	return c
}

func (f *fixture) idTokenVerifier() *oidc.IDTokenVerifier {
	ctx := oidc.ClientContext(f.e.ctx(), f.e.httpClient(true))
	p, err := oidc.NewProvider(ctx, f.issuer)
	if err != nil {
		f.e.t.Fatalf("discovery: %v", err)
	}
	return p.Verifier(&oidc.Config{ClientID: f.web.ClientID})
}

func TestCodeFlowWithPKCE(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		start := time.Now().Add(-time.Second)
		tok, nonce := f.codeFlow(b, f.web, []string{"openid", "profile", "email", "offline_access", "read:orders"},
			oauth2.SetAuthURLParam("resource", f.api))

		ctx := oidc.ClientContext(e.ctx(), e.httpClient(true))
		provider, err := oidc.NewProvider(ctx, f.issuer)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: f.web.ClientID}).Verify(ctx, rawID)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		if idt.Nonce != nonce || idt.Subject != f.userID {
			t.Fatalf("ID token nonce/sub = %q/%q", idt.Nonce, idt.Subject)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
		var claims struct {
			Email         string   `json:"email"`
			EmailVerified *bool    `json:"email_verified"`
			Name          string   `json:"name"`
			AuthTime      int64    `json:"auth_time"`
			AMR           []string `json:"amr"`
			AZP           string   `json:"azp"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Email != f.email || claims.Name != "Ann Example" || claims.EmailVerified == nil || claims.AuthTime < start.Unix() || !slices.Contains(claims.AMR, "pwd") {
			t.Fatalf("ID token claims: %+v", claims)
		}
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		if got := tok.Extra("scope"); got != "openid profile email offline_access read:orders" {
			t.Fatalf("scope = %v", got)
		}

		at := f.verifyAccessToken(t, tok.AccessToken, f.api)
		if at.Subject != f.userID || at.ClientID != f.web.ClientID || !strings.Contains(at.Scope, "read:orders") || at.AuthTime == 0 {
			t.Fatalf("access token claims: %+v", at)
		}

		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Subject != f.userID || info.Email != f.email {
			t.Fatalf("userinfo = %+v", info)
		}

		// A public client: no secret, PKCE only.
		pub, _ := f.codeFlow(b, f.spa, []string{"openid", "email"})
		if _, err := provider.Verifier(&oidc.Config{ClientID: f.spa.ClientID}).Verify(ctx, pub.Extra("id_token").(string)); err != nil {
			t.Fatalf("public client ID token: %v", err)
		}
		if pub.RefreshToken != "" {
			t.Fatal("refresh token without offline_access")
		}
	})
}

func TestClientCredentials(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		status, hdr, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{
			"grant_type": {"client_credentials"}, "resource": {f.api},
		})
		if status != http.StatusOK {
			t.Fatalf("client_credentials: %d %v", status, body)
		}
		if hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control = %q", hdr.Get("Cache-Control"))
		}
		raw, err := tokenOf(body, "access_token")
		if err != nil {
			t.Fatal(err)
		}
		at := f.verifyAccessToken(t, raw, f.api)
		if at.Subject != f.worker.ClientID || at.ClientID != f.worker.ClientID || at.Scope != "read:orders" {
			t.Fatalf("claims: %+v", at)
		}
		if body["refresh_token"] != nil {
			t.Fatal("client_credentials must not issue a refresh token")
		}
		// The resource server's view: introspection says active.
		_, _, in := f.post("/oauth/introspect", f.worker.ClientID, f.worker.ClientSecret, url.Values{"token": {raw}})
		if in["active"] != true || in["client_id"] != f.worker.ClientID || in["scope"] != "read:orders" {
			t.Fatalf("introspection: %v", in)
		}

		for _, tc := range []struct {
			name     string
			form     url.Values
			wantCode string
		}{
			{"scope not granted", url.Values{"grant_type": {"client_credentials"}, "scope": {"write:orders"}}, "invalid_scope"},
			{"unknown resource", url.Values{"grant_type": {"client_credentials"}, "resource": {"https://other.test"}}, "invalid_target"},
			{"two resources", url.Values{"grant_type": {"client_credentials"}, "resource": {f.api, "https://other.test"}}, "invalid_target"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, tc.form)
				if status != http.StatusBadRequest || errorCode(body) != tc.wantCode {
					t.Fatalf("got %d %v, want 400 %s", status, body, tc.wantCode)
				}
			})
		}
		t.Run("public client", func(t *testing.T) {
			status, _, body := f.post("/oauth/token", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {f.spa.ClientID}})
			if status != http.StatusUnauthorized || errorCode(body) != "invalid_client" {
				t.Fatalf("got %d %v", status, body)
			}
		})
		t.Run("client without the grant", func(t *testing.T) {
			status, _, body := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
			if status != http.StatusBadRequest || errorCode(body) != "unauthorized_client" {
				t.Fatalf("got %d %v", status, body)
			}
		})
	})
}
