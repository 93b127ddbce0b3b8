package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// pushed posts an authorization request to /oauth/par of f as the client
// (Basic when secret is set, else client_id alone) and returns the answer.
func (f *fixture) push(clientID, secret string, params url.Values) (int, http.Header, map[string]any) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	if secret != "" {
		return f.post("/oauth/par", clientID, secret, form)
	}
	if clientID != "" {
		form.Set("client_id", clientID)
	}
	return f.post("/oauth/par", "", "", form)
}

// TestPushedAuthorizationRequests runs the code flow with PAR (RFC 9126):
// the web client pushes its request (Basic), a public client and a
// private_key_jwt client push theirs too; /authorize with client_id and
// request_uri uses the pushed parameters and ignores the others; the code
// redeems with x/oauth2. A request_uri used twice, expired, of another
// client or of another tenant is an error page with no redirect; a bad
// push is OAuth JSON (400, 401); a client or tenant that requires PAR
// gets invalid_request at its redirect URI for a plain request; discovery
// names the endpoint and the tenant's requirement.
func TestPushedAuthorizationRequests(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		clk := &testClock{}
		e := newEnv(t, db.URL(t), withClock(clk))
		f := e.fixture("acme")
		other := e.fixture("globex")
		cfg := f.oauth2Config(f.web, "openid", "profile")
		verifier := oauth2.GenerateVerifier()
		request := func(state string) url.Values {
			u, _ := url.Parse(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n-"+state)))
			q := u.Query()
			q.Del("client_id")
			return q
		}
		pushOK := func(name, clientID, secret string, params url.Values) string {
			t.Helper()
			s, h, b := f.push(clientID, secret, params)
			uri, _ := b["request_uri"].(string)
			if s != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || b["expires_in"] != float64(60) || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: push answered %d %v %v", name, s, h, b)
			}
			return uri
		}
		authorizeWith := func(f *fixture, clientID, uri string, extra url.Values) string {
			q := url.Values{"client_id": {clientID}, "request_uri": {uri}}
			for k, v := range extra {
				q[k] = v
			}
			return f.issuer + "/authorize?" + q.Encode()
		}

		uri := pushOK("web", f.web.ClientID, f.web.ClientSecret, request("pushed"))
		b := e.browser()
		// Other parameters of the front channel are ignored.
		cb := f.login(b, authorizeWith(f, f.web.ClientID, uri, url.Values{"state": {"forged"}, "scope": {"openid email"}, "redirect_uri": {"https://evil.example/cb"}}))
		if cb.Get("state") != "pushed" || cb.Get("iss") != f.issuer || cb.Get("code") == "" {
			t.Fatalf("callback %v", cb)
		}
		tok, err := cfg.Exchange(e.ctx(), cb.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if scope, _ := tok.Extra("scope").(string); strings.Contains(scope, "email") {
			t.Fatalf("the front channel's scope was used: %q", scope)
		}

		refusedPage := func(name, authURL string) {
			t.Helper()
			p := b.get(authURL)
			if p.status != http.StatusBadRequest || p.location != "" {
				t.Errorf("%s: %d %s, want an error page", name, p.status, p.location)
			}
		}
		refusedPage("request_uri used twice", authorizeWith(f, f.web.ClientID, uri, nil))
		uri = pushOK("web", f.web.ClientID, f.web.ClientSecret, request("for web"))
		refusedPage("request_uri of another client", authorizeWith(f, f.spa.ClientID, uri, nil))
		refusedPage("request_uri at another tenant", authorizeWith(other, f.web.ClientID, uri, nil))
		refusedPage("request_uri without client_id", f.issuer+"/authorize?"+url.Values{"request_uri": {uri}}.Encode())
		refusedPage("request_uri made up", authorizeWith(f, f.web.ClientID, "urn:ietf:params:oauth:request_uri:made-up", nil))
		refusedPage("request_uri of another scheme", authorizeWith(f, f.web.ClientID, "https://evil.example/request", nil))
		// ... and the refusals above did not burn it for its own client.
		if cb := f.login(b, authorizeWith(f, f.web.ClientID, uri, nil)); cb.Get("state") != "for web" {
			t.Fatalf("pushed request after refusals: %v", cb)
		}
		uri = pushOK("web", f.web.ClientID, f.web.ClientSecret, request("late"))
		clk.Advance(61 * time.Second)
		refusedPage("request_uri expired", authorizeWith(f, f.web.ClientID, uri, nil))
		clk.Advance(-61 * time.Second)

		// A public client pushes with its id alone.
		_, challenge := pkce()
		spaReq := url.Values{"redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {"spa"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		uri = pushOK("spa", f.spa.ClientID, "", spaReq)
		if cb := f.login(b, authorizeWith(f, f.spa.ClientID, uri, nil)); cb.Get("state") != "spa" || cb.Get("code") == "" {
			t.Fatalf("spa callback %v", cb)
		}

		// A private_key_jwt client pushes with an assertion for /oauth/par.
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		rsaKey, _, _ := newSigners(t)
		app := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/applications", map[string]any{"kind": "web", "client_name": "signed",
			"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "private_key_jwt", "jwks": jwksOf(rsaKey.public())})
		signedID := app["client_id"].(string)
		s, _, body := f.post("/oauth/par", "", "", assertionForm(spaReq, rsaKey.sign(t, assertionClaims(signedID, f.issuer+"/oauth/par"))))
		if s != http.StatusCreated {
			t.Fatalf("private_key_jwt push: %d %v", s, body)
		}
		s, _, body = f.post("/oauth/par", "", "", assertionForm(spaReq, rsaKey.sign(t, assertionClaims(signedID, f.issuer+"/oauth/revoke"))))
		if s != http.StatusUnauthorized {
			t.Fatalf("private_key_jwt push with another endpoint's aud: %d %v", s, body)
		}

		// Bad pushes are OAuth JSON.
		for _, tc := range []struct {
			name       string
			clientID   string
			secret     string
			change     url.Values
			wantStatus int
			wantCode   string
		}{
			{"wrong secret", f.web.ClientID, "wrong", nil, 401, "invalid_client"},
			{"unknown client", "nobody", "", nil, 401, "invalid_client"},
			{"another tenant's client", other.web.ClientID, other.web.ClientSecret, nil, 401, "invalid_client"},
			{"unregistered redirect_uri", f.web.ClientID, f.web.ClientSecret, url.Values{"redirect_uri": {"https://evil.example/cb"}}, 400, "invalid_request"},
			{"unknown scope", f.web.ClientID, f.web.ClientSecret, url.Values{"scope": {"openid delete:everything"}}, 400, "invalid_scope"},
			{"no PKCE", f.web.ClientID, f.web.ClientSecret, url.Values{"code_challenge": nil}, 400, "invalid_request"},
			{"implicit", f.web.ClientID, f.web.ClientSecret, url.Values{"response_type": {"token"}}, 400, "unsupported_response_type"},
			{"a request_uri pushed", f.web.ClientID, f.web.ClientSecret, url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:x"}}, 400, "invalid_request"},
			{"huge state", f.web.ClientID, f.web.ClientSecret, url.Values{"state": {strings.Repeat("s", 3000)}}, 400, "invalid_request"},
		} {
			params := request("bad")
			for k, v := range tc.change {
				if v == nil {
					params.Del(k)
				} else {
					params[k] = v
				}
			}
			s, _, b := f.push(tc.clientID, tc.secret, params)
			if s != tc.wantStatus || errorCode(b) != tc.wantCode {
				t.Errorf("%s: %d %v, want %d %s", tc.name, s, b, tc.wantStatus, tc.wantCode)
			}
		}

		// Required for one client: its plain requests are refused at its
		// redirect URI; pushed ones work.
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/applications/"+f.web.ClientID, map[string]any{"require_pushed_authorization_requests": true})
		eventually(t, 2*time.Second, "PAR required for the web client", func() bool {
			p := b.get(cfg.AuthCodeURL("plain", oauth2.S256ChallengeOption(verifier)))
			u, _ := url.Parse(p.location)
			return p.status == http.StatusFound && strings.HasPrefix(p.location, redirectURI) && u.Query().Get("error") == "invalid_request" && u.Query().Get("state") == "plain"
		})
		uri = pushOK("web", f.web.ClientID, f.web.ClientSecret, request("required"))
		if cb := f.login(b, authorizeWith(f, f.web.ClientID, uri, nil)); cb.Get("state") != "required" || cb.Get("code") == "" {
			t.Fatalf("pushed request of a client that requires PAR: %v", cb)
		}
		// Required for the tenant: every client.
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"require_pushed_authorization_requests": true})
		eventually(t, 2*time.Second, "PAR required for the tenant", func() bool {
			p := b.get(f.authorizeURL(f.spa.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
			u, _ := url.Parse(p.location)
			return p.status == http.StatusFound && u.Query().Get("error") == "invalid_request"
		})
		var d map[string]any
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		if d["pushed_authorization_request_endpoint"] != f.issuer+"/oauth/par" || d["require_pushed_authorization_requests"] != true {
			t.Fatalf("discovery: %v %v", d["pushed_authorization_request_endpoint"], d["require_pushed_authorization_requests"])
		}
		if err := json.Unmarshal([]byte(fetch(t, e, other.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		if d["require_pushed_authorization_requests"] != false {
			t.Fatalf("the other tenant requires PAR: %v", d["require_pushed_authorization_requests"])
		}
	})
}
