package e2e

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestEveryRouteRefusesBadTextHoweverItIsSent walks every route of the
// sign-in and account pages, as a signed-in browser holding a valid
// anti-CSRF token, sending a NUL byte or invalid UTF-8 in every way a
// parser can be reached: a multipart form whose media type is spelled in
// another case or carries parameters, a URL-encoded form with a charset or
// in upper case, the query string of a POST, and a path parameter. Each is
// 400 before any handler (or PostgreSQL) sees it — never a 5xx, never an
// answer that shows a handler ran.
func TestEveryRouteRefusesBadTextHoweverItIsSent(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		csrf := field(t, csrfField, f.accountPage(b).body)
		// Every path parameter, whatever its name (a route added later
		// included): a plain value, or the bad text.
		param := regexp.MustCompile(`:[A-Za-z_]+`)
		fill := func(path string) string { return param.ReplaceAllString(path, "x1") }
		walked := 0
		for _, bad := range []string{"a\x00b", "\xff\xfe"} {
			fields := map[string]string{"csrf_token": csrf, "id": "x", "email": "ann" + bad + "@acme.test", "name": bad, "code": bad, "password": bad, "state": bad}
			for _, r := range pageRoutes() {
				path := fill(r.Path)
				if r.Method == http.MethodPost {
					walked++
					for _, ct := range []string{"Multipart/Form-Data", "MULTIPART/FORM-DATA", "multipart/form-data; charset=utf-8"} {
						var body bytes.Buffer
						w := multipart.NewWriter(&body)
						for k, v := range fields {
							_ = w.WriteField(k, v)
						}
						_ = w.Close()
						req, _ := http.NewRequest(http.MethodPost, f.issuer+path, &body)
						req.Header.Set("Content-Type", ct+"; boundary="+w.Boundary())
						if p := b.do(req); p.status != http.StatusBadRequest {
							t.Errorf("POST %s, %q in a form of %q: %d, want 400", r.Path, bad, ct, p.status)
						}
					}
					form := url.Values{}
					for k, v := range fields {
						form.Set(k, v)
					}
					for _, ct := range []string{"application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded;charset=iso-8859-1"} {
						req, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader(form.Encode()))
						req.Header.Set("Content-Type", ct)
						if p := b.do(req); p.status != http.StatusBadRequest {
							t.Errorf("POST %s, %q in a form of %q: %d, want 400", r.Path, bad, ct, p.status)
						}
					}
					clean := url.Values{"csrf_token": {csrf}}
					req, _ := http.NewRequest(http.MethodPost, f.issuer+path+"?"+url.Values{"email": {fields["email"]}, "id": {bad}}.Encode(), strings.NewReader(clean.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					if p := b.do(req); p.status != http.StatusBadRequest {
						t.Errorf("POST %s, %q in the query: %d, want 400", r.Path, bad, p.status)
					}
				}
				if !strings.Contains(r.Path, ":") {
					continue
				}
				// A path parameter holding it.
				bp := param.ReplaceAllLiteralString(r.Path, url.PathEscape(bad))
				var req *http.Request
				if r.Method == http.MethodPost {
					req, _ = http.NewRequest(http.MethodPost, f.issuer+bp, strings.NewReader(url.Values{"csrf_token": {csrf}}.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				} else {
					req, _ = http.NewRequest(r.Method, f.issuer+bp, nil)
				}
				if p := b.do(req); p.status != http.StatusBadRequest {
					t.Errorf("%s %s with %q in the path: %d, want 400", r.Method, bp, bad, p.status)
				}
			}
		}
		if walked < 40 {
			t.Fatalf("walked %d POSTs: the route tables look incomplete", walked)
		}
		// The protocol endpoints parse their forms themselves: the same.
		for _, path := range []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke", "/userinfo"} {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"a\x00b"}, "client_secret": {"x"}, "token": {"\xff"}}
			for _, ct := range []string{"Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded; charset=UTF-8"} {
				req, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", ct)
				if p := b.do(req); p.status != http.StatusBadRequest {
					t.Errorf("POST %s, a form of %q: %d, want 400", path, ct, p.status)
				}
			}
		}
		// net/http parses a multipart body whatever the method: a GET (or
		// DELETE) carrying one reaches FormValue and FormParams too.
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			for _, path := range []string{"/authorize", "/login", "/account", "/logout"} {
				var body bytes.Buffer
				w := multipart.NewWriter(&body)
				for k, v := range map[string]string{"client_id": "a\x00b", "redirect_uri": redirectURI, "response_type": "code", "id": "\xff", "csrf_token": csrf} {
					_ = w.WriteField(k, v)
				}
				_ = w.Close()
				req, _ := http.NewRequest(method, f.issuer+path, &body)
				req.Header.Set("Content-Type", w.FormDataContentType())
				if p := b.do(req); p.status >= 500 || p.status == http.StatusOK || p.status == http.StatusFound {
					t.Errorf("%s %s with a multipart body holding a NUL: %d, want 400 (or 404/405)", method, path, p.status)
				}
			}
		}
		// Paths of no route, and of the server's own endpoints.
		for _, path := range []string{"/login%00", "/%FF", "/oauth/token%00", "/account/%00/x"} {
			if p := b.get(f.issuer + path); p.status != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400", path, p.status)
			}
		}
		// The session survived it all.
		if p := b.get(f.issuer + "/account"); p.status != http.StatusOK {
			t.Fatalf("account page after the walk: %d", p.status)
		}
	})
}
