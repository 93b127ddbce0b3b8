package e2e

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

var (
	autopostForm  = regexp.MustCompile(`<form method="post" action="([^"]*)" id="autopost">`)
	autopostInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// formPost reads an auto-submitting form page: where it posts, and what.
func formPost(t *testing.T, p *page) (string, url.Values) {
	t.Helper()
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
		t.Fatalf("want a form_post page, got %d %s:\n%s", p.status, p.location, p.body)
	}
	m := autopostForm.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no auto-submitting form in:\n%s", p.body)
	}
	fields := url.Values{}
	for _, in := range autopostInput.FindAllStringSubmatch(p.body, -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// walkToFormPost walks a browser from an authorization URL through login
// and consent to the page that posts the response to the client.
func (f *fixture) walkToFormPost(t *testing.T, b *browser, authURL string) *page {
	t.Helper()
	p := b.get(authURL)
	for range 6 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			loc := resolve(f.issuer, p.location)
			if strings.HasPrefix(loc, redirectURI) {
				t.Fatalf("form_post answered with a redirect to the client: %s", loc)
			}
			p = b.get(loc)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password}})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			p = b.post(f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		default:
			return p
		}
	}
	t.Fatal("too many steps")
	return nil
}

// TestFormPostResponseMode runs the code flow with response_mode=form_post
// (OAuth 2.0 Form Post Response Mode): the response, success or error,
// comes as a page whose form posts code (or error), state and iss to the
// registered redirect URI; a state made to break out of the attribute is
// escaped and comes back byte for byte; the page's CSP lets the form go
// only to the client's origin; the code redeems with x/oauth2; an unknown
// mode is an error in the query; discovery lists both modes.
func TestFormPostResponseMode(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		cfg := f.oauth2Config(f.web, "openid", "profile")
		b := e.browser()
		verifier := oauth2.GenerateVerifier()
		state := `"><script>alert(1)</script><img src=x onerror=alert(2)>&amp;'` + secret.Token(4)
		authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "form_post"))
		p := f.walkToFormPost(t, b, authURL)
		action, fields := formPost(t, p)
		if action != redirectURI || fields.Get("state") != state || fields.Get("iss") != f.issuer || fields.Get("code") == "" || fields.Has("error") {
			t.Fatalf("form posts %v to %s", fields, action)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", `value="">`} {
			if strings.Contains(p.body, bad) {
				t.Fatalf("the state is in the page unescaped (%q):\n%s", bad, p.body)
			}
		}
		csp := p.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action http://127.0.0.1:9000") || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("CSP %q", csp)
		}
		if p.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", p.header.Get("Cache-Control"))
		}
		tok, err := cfg.Exchange(e.ctx(), fields.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("exchange the posted code: %v", err)
		}

		// Signed in and consented already: /authorize answers with the
		// form at once.
		p = b.get(cfg.AuthCodeURL("again", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "form_post")))
		if _, fields := formPost(t, p); fields.Get("state") != "again" || fields.Get("code") == "" {
			t.Fatalf("signed-in form_post: %v", fields)
		}

		// Errors come back the same way.
		_, challenge := pkce()
		for _, tc := range []struct {
			name    string
			b       *browser
			params  url.Values
			wantErr string
		}{
			{"prompt=none without a session", e.browser(), url.Values{"prompt": {"none"}}, "login_required"},
			{"unknown scope", b, url.Values{"scope": {"openid delete:everything"}}, "invalid_scope"},
			{"no PKCE", b, url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "invalid_request"},
		} {
			params := url.Values{"response_mode": {"form_post"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {`<b>"x"</b>`}}
			for k, v := range tc.params {
				params[k] = v
			}
			p := f.walkToFormPost(t, tc.b, f.authorizeURL(f.web.ClientID, params))
			action, fields := formPost(t, p)
			if action != redirectURI || fields.Get("error") != tc.wantErr || fields.Get("state") != `<b>"x"</b>` || fields.Get("iss") != f.issuer || fields.Has("code") {
				t.Errorf("%s: posts %v to %s", tc.name, fields, action)
			}
			if strings.Contains(p.body, "<b>") {
				t.Errorf("%s: the state is in the page unescaped", tc.name)
			}
		}
		// An unknown client or redirect URI is still a page, not a post.
		p = b.get(f.authorizeURL(f.web.ClientID, url.Values{"response_mode": {"form_post"}, "redirect_uri": {"https://evil.example/cb"}}))
		if p.status != http.StatusBadRequest || strings.Contains(p.body, "autopost") {
			t.Fatalf("unregistered redirect_uri with form_post: %d\n%s", p.status, p.body)
		}
		// A mode Gatehouse does not have: an error in the query.
		p = b.get(f.authorizeURL(f.web.ClientID, url.Values{"response_mode": {"fragment"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		if u, _ := url.Parse(p.location); p.status != http.StatusFound || u.Query().Get("error") != "invalid_request" {
			t.Fatalf("response_mode=fragment: %d %s", p.status, p.location)
		}

		var d map[string]any
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		var modes []string
		for _, m := range d["response_modes_supported"].([]any) {
			modes = append(modes, m.(string))
		}
		if !slices.Equal(modes, []string{"query", "form_post"}) {
			t.Fatalf("response_modes_supported = %v", modes)
		}
	})
}
