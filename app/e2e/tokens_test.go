package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// authCode runs the browser part of the flow for c and returns a fresh code
// and its verifier.
func (f *fixture) authCode(b *browser, clientID string, scope string) (code, verifier string) {
	f.e.t.Helper()
	verifier, challenge := pkce()
	cb := f.login(b, f.authorizeURL(clientID, url.Values{"scope": {scope}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	if cb.Get("code") == "" {
		f.e.t.Fatalf("no code: %v", cb)
	}
	return cb.Get("code"), verifier
}

func (f *fixture) exchange(code, verifier string) (int, map[string]any) {
	status, _, body := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	})
	return status, body
}

func (f *fixture) refresh(rt string) (int, map[string]any) {
	status, _, body := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt},
	})
	return status, body
}

func (f *fixture) introspect(token string) map[string]any {
	_, _, body := f.post("/oauth/introspect", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {token}})
	return body
}

func (f *fixture) userinfo(token string) (int, http.Header) {
	req, _ := http.NewRequest(http.MethodGet, f.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	status, hdr, _ := f.e.doJSON(req)
	return status, hdr
}

func mustToken(t *testing.T, body map[string]any, key string) string {
	t.Helper()
	s, err := tokenOf(body, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRefreshRotationAndReuse(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		code, verifier := f.authCode(e.browser(), f.web.ClientID, "openid offline_access")
		status, body := f.exchange(code, verifier)
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %v", status, body)
		}
		rt1, at1 := mustToken(t, body, "refresh_token"), mustToken(t, body, "access_token")

		status, body = f.refresh(rt1)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		rt2, at2 := mustToken(t, body, "refresh_token"), mustToken(t, body, "access_token")
		if rt2 == rt1 {
			t.Fatal("refresh token was not rotated")
		}
		if f.introspect(at2)["active"] != true || f.introspect(rt2)["active"] != true {
			t.Fatal("new tokens are not active")
		}
		if f.introspect(rt1)["active"] == true {
			t.Fatal("a rotated refresh token is still active")
		}
		t.Run("narrower scope", func(t *testing.T) {
			status, body := f.refresh(rt2)
			if status != http.StatusOK {
				t.Fatalf("%d %v", status, body)
			}
			rt2 = mustToken(t, body, "refresh_token")
			status, body = f.post2(rt2, "openid email")
			if status != http.StatusBadRequest || errorCode(body) != "invalid_scope" {
				t.Fatalf("wider scope: %d %v", status, body)
			}
		})

		// Reuse of the first token: refused, and the whole family is revoked.
		status, body = f.refresh(rt1)
		if status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Fatalf("reuse: %d %v", status, body)
		}
		status, body = f.refresh(rt2)
		if status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Fatalf("after reuse, the newest refresh token must be revoked: %d %v", status, body)
		}
		for _, at := range []string{at1, at2} {
			if f.introspect(at)["active"] != false {
				t.Fatal("an access token of a revoked family is still active")
			}
			if status, hdr := f.userinfo(at); status != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("userinfo with a revoked token: %d %q", status, hdr.Get("WWW-Authenticate"))
			}
		}
	})
}

func (f *fixture) post2(rt, scope string) (int, map[string]any) {
	status, _, body := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope},
	})
	return status, body
}

func TestCodeReplayRevokesTokens(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		code, verifier := f.authCode(e.browser(), f.web.ClientID, "openid offline_access")
		status, body := f.exchange(code, verifier)
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %v", status, body)
		}
		at, rt := mustToken(t, body, "access_token"), mustToken(t, body, "refresh_token")
		status, body = f.exchange(code, verifier)
		if status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Fatalf("second redemption: %d %v", status, body)
		}
		if f.introspect(at)["active"] != false {
			t.Fatal("access token from a replayed code is still active")
		}
		if status, _ := f.refresh(rt); status != http.StatusBadRequest {
			t.Fatal("refresh token from a replayed code still works")
		}
		if status, _ := f.userinfo(at); status != http.StatusUnauthorized {
			t.Fatalf("userinfo with a token of a replayed code: %d", status)
		}
	})
}

func TestParallelCodeRedemption(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		code, verifier := f.authCode(e.browser(), f.web.ClientID, "openid")
		const n = 50
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i], _ = f.exchange(code, verifier) })
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusBadRequest:
			default:
				t.Fatalf("unexpected status %d", s)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d parallel redemptions succeeded, want exactly 1", ok, n)
		}
	})
}

func TestPKCE(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		for _, tc := range []struct {
			name   string
			params url.Values
		}{
			{"missing", url.Values{}},
			{"plain", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}}},
			{"method omitted", url.Values{"code_challenge": {challenge}}},
			{"malformed challenge", url.Values{"code_challenge": {"short"}, "code_challenge_method": {"S256"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.params.Set("state", "xyz")
				p := b.get(f.authorizeURL(f.web.ClientID, tc.params))
				if p.status != http.StatusFound {
					t.Fatalf("status %d, want a redirect to the client", p.status)
				}
				u, _ := url.Parse(p.location)
				q := u.Query()
				if !strings.HasPrefix(p.location, redirectURI) || q.Get("error") != "invalid_request" || q.Get("state") != "xyz" || q.Get("iss") != f.issuer {
					t.Fatalf("redirect = %s", p.location)
				}
			})
		}
		t.Run("wrong verifier does not burn the code", func(t *testing.T) {
			code, verifier := f.authCode(b, f.web.ClientID, "openid")
			other, _ := pkce()
			if status, body := f.exchange(code, other); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
				t.Fatalf("wrong verifier: %d %v", status, body)
			}
			status, _, body := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			})
			if status != http.StatusBadRequest || errorCode(body) != "invalid_request" {
				t.Fatalf("missing verifier (confidential client): %d %v", status, body)
			}
			if status, body := f.exchange(code, verifier); status != http.StatusOK {
				t.Fatalf("right verifier after wrong ones: %d %v", status, body)
			}
		})
		t.Run("public client without verifier", func(t *testing.T) {
			code, _ := f.authCode(b, f.spa.ClientID, "openid")
			cfg := f.oauth2Config(f.spa)
			_, err := cfg.Exchange(e.ctx(), code)
			if err == nil || !strings.Contains(err.Error(), "invalid_request") {
				t.Fatalf("exchange without verifier: %v", err)
			}
		})
		t.Run("verifier with wrong client burns nothing it should not", func(t *testing.T) {
			code, verifier := f.authCode(b, f.web.ClientID, "openid")
			cfg := f.oauth2Config(f.spa)
			if _, err := cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("another client's code: %v", err)
			}
			// A code presented by the wrong client is spent.
			if status, _ := f.exchange(code, verifier); status != http.StatusBadRequest {
				t.Fatal("code still usable after another client presented it")
			}
		})
	})
}
