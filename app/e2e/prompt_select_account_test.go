package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestPromptSelectAccount checks the honest answer to prompt=select_account
// (OIDC Core §3.1.2.1) of a server whose browsers hold one session each:
// discovery does not advertise it; a request with it and a session shows
// the sign-in page instead of answering with the session's account, and
// the account signed in there (another one) is the one the client gets;
// with none it is invalid_request, as any value combined with none.
func TestPromptSelectAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		var d map[string]any
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		var prompts []string
		for _, v := range d["prompt_values_supported"].([]any) {
			prompts = append(prompts, v.(string))
		}
		if !slices.Equal(prompts, []string{"none", "login", "consent"}) {
			t.Errorf("prompt_values_supported = %v", prompts)
		}

		bob, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "bob@acme.test", Password: testPassword, Name: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		f.codeFlow(b, f.web, []string{"openid"})
		_, challenge := pkce()
		authURL := func(prompt string) string {
			return f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {prompt}, "scope": {"openid"}})
		}
		// The session answers without select_account...
		if p := b.get(authURL("none")); !strings.HasPrefix(p.location, redirectURI) || mustURL(p.location).Query().Get("code") == "" {
			t.Fatalf("prompt=none with a session: %d %s", p.status, p.location)
		}
		// ...and with it, the sign-in page comes first.
		if p := b.get(authURL("select_account")); p.status != http.StatusFound && p.status != http.StatusSeeOther || strings.HasPrefix(p.location, redirectURI) {
			t.Fatalf("prompt=select_account with a session: %d %s, want the sign-in page", p.status, p.location)
		}
		as := *f
		as.email = "bob@acme.test"
		tok, _ := as.codeFlow(b, f.web, []string{"openid"}, oauth2.SetAuthURLParam("prompt", "select_account"))
		raw, _ := tok.Extra("id_token").(string)
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			t.Fatalf("id_token %q", raw)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			Sub string `json:"sub"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil || claims.Sub != bob.ID {
			t.Fatalf("the chosen account: sub %q, want %q (%v)", claims.Sub, bob.ID, err)
		}
		p := b.get(authURL("none select_account"))
		if q := mustURL(p.location).Query(); !strings.HasPrefix(p.location, redirectURI) || q.Get("error") != "invalid_request" {
			t.Fatalf("prompt=none select_account: %d %s", p.status, p.location)
		}
	})
}
