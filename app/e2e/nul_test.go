package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestNULAndInvalidUTF8 sends NUL bytes and invalid UTF-8, which
// PostgreSQL refuses in text, to every kind of endpoint: each answers 400,
// never 5xx.
func TestNULAndInvalidUTF8(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		p = b.get(resolve(f.issuer, p.location))
		id, csrf := field(t, idField, p.body), field(t, csrfField, p.body)
		for _, bad := range []string{"a\x00b", "\xff\xfe"} {
			for _, tc := range []struct {
				name, method, path string
				form               url.Values
			}{
				{"login email", "POST", "/login", url.Values{"id": {id}, "csrf_token": {csrf}, "email": {bad}, "password": {"x"}}},
				{"authorize client_id", "GET", "/authorize?" + url.Values{"client_id": {bad}, "redirect_uri": {redirectURI}}.Encode(), nil},
				{"authorize scope", "GET", "/authorize?" + url.Values{"client_id": {f.web.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {bad}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}.Encode(), nil},
				{"token code", "POST", "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {bad}, "redirect_uri": {redirectURI}, "code_verifier": {strings.Repeat("v", 43)}}},
				{"token client_id", "POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {bad}, "client_secret": {"x"}}},
				{"introspect token", "POST", "/oauth/introspect", url.Values{"token": {bad}}},
				{"login page id", "GET", "/login?" + url.Values{"id": {bad}}.Encode(), nil},
			} {
				var req *http.Request
				if tc.form != nil {
					req, _ = http.NewRequest(tc.method, f.issuer+tc.path, strings.NewReader(tc.form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					if tc.form.Has("code") || tc.form.Has("token") {
						// f.web authenticates with client_secret_basic, the
						// only way it may: the input must get past it.
						req.SetBasicAuth(url.QueryEscape(f.web.ClientID), url.QueryEscape(f.web.ClientSecret))
					}
				} else {
					req, _ = http.NewRequest(tc.method, f.issuer+tc.path, nil)
				}
				p := b.do(req)
				if p.status >= 500 {
					t.Errorf("%s with %q: %d", tc.name, bad, p.status)
				}
			}
		}
	})
}
