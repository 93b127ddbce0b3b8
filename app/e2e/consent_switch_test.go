package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// consentPage walks b from an authorization URL through the login page
// (as email) to the consent page, and returns it.
func consentPage(t *testing.T, f *fixture, b *browser, start, email string) *page {
	t.Helper()
	p := b.get(start)
	for range 6 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			p = b.get(resolve(f.issuer, p.location))
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {email}, "password": {testPassword}})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			return p
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return nil
}

// TestConsentNotYouUsesAnotherAccount: the consent page shows the
// application's logo and "Not you? Use another account", which signs the
// browser out and returns to the login page of the same authorization
// request; the other account's consent completes it, and the tokens are
// that account's. A forged token, another request or a second switch are
// refused, and nothing is granted to the first account.
func TestConsentNotYouUsesAnotherAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		svc := e.srv.Admin()
		logo := "https://cdn.acme.test/shop.png"
		if _, err := svc.UpdateClient(f.adminCtx(), f.web.ClientID, admin.UpdateClientInput{LogoURI: &logo}); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://cdn.acme.test/x.png", "javascript:alert(1)", "https://" + strings.Repeat("a", 2100)} {
			if _, err := svc.UpdateClient(f.adminCtx(), f.web.ClientID, admin.UpdateClientInput{LogoURI: &bad}); err == nil {
				t.Errorf("logo %.40q accepted", bad)
			}
		}
		bob, err := svc.CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "bob@acme.test", Password: testPassword, EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.oauth2Config(f.web, "openid", "email")
		verifier := oauth2.GenerateVerifier()
		start := cfg.AuthCodeURL("st8", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n0nce"))
		b := e.browser()
		p := consentPage(t, f, b, start, f.email)
		if !strings.Contains(p.body, `src="`+logo+`"`) || !strings.Contains(p.body, `action="/consent/switch"`) || !strings.Contains(p.body, "Use another account") {
			t.Fatalf("consent page:\n%s", p.body)
		}
		id, csrf := field(t, idField, p.body), field(t, csrfField, p.body)
		if q := b.post(f.issuer+"/consent/switch", url.Values{"id": {id}, "csrf_token": {forged(csrf)}}); q.status != http.StatusForbidden {
			t.Fatalf("forged token: %d", q.status)
		}
		if q := b.post(f.issuer+"/consent/switch", url.Values{"id": {"no-such-request"}, "csrf_token": {csrf}}); q.status != http.StatusBadRequest {
			t.Fatalf("another request: %d", q.status)
		}
		// Another browser cannot switch this browser's request.
		other := e.browser()
		consentPage(t, f, other, cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), f.email)
		if q := other.post(f.issuer+"/consent/switch", url.Values{"id": {id}, "csrf_token": {csrf}}); q.status != http.StatusForbidden && q.status != http.StatusBadRequest {
			t.Fatalf("another browser: %d", q.status)
		}

		q := b.post(f.issuer+"/consent/switch", url.Values{"id": {id}, "csrf_token": {csrf}})
		if q.status != http.StatusSeeOther || q.location != "/login?id="+url.QueryEscape(id) {
			t.Fatalf("switch: %d %q", q.status, q.location)
		}
		if again := b.post(f.issuer+"/consent/switch", url.Values{"id": {id}, "csrf_token": {csrf}}); again.status == http.StatusSeeOther {
			t.Fatal("a second switch of the same request was accepted")
		}
		login := b.get(f.issuer + q.location)
		if login.status != http.StatusOK || !strings.Contains(login.body, `action="/login"`) || field(t, idField, login.body) != id {
			t.Fatalf("login page after the switch: %d\n%s", login.status, login.body)
		}
		p = b.post(f.issuer+"/login", url.Values{"id": {id}, "csrf_token": {field(t, csrfField, login.body)}, "email": {"bob@acme.test"}, "password": {testPassword}})
		for p.status == http.StatusFound || p.status == http.StatusSeeOther {
			p = b.get(resolve(f.issuer, p.location))
		}
		if !strings.Contains(p.body, "bob@acme.test") || !strings.Contains(p.body, `action="/consent"`) {
			t.Fatalf("consent as bob:\n%s", p.body)
		}
		p = b.post(f.issuer+"/consent", url.Values{"id": {id}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		code := ""
		for range 4 {
			if loc := resolve(f.issuer, p.location); strings.HasPrefix(loc, redirectURI) {
				u, _ := url.Parse(loc)
				code = u.Query().Get("code")
				break
			}
			if m := strings.Index(p.body, redirectURI); p.status == http.StatusOK && m >= 0 {
				// delivered by an auto-posting page or a link
				u, _ := url.Parse(strings.ReplaceAll(p.body[m:m+strings.IndexAny(p.body[m:], `"'<`)], "&amp;", "&"))
				code = u.Query().Get("code")
				break
			}
			p = b.get(resolve(f.issuer, p.location))
		}
		if code == "" {
			t.Fatalf("no code: %d %s\n%s", p.status, p.location, p.body)
		}
		tok, err := cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		prov, err := oidc.NewProvider(e.ctx(), f.issuer)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := prov.Verifier(&oidc.Config{ClientID: f.web.ClientID}).Verify(e.ctx(), tok.Extra("id_token").(string))
		if err != nil || idt.Subject != bob.ID {
			t.Fatalf("ID token of %v, want bob %s: %v", idt, bob.ID, err)
		}
		ctx := tenants.WithTenant(context.Background(), f.tenant)
		if _, err := e.store.ConsentFor(ctx, f.userID, f.web.ClientID); err == nil {
			t.Fatal("the first account was granted consent")
		}
	})
}

// TestApplicationLogoAtCreation: an application created over the
// management API may carry its logo from the start; a logo that is not
// https is refused naming logo_uri, and no application is left behind.
func TestApplicationLogoAtCreation(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/" + f.slug + "/applications"
		before := len(op.items(t, base))
		for _, bad := range []string{"http://cdn.acme.test/x.png", "javascript:alert(1)"} {
			raw, _ := json.Marshal(map[string]any{"client_name": "Shop", "kind": "web", "redirect_uris": []string{"https://shop.acme.test/cb"}, "logo_uri": bad})
			status, _, body := op.raw(t, http.MethodPost, base, "application/json", raw)
			if status != http.StatusBadRequest || !strings.Contains(string(body), `"field":"logo_uri"`) {
				t.Fatalf("create with logo %q = %d %s, want 400 on logo_uri", bad, status, body)
			}
		}
		if n := len(op.items(t, base)); n != before {
			t.Fatalf("refused creations left %d applications", n-before)
		}
		logo := "https://cdn.acme.test/shop.png"
		app := op.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"client_name": "Shop", "kind": "web",
			"redirect_uris": []string{"https://shop.acme.test/cb"}, "logo_uri": logo})
		if app["logo_uri"] != logo {
			t.Fatalf("created application: %v", app)
		}
		if got := op.must(t, http.StatusOK, http.MethodGet, base+"/"+app["client_id"].(string), nil); got["logo_uri"] != logo {
			t.Fatalf("read back: %v", got)
		}
	})
}
