package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestAPIUsers creates, finds, pages, changes and deletes users through
// the API.
func TestAPIUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		base := "/tenants/acme/users"

		status, hdr, u := c.do(t, http.MethodPost, base, map[string]any{"email": "Bob@Acme.test", "password": testPassword, "name": "Bob", "email_verified": true})
		if status != http.StatusCreated || u["email"] != "Bob@Acme.test" || u["email_verified"] != true || u["disabled"] != false {
			t.Fatalf("create: %d %v", status, u)
		}
		bob := u["id"].(string)
		if hdr.Get("Location") != admin.APIPath+base+"/"+bob {
			t.Fatalf("Location %q", hdr.Get("Location"))
		}
		if got := c.must(t, http.StatusOK, http.MethodGet, base+"/"+bob, nil); got["name"] != "Bob" {
			t.Fatalf("get: %v", got)
		}
		// Email addresses are unique per tenant, whatever their case.
		status, hdr, body := c.do(t, http.MethodPost, base, map[string]any{"email": "bob@acme.TEST", "password": testPassword})
		wantProblem(t, "email taken", status, hdr, body, http.StatusConflict, "")

		// Bob signs in with the password the API set, then it changes.
		bobFix := *f
		bobFix.email, bobFix.password = "bob@acme.test", testPassword
		bobFix.codeFlow(e.browser(), f.web, []string{"openid"})
		c.must(t, http.StatusNoContent, http.MethodPut, base+"/"+bob+"/password", map[string]any{"password": "a brand new passphrase"})
		bobFix.password = "a brand new passphrase"
		bobFix.codeFlow(e.browser(), f.web, []string{"openid"})

		// Change the profile; a new email address is unverified.
		v := c.must(t, http.StatusOK, http.MethodPatch, base+"/"+bob, map[string]any{"email": "robert@acme.test", "given_name": "Robert"})
		if v["email"] != "robert@acme.test" || v["email_verified"] != false || v["given_name"] != "Robert" || v["name"] != "Bob" {
			t.Fatalf("patch: %v", v)
		}
		status, hdr, body = c.do(t, http.MethodPatch, base+"/"+bob, map[string]any{"email": f.email})
		wantProblem(t, "email of another user", status, hdr, body, http.StatusBadRequest, "email")

		// Search and pages: ann, robert and 5 more, in email order.
		for i := range 5 {
			c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"email": fmt.Sprintf("user%d@acme.test", i), "password": testPassword})
		}
		var emails []string
		next, pages := "", 0
		for {
			p := c.must(t, http.StatusOK, http.MethodGet, base+"?limit=3&after="+url.QueryEscape(next), nil)
			pages++
			for _, x := range objects(t, p["items"]) {
				emails = append(emails, x["email"].(string))
			}
			n, _ := p["next"].(string)
			if n == "" {
				break
			}
			if strings.Contains(n, "@") {
				t.Fatalf("the cursor is not opaque: %q", n)
			}
			next = n
		}
		want := []string{f.email, "robert@acme.test", "user0@acme.test", "user1@acme.test", "user2@acme.test", "user3@acme.test", "user4@acme.test"}
		if !slices.Equal(emails, want) || pages != 3 {
			t.Fatalf("%d pages: %v", pages, emails)
		}
		if got := c.items(t, base+"?q=ROBERT"); len(got) != 1 || got[0]["id"] != bob {
			t.Fatalf("search robert: %v", got)
		}
		if got := c.items(t, base+"?q=user&limit=2"); len(got) != 2 {
			t.Fatalf("search user, limit 2: %v", got)
		}
		if got := c.items(t, base+"?q=%25"); len(got) != 0 {
			t.Fatalf("%% is not a wildcard: %v", got)
		}

		for _, tc := range []struct {
			name, method, path string
			body               any
			field              string
		}{
			{"bad email", http.MethodPost, base, map[string]any{"email": "not-an-email", "password": testPassword}, "email"},
			{"display name in email", http.MethodPost, base, map[string]any{"email": "Eve <eve@acme.test>", "password": testPassword}, "email"},
			{"short password", http.MethodPost, base, map[string]any{"email": "eve@acme.test", "password": "short"}, "password"},
			{"no password", http.MethodPost, base, map[string]any{"email": "eve@acme.test"}, "password"},
			{"common password", http.MethodPost, base, map[string]any{"email": "eve@acme.test", "password": "qwertyuiop123"}, "password"},
			{"email as password", http.MethodPost, base, map[string]any{"email": "eve.longname@acme.test", "password": "Eve.Longname@acme.test"}, "password"},
			{"common new password", http.MethodPut, base + "/" + bob + "/password", map[string]any{"password": "1qaz2wsx3edc"}, "password"},
			{"control character in name", http.MethodPost, base, map[string]any{"email": "eve@acme.test", "password": testPassword, "name": "E\u0007ve"}, "name"},
			{"verified of wrong type", http.MethodPost, base, map[string]any{"email": "eve@acme.test", "password": testPassword, "email_verified": "yes"}, "email_verified"},
			{"unknown field", http.MethodPost, base, map[string]any{"email": "eve@acme.test", "password": testPassword, "role": "admin"}, "role"},
			{"password hash field", http.MethodPost, base, map[string]any{"email": "eve@acme.test", "password_hash": "$argon2id$"}, "password_hash"},
			{"patch bad email", http.MethodPatch, base + "/" + bob, map[string]any{"email": "nope"}, "email"},
			{"patch password", http.MethodPatch, base + "/" + bob, map[string]any{"password": testPassword}, "password"},
			{"patch disabled", http.MethodPatch, base + "/" + bob, map[string]any{"disabled": true}, "disabled"},
			{"short new password", http.MethodPut, base + "/" + bob + "/password", map[string]any{"password": "tiny"}, "password"},
			{"password of wrong type", http.MethodPut, base + "/" + bob + "/password", map[string]any{"password": 123456789012}, "password"},
			{"limit", http.MethodGet, base + "?limit=500", nil, "limit"},
			{"cursor", http.MethodGet, base + "?after=not*base64", nil, "after"},
			{"long query", http.MethodGet, base + "?q=" + strings.Repeat("a", 201), nil, "q"},
			{"query with NUL", http.MethodGet, base + "?q=a%00b", nil, "q"},
		} {
			status, hdr, body := c.do(t, tc.method, tc.path, tc.body)
			wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, tc.field)
		}
		// Malformed bodies.
		for _, tc := range []struct{ name, ct, body string }{
			{"not JSON", "application/json", "{email"},
			{"two objects", "application/json", `{"email":"a@b.test"}{}`},
			{"an array", "application/json", `[{"email":"a@b.test"}]`},
			{"null", "application/json", `null`},
			{"empty", "application/json", ``},
			{"a form", "application/x-www-form-urlencoded", "email=a%40b.test"},
		} {
			status, hdr, raw := c.raw(t, http.MethodPost, base, tc.ct, []byte(tc.body))
			var body map[string]any
			_ = jsonUnmarshal(raw, &body)
			wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, "")
		}
		// An id no user can have never reaches the database: a NUL byte
		// or invalid UTF-8 in the path is refused before routing, as
		// anywhere in a request (400 naming the path); a well-formed id
		// no user has answers 404.
		for _, id := range []string{"a%00b", "%ff"} {
			status, hdr, body := c.do(t, http.MethodGet, base+"/"+id, nil)
			wantProblem(t, "id "+id[:3], status, hdr, body, http.StatusBadRequest, "path")
		}
		status, hdr, body = c.do(t, http.MethodGet, base+"/"+strings.Repeat("x", 300), nil)
		wantProblem(t, "a 300-character id", status, hdr, body, http.StatusNotFound, "")

		// Delete: 204, then 404; the user can no longer sign in.
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/"+bob, nil)
		status, hdr, body = c.do(t, http.MethodDelete, base+"/"+bob, nil)
		wantProblem(t, "second delete", status, hdr, body, http.StatusNotFound, "")
		for _, p := range []string{"", "/sessions", "/consents"} {
			status, hdr, body = c.do(t, http.MethodGet, base+"/"+bob+p, nil)
			wantProblem(t, "deleted user"+p, status, hdr, body, http.StatusNotFound, "")
		}
		for _, p := range []string{"/disable", "/enable"} {
			status, hdr, body = c.do(t, http.MethodPost, base+"/"+bob+p, nil)
			wantProblem(t, "deleted user"+p, status, hdr, body, http.StatusNotFound, "")
		}
		status, hdr, body = c.do(t, http.MethodPut, base+"/"+bob+"/password", map[string]any{"password": testPassword})
		wantProblem(t, "deleted user's password", status, hdr, body, http.StatusNotFound, "")
	})
}

// TestAPIUserSessionsAndConsents ends sessions, disables a user and
// revokes a consent through the API, and checks the effect at the tenant:
// prompt=none needs a login again, refresh tokens stop working.
func TestAPIUserSessionsAndConsents(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		user := "/tenants/acme/users/" + f.userID
		promptNone := func(b *browser) string {
			t.Helper()
			_, challenge := pkce()
			p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {"none"}, "scope": {"openid"}}))
			q := mustURL(p.location).Query()
			if q.Get("code") != "" {
				return "code"
			}
			return q.Get("error")
		}

		// Two browsers, two sessions; ending one ends that one only.
		b1, b2 := e.browser(), e.browser()
		tok, _ := f.codeFlow(b1, f.web, []string{"openid", "offline_access"})
		f.codeFlow(b2, f.web, []string{"openid"})
		ss := c.items(t, user+"/sessions")
		if len(ss) != 2 || ss[0]["id"] == ss[1]["id"] || ss[0]["auth_time"] == nil || !slices.Contains(strs(ss[0]["amr"]), "pwd") {
			t.Fatalf("sessions: %v", ss)
		}
		for _, s := range ss {
			if len(s["id"].(string)) > 40 {
				t.Fatalf("a session id that looks like a key: %v", s)
			}
		}
		c.must(t, http.StatusNoContent, http.MethodDelete, user+"/sessions/"+ss[0]["id"].(string), nil)
		status, hdr, body := c.do(t, http.MethodDelete, user+"/sessions/"+ss[0]["id"].(string), nil)
		wantProblem(t, "second session delete", status, hdr, body, http.StatusNotFound, "")
		// One browser lost its session, the other kept it.
		r1, r2 := promptNone(b1), promptNone(b2)
		switch {
		case r1 == "code" && r2 == "login_required":
		case r1 == "login_required" && r2 == "code":
			b1 = b2
		default:
			t.Fatalf("prompt=none after one session ended: %s and %s", r1, r2)
		}
		if got := c.items(t, user+"/sessions"); len(got) != 1 || got[0]["id"] != ss[1]["id"] {
			t.Fatalf("sessions after one ended: %v", got)
		}

		// Consents: the web app, with its scopes; revoking it revokes its
		// refresh tokens.
		cs := c.items(t, user+"/consents")
		if len(cs) != 1 || cs[0]["client_id"] != f.web.ClientID || cs[0]["client_name"] != "web" {
			t.Fatalf("consents: %v", cs)
		}
		if s, b := f.refresh(tok.RefreshToken); s != http.StatusOK {
			t.Fatalf("refresh before revocation: %d %v", s, b)
		} else {
			tok.RefreshToken = b["refresh_token"].(string)
		}
		c.must(t, http.StatusNoContent, http.MethodDelete, user+"/consents/"+f.web.ClientID, nil)
		status, hdr, body = c.do(t, http.MethodDelete, user+"/consents/"+f.web.ClientID, nil)
		wantProblem(t, "second consent revocation", status, hdr, body, http.StatusNotFound, "")
		if s, b := f.refresh(tok.RefreshToken); s != http.StatusBadRequest || errorCode(b) != "invalid_grant" {
			t.Fatalf("refresh after the consent was revoked: %d %v", s, b)
		}
		if got := c.items(t, user+"/consents"); len(got) != 0 {
			t.Fatalf("consents after revocation: %v", got)
		}
		if got := promptNone(b1); got != "consent_required" {
			t.Fatalf("prompt=none after the consent was revoked: %s", got)
		}

		// Disabling ends every session: prompt=none needs a login again,
		// and the user cannot sign in until enabled.
		tok, _ = f.codeFlow(b1, f.web, []string{"openid", "offline_access"})
		v := c.must(t, http.StatusOK, http.MethodPost, user+"/disable", nil)
		if v["disabled"] != true || v["id"] != f.userID {
			t.Fatalf("disable: %v", v)
		}
		if got := promptNone(b1); got != "login_required" {
			t.Fatalf("prompt=none after disable: %s", got)
		}
		if got := c.items(t, user+"/sessions"); len(got) != 0 {
			t.Fatalf("sessions after disable: %v", got)
		}
		if s, _ := f.refresh(tok.RefreshToken); s != http.StatusBadRequest {
			t.Fatalf("refresh after disable: %d", s)
		}
		_, challenge := pkce()
		p := b1.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		p = b1.get(resolve(f.issuer, p.location))
		p = b1.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}})
		if p.status == http.StatusSeeOther {
			t.Fatalf("a disabled user signed in: %d %s", p.status, p.location)
		}
		v = c.must(t, http.StatusOK, http.MethodPost, user+"/enable", nil)
		if v["disabled"] != false {
			t.Fatalf("enable: %v", v)
		}
		f.codeFlow(e.browser(), f.web, []string{"openid"})
	})
}
