package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// loginForm opens the login page of an authorization request in a fresh
// browser and returns a function that submits it.
func (f *fixture) loginForm(t *testing.T) func(email, pw string) *page {
	t.Helper()
	b := f.e.browser()
	p := f.loginPage(b)
	id, csrf := field(t, idField, p.body), field(t, csrfField, p.body)
	return func(email, pw string) *page {
		return b.post(f.issuer+"/login", url.Values{"id": {id}, "csrf_token": {csrf}, "email": {email}, "password": {pw}})
	}
}

// TestLoginThrottlePerAccount: five wrong passwords cost nothing; the
// sixth locks the account for a short, growing delay, during which even
// the right password gets exactly the wrong password's answer; once the
// delay has passed, the right password signs in (no lasting lockout).
func TestLoginThrottlePerAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		try := f.loginForm(t)
		var wrong *page
		for i := 1; i <= 6; i++ {
			wrong = try(f.email, fmt.Sprintf("wrong password %d", i))
			if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "Incorrect email or password") {
				t.Fatalf("wrong password %d: %d", i, wrong.status)
			}
		}
		locked := time.Now()
		right := try(f.email, f.password)
		if right.status != http.StatusUnauthorized {
			t.Fatalf("the right password during the lock: %d, want 401", right.status)
		}
		if right.body != wrong.body || len(right.header.Values("Set-Cookie")) != 0 {
			t.Fatal("a throttled attempt's answer differs from a wrong password's")
		}
		if evs := f.audit("login.throttled"); len(evs) == 0 {
			t.Fatal("the throttled attempt is not in the audit log")
		}
		// The lock of the sixth failure is 2 s: after it, the right
		// password signs in.
		time.Sleep(time.Until(locked.Add(2500 * time.Millisecond)))
		if p := try(f.email, f.password); p.status != http.StatusSeeOther {
			t.Fatalf("the right password after the lock: %d\n%s", p.status, p.body)
		}
	})
}

// TestLoginThrottlePerAddress: an address spraying passwords over many
// accounts is throttled (twenty free failures), and then even another
// account's right password is refused from it, with a wrong password's
// answer.
func TestLoginThrottlePerAddress(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		try := f.loginForm(t)
		for i := 1; i <= 21; i++ {
			if p := try(fmt.Sprintf("user%d@acme.test", i), "Password123!"); p.status != http.StatusUnauthorized {
				t.Fatalf("spray %d: %d", i, p.status)
			}
		}
		if p := try(f.email, f.password); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Incorrect email or password") {
			t.Fatalf("right password from a throttled address: %d", p.status)
		}
	})
}
