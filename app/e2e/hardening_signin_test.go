package e2e

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// forEachDBProxied is forEachDB behind a trusted proxy.
func forEachDBProxied(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		fn(t, newEnv(t, db.URL(t), withTrustedProxies("127.0.0.1/32", "::1/128")))
	})
}

// loginFrom opens a login page in b as the client at address ip and
// submits email and password there.
func (f *fixture) loginFrom(b *browser, ip, email, pw string) *page {
	t := b.t
	t.Helper()
	_, challenge := pkce()
	get := func(u string) *page {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("X-Forwarded-For", ip)
		return b.do(req)
	}
	p := get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	p = get(resolve(f.issuer, p.location))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("login page from %s: %d\n%s", ip, p.status, p.body)
	}
	form := url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {email}, "password": {pw}}
	req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	return b.do(req)
}

// signedIn reports whether a login answer went on (to consent or a second
// step) rather than back to the form.
func signedIn(p *page) bool { return p.status == http.StatusSeeOther }

// TestThrottleNeverLocksTheTenant is finding 5 of the security review: a
// password spray of 1,020 failures from 51 addresses (each staying within
// what one address may fail) used to lock the tenant-wide counter, and
// then every user's right password was refused from anywhere. Tenant- and
// account-wide counters now only slow attempts down: the right password
// from an address that took no part signs in.
func TestThrottleNeverLocksTheTenant(t *testing.T) {
	forEachDBProxied(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		const addresses, perAddress = 51, 20
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for a := range addresses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := e.browser()
				for i := range perAddress {
					sem <- struct{}{}
					p := f.loginFrom(b, fmt.Sprintf("198.51.%d.%d", 100+a/250, 1+a%250), fmt.Sprintf("sprayed%d-%d@acme.test", a, i), "Password123!")
					<-sem
					if p.status != http.StatusUnauthorized {
						t.Errorf("spray %d/%d: %d", a, i, p.status)
						return
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if p := f.loginFrom(e.browser(), "203.0.113.50", f.email, f.password); !signedIn(p) {
			t.Fatalf("after a spray of %d failures, the right password from an address that took no part: %d\n%s",
				addresses*perAddress, p.status, p.body)
		}
		// A spraying address that fails once more is throttled itself.
		b := e.browser()
		f.loginFrom(b, "198.51.100.1", "sprayed-more@acme.test", "Password123!")
		if p := f.loginFrom(b, "198.51.100.1", f.email, f.password); p.status != http.StatusUnauthorized {
			t.Fatalf("a spraying address's right password: %d, want a wrong password's answer", p.status)
		}
	})
}

// TestThrottleLocksThePairNotTheAccount: failures from one address lock
// that address out of that account — its right password gets a wrong
// password's answer — while the account signs in from anywhere else, from
// a browser that signed in to it before (even at the same address), and
// from the same IPv6 /64 only after the lock.
func TestThrottleLocksThePairNotTheAccount(t *testing.T) {
	forEachDBProxied(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		first := e.browser()
		if p := f.loginFrom(first, "192.0.2.10", f.email, f.password); !signedIn(p) {
			t.Fatalf("first sign-in: %d", p.status)
		}
		// The browser signed out since, but remembers the account's device
		// cookie.
		known := e.browser()
		u, _ := url.Parse(f.issuer)
		for _, c := range first.client.Jar.Cookies(u) {
			if strings.HasSuffix(c.Name, "gh_device") {
				known.client.Jar.SetCookies(u, []*http.Cookie{c})
			}
		}
		attacker := e.browser()
		var wrong *page
		for i := range 6 {
			wrong = f.loginFrom(attacker, "192.0.2.10", f.email, fmt.Sprintf("guess %d", i))
		}
		right := f.loginFrom(attacker, "192.0.2.10", f.email, f.password)
		if right.status != wrong.status || right.status != http.StatusUnauthorized || !strings.Contains(right.body, "Incorrect email or password") ||
			len(right.header.Values("Set-Cookie")) != len(wrong.header.Values("Set-Cookie")) {
			t.Fatalf("the locked pair's right password: %d, want the wrong password's answer\n%s", right.status, right.body)
		}
		if p := f.loginFrom(e.browser(), "192.0.2.11", f.email, f.password); !signedIn(p) {
			t.Fatalf("the account from another address: %d", p.status)
		}
		if p := f.loginFrom(known, "192.0.2.10", f.email, f.password); !signedIn(p) {
			t.Fatalf("a browser that signed in before, at the locked address: %d", p.status)
		}
		// IPv6: the /64 is one client.
		for i := range 6 {
			f.loginFrom(attacker, fmt.Sprintf("2001:db8:1:2::%x", i+1), f.email, "guess")
		}
		if p := f.loginFrom(e.browser(), "2001:db8:1:2:ffff::1", f.email, f.password); p.status != http.StatusUnauthorized {
			t.Fatalf("another address of the locked /64: %d, want a wrong password's answer", p.status)
		}
		if p := f.loginFrom(e.browser(), "2001:db8:1:3::1", f.email, f.password); !signedIn(p) {
			t.Fatalf("another /64: %d", p.status)
		}
	})
}

// TestMFAPolicyAppliesToExistingSessions is finding 8 of the security
// review: a session that signed in with a password before the tenant
// required two-step verification must step up: prompt=none answers
// interaction_required, an ordinary request goes to the password (the user
// has no factor to step up with) and enrolment instead of
// issuing tokens that say amr ["pwd"], and a refresh token of the
// one-factor sign-in is refused.
func TestMFAPolicyAppliesToExistingSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		tok, _ := f.codeFlow(b, f.web, []string{"openid", "offline_access"})
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		f.setMFAPolicy(t, tenants.MFARequired)
		// The family of the one-factor sign-in ends with the policy too.
		if status, body := f.refresh(tok.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("refresh of a one-factor family under a required policy: %d %v", status, body)
		}
		_, challenge := pkce()
		p := b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"},
			"prompt": {"none"}, "scope": {"openid"}}))
		if q := mustURL(p.location).Query(); q.Get("error") != "interaction_required" || q.Get("code") != "" {
			t.Fatalf("prompt=none of a single-factor session under a required policy: %s", p.location)
		}
		p = b.get(f.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"openid"}}))
		for i := 0; i < 3 && isRedirect(p); i++ {
			if strings.HasPrefix(p.location, redirectURI) {
				t.Fatalf("tokens for a single-factor session under a required policy: %s", p.location)
			}
			p = b.get(resolve(f.issuer, p.location))
		}
		// The user has no second factor to step up with: the password
		// again (a session alone sets none up), then enrolment.
		if !isLogin(p) {
			t.Fatalf("want the login form, got %d\n%s", p.status, p.body)
		}
		fl := &oidcFlow{f: f, b: b}
		if p = fl.password(p); !isEnrol(p) {
			t.Fatalf("want the enrolment step, got %d\n%s", p.status, p.body)
		}
		// The account pages too.
		if p := b.get(f.issuer + "/account"); p.status != http.StatusFound || !strings.HasPrefix(p.location, "/login?id=") {
			t.Fatalf("account page of a single-factor session under a required policy: %d %s", p.status, p.location)
		}
	})
}

// TestInputMultipartAndLongUserAgent is the rest of finding 12: a
// multipart form goes through the same NUL/UTF-8 filter as any other (no
// 500 on PostgreSQL), and a user agent of multibyte characters longer than
// what a session keeps is cut at a character, not inside one.
func TestInputMultipartAndLongUserAgent(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		p := f.loginPage(b)
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for k, v := range map[string]string{"id": field(t, idField, p.body), "csrf_token": field(t, csrfField, p.body),
			"email": "ann\x00@acme.test", "password": "x"} {
			_ = w.WriteField(k, v)
		}
		_ = w.Close()
		req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		if q := b.do(req); q.status != http.StatusBadRequest {
			t.Fatalf("multipart login with a NUL byte: %d, want 400\n%s", q.status, q.body)
		}

		ua := strings.Repeat("\u00e9", 300) // 600 bytes, two per character
		b = e.browser()
		p = f.loginPage(b)
		form := url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}}
		req, _ = http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", ua)
		if q := b.do(req); !signedIn(q) {
			t.Fatalf("a login with a 600-byte multibyte user agent: %d\n%s", q.status, q.body)
		}
		ss, err := e.store.ListSessions(f.tctx(), f.userID)
		if err != nil || len(ss) != 1 || !strings.HasPrefix(ua, ss[0].UserAgent) || len(ss[0].UserAgent) == 0 {
			t.Fatalf("the session's user agent: %+v %v", ss, err)
		}
	})
}
