package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestSessionPromptsAndMaxAge(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		f.codeFlow(b, f.web, []string{"openid", "email"})

		_, challenge := pkce()
		pk := func(extra url.Values) url.Values {
			v := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"openid email"}, "state": {"s"}}
			for k, x := range extra {
				v[k] = x
			}
			return v
		}
		// Logged in and consented: prompt=none answers with a code at once.
		p := b.get(f.authorizeURL(f.web.ClientID, pk(url.Values{"prompt": {"none"}})))
		if q := mustURL(p.location).Query(); p.status != http.StatusFound || q.Get("code") == "" || q.Get("iss") != f.issuer {
			t.Fatalf("prompt=none with session: %d %s", p.status, p.location)
		}
		// A new scope needs consent: prompt=none says consent_required,
		// and a request that fails at once is never stored.
		before := f.authRequests(t)
		p = b.get(f.authorizeURL(f.web.ClientID, pk(url.Values{"prompt": {"none"}, "scope": {"openid profile"}})))
		if q := mustURL(p.location).Query(); q.Get("error") != "consent_required" {
			t.Fatalf("prompt=none with a new scope: %s", p.location)
		}
		if n := f.authRequests(t); n != before {
			t.Fatalf("a prompt=none failure stored %d authorization requests", n-before)
		}
		// Without prompt, the session skips the login page and consent:
		// the authorization endpoint answers the client in one redirect,
		// and stores the request once, completed with its code.
		p = b.get(f.authorizeURL(f.web.ClientID, pk(nil)))
		if !strings.HasPrefix(p.location, redirectURI) || mustURL(p.location).Query().Get("code") == "" {
			t.Fatalf("with a session the flow should complete in one redirect: %d %s", p.status, p.location)
		}
		if n := f.authRequests(t); n != before+1 {
			t.Fatalf("a signed-in authorization stored %d requests, want 1", n-before)
		}
		// prompt=login and max_age=0 show the login page again.
		for _, extra := range []url.Values{{"prompt": {"login"}}, {"max_age": {"0"}}} {
			p = b.get(f.authorizeURL(f.web.ClientID, pk(extra)))
			p = b.get(resolve(f.issuer, p.location))
			if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login"`) {
				t.Fatalf("%v: want the login page, got %d %s", extra, p.status, p.location)
			}
		}
		// prompt=consent shows consent again.
		p = b.get(f.authorizeURL(f.web.ClientID, pk(url.Values{"prompt": {"consent"}})))
		p = b.get(resolve(f.issuer, p.location))
		if p.status != http.StatusOK || !strings.Contains(p.body, ">Allow<") {
			t.Fatalf("prompt=consent: want the consent page, got %d %s", p.status, p.location)
		}
	})
}

func TestConsentDenied(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s9"}}))
		p = b.get(resolve(f.issuer, p.location))
		p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("login POST answered %d, want 303", p.status)
		}
		p = b.get(resolve(f.issuer, p.location))
		if !strings.Contains(p.body, "web") || !strings.Contains(p.body, "See your email address") {
			t.Fatalf("consent page does not name the app and scopes:\n%s", p.body)
		}
		p = b.post(f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"deny"}})
		q := mustURL(p.location).Query()
		if p.status != http.StatusSeeOther || q.Get("error") != "access_denied" || q.Get("state") != "s9" || q.Get("iss") != f.issuer {
			t.Fatalf("deny: %d %s", p.status, p.location)
		}
	})
}

func TestLoginDoesNotRevealAccounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		p = b.get(resolve(f.issuer, p.location))
		id, csrf := field(t, idField, p.body), field(t, csrfField, p.body)
		try := func(email, pw string) *page {
			return b.post(f.issuer+"/login", url.Values{"id": {id}, "csrf_token": {csrf}, "email": {email}, "password": {pw}})
		}
		wrong := try(f.email, "not the password at all")
		unknown := try("nobody@acme.test", "not the password at all")
		if wrong.status != http.StatusUnauthorized || wrong.status != unknown.status {
			t.Fatalf("statuses: wrong password %d, unknown user %d", wrong.status, unknown.status)
		}
		norm := func(s string) string { return strings.ReplaceAll(s, "nobody@acme.test", f.email) }
		if norm(unknown.body) != wrong.body {
			t.Fatal("the answers for a wrong password and an unknown user differ")
		}
		if !strings.Contains(wrong.body, "Incorrect email or password") {
			t.Fatalf("no error message:\n%s", wrong.body)
		}
		if len(wrong.header.Values("Set-Cookie")) != 0 {
			t.Fatal("a failed login set a cookie")
		}
	})
}

func TestPagesHeadersAndCookies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		for _, c := range p.header.Values("Set-Cookie") {
			lc := strings.ToLower(c)
			if !strings.Contains(lc, "httponly") || !strings.Contains(lc, "samesite=lax") || strings.Contains(lc, "domain=") {
				t.Fatalf("cookie %q must be host-only, HttpOnly, SameSite=Lax", c)
			}
		}
		p = b.get(resolve(f.issuer, p.location))
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("CSP = %q", csp)
		}
		if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers: %v", p.header)
		}
		for _, want := range []string{`autocomplete="username"`, `autocomplete="current-password"`, "Acme Inc", `name="viewport"`} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("login page lacks %s", want)
			}
		}
		// Logging in replaces any session id the browser had (no fixation).
		b.client.Jar.SetCookies(mustURL(f.issuer), []*http.Cookie{{Name: "gh_session", Value: "planted-by-attacker", Path: "/"}})
		p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}})
		var sess string
		for _, c := range b.client.Jar.Cookies(mustURL(f.issuer)) {
			if c.Name == "gh_session" {
				sess = c.Value
			}
		}
		if sess == "" || sess == "planted-by-attacker" {
			t.Fatalf("session cookie after login = %q", sess)
		}
	})
}

func TestLogout(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		tok, _ := f.codeFlow(b, f.web, []string{"openid"})
		idToken := tok.Extra("id_token").(string)

		bad := b.get(f.issuer + "/logout?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.test/"}}.Encode())
		if bad.status != http.StatusBadRequest || bad.location != "" {
			t.Fatalf("unregistered post_logout_redirect_uri: %d %q", bad.status, bad.location)
		}
		p := b.get(f.issuer + "/logout?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {postLogout}, "state": {"bye1"}}.Encode())
		if p.status != http.StatusFound || p.location != postLogout+"?state=bye1" {
			t.Fatalf("logout: %d %q", p.status, p.location)
		}
		_, challenge := pkce()
		p = b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {"none"}}))
		if mustURL(p.location).Query().Get("error") != "login_required" {
			t.Fatalf("after logout the session should be gone: %s", p.location)
		}
		// Without a hint, the user is asked first (a CSRF-protected form).
		f.codeFlow(b, f.web, []string{"openid"}, oauth2.SetAuthURLParam("prompt", "login"))
		p = b.get(f.issuer + "/logout")
		if p.status != http.StatusOK || !strings.Contains(p.body, "Sign out?") {
			t.Fatalf("logout without hint: %d", p.status)
		}
		if !strings.Contains(p.body, `action="/logout/confirm"`) {
			t.Fatalf("the confirmation form does not post to /logout/confirm:\n%s", p.body)
		}
		if q := b.post(f.issuer+"/logout/confirm", url.Values{}); q.status != http.StatusForbidden {
			t.Fatalf("confirmation without CSRF token: %d", q.status)
		}
		// A cross-site POST to the logout endpoint never ends the session
		// without the user's confirmation.
		if q := b.post(f.issuer+"/logout", url.Values{"confirm": {"yes"}}); q.status != http.StatusOK || !strings.Contains(q.body, "Sign out?") {
			t.Fatalf("RP-initiated logout POST without a hint: %d, want the confirmation page", q.status)
		}
		q := b.post(f.issuer+"/logout/confirm", url.Values{"csrf_token": {field(t, csrfField, p.body)}})
		if q.status != http.StatusOK || !strings.Contains(q.body, "signed out") {
			t.Fatalf("confirmed logout: %d", q.status)
		}
	})
}

func TestRevocation(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		tok, _ := f.codeFlow(b, f.web, []string{"openid", "offline_access"})
		status, _, _ := f.post("/oauth/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
		if status != http.StatusOK {
			t.Fatalf("revoke access token: %d", status)
		}
		if f.introspect(tok.AccessToken)["active"] != false {
			t.Fatal("revoked access token still active")
		}
		if s, _ := f.userinfo(tok.AccessToken); s != http.StatusUnauthorized {
			t.Fatalf("userinfo with a revoked token: %d", s)
		}
		// Another client cannot revoke this client's refresh token.
		status, _, _ = f.post("/oauth/revoke", f.worker.ClientID, f.worker.ClientSecret, url.Values{"token": {tok.RefreshToken}})
		if status != http.StatusOK || f.introspect(tok.RefreshToken)["active"] != true {
			t.Fatal("another client revoked the refresh token")
		}
		status, _, _ = f.post("/oauth/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {tok.RefreshToken}})
		if status != http.StatusOK || f.introspect(tok.RefreshToken)["active"] != false {
			t.Fatal("refresh token not revoked")
		}
		if s, _ := f.refresh(tok.RefreshToken); s != http.StatusBadRequest {
			t.Fatal("revoked refresh token still refreshes")
		}
		status, _, _ = f.post("/oauth/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {"garbage"}})
		if status != http.StatusOK {
			t.Fatalf("unknown token: %d, want 200 (RFC 7009 §2.2)", status)
		}
	})
}
