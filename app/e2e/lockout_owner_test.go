package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestSecondFactorLockoutSparesTheOwner: whoever knows the password and
// fails the second factor locks the account's second factor for browsers
// the account does not recognize (theirs included, however many times
// they sign in again with the password), but not for the browser that
// completed a two-factor sign-in before: its owner still signs in.
func TestSecondFactorLockoutSparesTheOwner(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		owner := e.browser()
		app, _, _ := f.enrolTOTP(t, owner)
		// The server's clock stands still: the lock does not run out
		// while the test looks at it, and one code stays good.
		frozen := e.store.Now()
		e.store.SetClock(func() time.Time { return frozen })
		right := app.code(t)

		attacker := e.browser()
		fl, p := f.begin(attacker)
		p = fl.password(p)
		const free = 5
		for i := range free + 1 {
			if q := fl.mfaCode(p, "code", wrongCode(t, app.secret)); q.status != http.StatusUnauthorized {
				t.Fatalf("wrong code %d: %d", i+1, q.status)
			}
		}
		// The attacker gets no more tries: not with the right code, not
		// from a new browser after the password again.
		if q := fl.mfaCode(p, "code", right); q.status != http.StatusUnauthorized || !strings.Contains(q.body, wrongCodeText) {
			t.Fatalf("the attacker's browser, locked, with the right code: %d", q.status)
		}
		fl2, p2 := f.begin(e.browser())
		if q := fl2.mfaCode(fl2.password(p2), "code", right); q.status != http.StatusUnauthorized {
			t.Fatalf("a new unrecognized browser while the account's second factor is locked: %d", q.status)
		}
		// The owner's browser signs in (the password again, then the code).
		ofl, op := f.begin(owner, "prompt", "login")
		op = ofl.password(op)
		ofl.finish(ofl.mfaCode(op, "code", right)).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
	})
}

// TestResetLockoutSparesTheOwner: requests for a reset of someone's
// address from elsewhere lock the address for everyone else, but the
// browser that signed in to the account before still gets its link.
func TestResetLockoutSparesTheOwner(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		owner := e.browser()
		f.accountPage(owner)
		attacker := e.browser()
		const free = 5
		for range free + 1 {
			if p := f.requestReset(attacker, f.email); p.status != http.StatusOK {
				t.Fatalf("reset request: %d", p.status)
			}
		}
		for range free + 1 {
			smtp.next(f.email)
		}
		// Now locked: the attacker's browser, and another unrecognized
		// one, send nothing.
		f.requestReset(attacker, f.email)
		f.requestReset(e.browser(), f.email)
		smtp.none(f.email, 300*time.Millisecond)
		// The owner's browser gets its link.
		if p := f.requestReset(owner, f.email); p.status != http.StatusOK {
			t.Fatalf("owner's reset request: %d", p.status)
		}
		if m := smtp.next(f.email); !strings.Contains(m.Text, "/reset/confirm") {
			t.Fatalf("owner's reset mail:\n%s", m.Text)
		}
	})
}

// TestConfirmLockoutSparesTheOwner: a thief holding a copy of the session
// cookie (and nothing else of the browser) fails the password at the
// account page until the account's confirmations lock; the owner's
// browser, which signed in to the account, still confirms its changes,
// while the thief stays locked even with the right password.
func TestConfirmLockoutSparesTheOwner(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		owner := e.browser()
		ownerCSRF := field(t, csrfField, f.accountPage(owner).body)
		f.staleSession(t, owner)
		// The server's clock stands still: the lock does not run out
		// while the test looks at it.
		frozen := e.store.Now()
		e.store.SetClock(func() time.Time { return frozen })
		thief := e.browser()
		u := mustURL(f.issuer)
		for _, c := range owner.client.Jar.Cookies(u) {
			if strings.HasSuffix(c.Name, "gh_session") {
				thief.client.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
			}
		}
		acct := thief.get(f.issuer + "/account")
		if acct.status != http.StatusOK {
			t.Fatalf("the thief's copy of the session: %d %s", acct.status, acct.location)
		}
		csrf := field(t, csrfField, acct.body)
		const free = 5
		for i := range free + 1 {
			if q := f.accountPost(thief, csrf, "/account/email", url.Values{"email": {"thief@evil.test"}, "confirm": {"wrong password " + string(rune('a'+i))}}); q.status != http.StatusBadRequest {
				t.Fatalf("wrong confirmation %d: %d", i+1, q.status)
			}
		}
		if q := f.accountPost(thief, csrf, "/account/email", url.Values{"email": {"thief@evil.test"}, "confirm": {f.password}}); q.status != http.StatusBadRequest {
			t.Fatalf("the thief, locked, with the right password: %d", q.status)
		}
		smtp.none("thief@evil.test", 200*time.Millisecond)
		if q := f.accountPost(owner, ownerCSRF, "/account/email", url.Values{"email": {"ann.next@acme.test"}, "confirm": {f.password}}); !strings.Contains(q.body, "We sent a confirmation link") {
			t.Fatalf("the owner's confirmation while the account's is locked: %d\n%s", q.status, q.body)
		}
		smtp.next("ann.next@acme.test")
	})
}
