package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestRedirectURIMismatchShowsErrorPage(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		for _, tc := range []struct{ name, uri string }{
			{"extra path", redirectURI + "/x"},
			{"extra query", redirectURI + "?next=/"},
			{"case", strings.ToUpper(redirectURI)},
			{"fragment", redirectURI + "#f"},
			{"other host", "https://evil.test/cb"},
			{"missing", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"redirect_uri": {tc.uri}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
				if p.status != http.StatusBadRequest || p.location != "" {
					t.Fatalf("got %d Location=%q, want 400 and no redirect", p.status, p.location)
				}
				if !strings.Contains(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "not valid") {
					t.Fatalf("want an HTML error page, got %q:\n%s", p.header.Get("Content-Type"), p.body)
				}
			})
		}
		t.Run("unknown client", func(t *testing.T) {
			p := b.get(f.authorizeURL("no-such-client", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
			if p.status != http.StatusBadRequest || p.location != "" {
				t.Fatalf("got %d %q", p.status, p.location)
			}
		})
	})
}

func TestAuthorizeErrorsRedirectWithIss(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		pk := func(v url.Values) url.Values {
			v.Set("code_challenge", challenge)
			v.Set("code_challenge_method", "S256")
			v.Set("state", "s1")
			return v
		}
		for _, tc := range []struct {
			name   string
			params url.Values
			want   string
		}{
			{"implicit", pk(url.Values{"response_type": {"token"}}), "unsupported_response_type"},
			{"id_token", pk(url.Values{"response_type": {"id_token"}}), "unsupported_response_type"},
			{"unknown scope", pk(url.Values{"scope": {"openid admin:all"}}), "invalid_scope"},
			{"scope not granted", pk(url.Values{"scope": {"openid write:orders"}, "resource": {"https://api.other.test"}}), "invalid_target"},
			{"prompt none without session", pk(url.Values{"prompt": {"none"}}), "login_required"},
			{"request object", pk(url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}), "request_not_supported"},
			{"bad max_age", pk(url.Values{"max_age": {"-1"}}), "invalid_request"},
			{"repeated parameter", pk(url.Values{"scope": {"openid", "email"}}), "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.get(f.authorizeURL(f.web.ClientID, tc.params))
				if p.status != http.StatusFound {
					t.Fatalf("status %d:\n%s", p.status, p.body)
				}
				u, err := url.Parse(p.location)
				if err != nil || !strings.HasPrefix(p.location, redirectURI) {
					t.Fatalf("Location %q", p.location)
				}
				q := u.Query()
				if q.Get("error") != tc.want || q.Get("state") != "s1" || q.Get("iss") != f.issuer {
					t.Fatalf("got %v, want error=%s state=s1 iss=%s", q, tc.want, f.issuer)
				}
			})
		}
	})
}

func TestClientAuthenticationFailure(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		code, verifier := f.authCode(e.browser(), f.web.ClientID, "openid")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		for _, tc := range []struct {
			name, user, pass string
			post             url.Values
		}{
			{"wrong secret (basic)", f.web.ClientID, "wrong", nil},
			{"unknown client (basic)", "nobody", "secret", nil},
			{"another client's secret (basic)", f.web.ClientID, f.worker.ClientSecret, nil},
			{"wrong secret (post)", "", "", url.Values{"client_id": {f.web.ClientID}, "client_secret": {"wrong"}}},
			{"no secret for a confidential client", "", "", url.Values{"client_id": {f.web.ClientID}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				fm := url.Values{}
				for k, v := range form {
					fm[k] = v
				}
				for k, v := range tc.post {
					fm[k] = v
				}
				status, hdr, body := f.post("/oauth/token", tc.user, tc.pass, fm)
				if status != http.StatusUnauthorized || errorCode(body) != "invalid_client" {
					t.Fatalf("got %d %v, want 401 invalid_client", status, body)
				}
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
					t.Fatalf("WWW-Authenticate = %q", hdr.Get("WWW-Authenticate"))
				}
			})
		}
		// The failures spent nothing: the code still works.
		if status, body := f.exchange(code, verifier); status != http.StatusOK {
			t.Fatalf("code after failed client auth: %d %v", status, body)
		}
	})
}

func TestUnknownHostIs404(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		c := e.httpClient(false)
		for _, host := range []string{"nope.localhost", "evil.test", "acme.localhost.evil.test", "acme.evil.test", "x.acme.localhost"} {
			resp, err := c.Get("http://" + host + ":" + e.port + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: status %d, want 404", host, resp.StatusCode)
			}
		}
		resp, err := c.Get("http://ACME.localhost:" + e.port + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("known tenant (host in upper case): %d", resp.StatusCode)
		}
	})
}

func TestKeyRotationKeepsIssuedTokensValid(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		before, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "offline_access"})
		oldID := before.Extra("id_token").(string)
		tctx := f.adminCtx()
		k, err := e.srv.Admin().RotateKey(tctx, admin.RotateKeyInput{Now: true})
		if err != nil {
			t.Fatal(err)
		}
		// Fresh verifier (no cached JWKS): the old ID token and access token
		// still verify, and new tokens are signed by the new key.
		if _, err := f.idTokenVerifier().Verify(oidc.ClientContext(e.ctx(), e.httpClient(true)), oldID); err != nil {
			t.Fatalf("ID token minted before rotation: %v", err)
		}
		f.verifyAccessToken(t, before.AccessToken, f.issuer+"/userinfo")
		if f.introspect(before.AccessToken)["active"] != true {
			t.Fatal("access token minted before rotation is no longer active")
		}
		status, body := f.refresh(before.RefreshToken)
		if status != http.StatusOK {
			t.Fatalf("refresh after rotation: %d %v", status, body)
		}
		after := mustToken(t, body, "access_token")
		if kid := kidOf(t, after); kid != k.KID {
			t.Fatalf("new token kid %s, want the new key %s", kid, k.KID)
		}
		if kidOf(t, before.AccessToken) == k.KID {
			t.Fatal("old token already had the new kid")
		}
	})
}

func TestCSRFTokenRequired(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		p = b.get(resolve(f.issuer, p.location))
		id := field(t, idField, p.body)
		token := field(t, csrfField, p.body)
		cred := url.Values{"id": {id}, "email": {f.email}, "password": {f.password}}
		for _, tc := range []struct {
			name   string
			csrf   string
			origin string
		}{
			{"missing", "", ""},
			{"forged", "AAAA" + token[4:], ""},
			{"cross-site origin", token, "https://evil.test"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range cred {
					form[k] = v
				}
				if tc.csrf != "" {
					form.Set("csrf_token", tc.csrf)
				}
				req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tc.origin != "" {
					req.Header.Set("Origin", tc.origin)
				}
				p := b.do(req)
				if p.status != http.StatusForbidden {
					t.Fatalf("status %d, want 403", p.status)
				}
				if len(p.header.Values("Set-Cookie")) != 0 {
					t.Fatalf("a refused form set cookies: %v", p.header.Values("Set-Cookie"))
				}
				ar, err := e.store.AuthRequestByID(tenants.WithTenant(context.Background(), f.tenant), id)
				if err != nil || ar.UserID != "" {
					t.Fatalf("a refused form changed the auth request: %v %+v", err, ar)
				}
			})
		}
		// Another browser cannot use this browser's request, even with its token.
		other := e.browser()
		if p := other.get(f.issuer + "/login?id=" + url.QueryEscape(id)); p.status != http.StatusBadRequest || !strings.Contains(p.body, "another browser") {
			t.Fatalf("login page of another browser's request: %d", p.status)
		}
		p = other.post(f.issuer+"/login", url.Values{"id": {id}, "csrf_token": {token}, "email": {f.email}, "password": {f.password}})
		if p.status != http.StatusForbidden {
			t.Fatalf("another browser: %d", p.status)
		}
	})
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := decodeSegment(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := jsonUnmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}

var _ = time.Second
