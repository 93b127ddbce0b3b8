package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// addTOTP adds an authenticator app from the account page of b, whose
// session signed in moments ago, and returns its secret.
func (f *fixture) addTOTP(t *testing.T, b *browser) *authApp {
	t.Helper()
	p := b.get(f.issuer + "/account/mfa/totp")
	if p.status != http.StatusOK {
		t.Fatalf("authenticator set-up page: %d\n%s", p.status, p.body)
	}
	app := &authApp{secret: field(t, mfaSecret, p.body)}
	q := b.post(f.issuer+"/account/mfa/totp", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "code": {app.code(t)}})
	if q.status != http.StatusOK || len(recoveryItem.FindAllString(q.body, -1)) != 10 {
		t.Fatalf("adding the authenticator: %d\n%s", q.status, q.body)
	}
	return app
}

// factorCount is how many confirmed second factors the fixture's user has.
func (f *fixture) factorCount(t *testing.T) int {
	t.Helper()
	fs, err := f.e.store.ListFactors(f.tctx(), f.userID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range fs {
		if x.Confirmed {
			n++
		}
	}
	return n
}

// TestAccountStolenSessionAddsNoWayIn is finding 4 of the security review:
// a session signed in more than a few minutes ago (a stolen cookie) cannot
// add an authenticator app, change the address, make recovery codes,
// remove a factor, sign other sessions out or unlink an identity without
// the password (or a code of an existing factor); and a factor added in
// the session's own sign-in never stands for that confirmation.
func TestAccountStolenSessionAddsNoWayIn(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		thief := e.browser()
		csrf := field(t, csrfField, f.accountPage(thief).body)
		f.staleSession(t, thief)

		// An authenticator app: its set-up page shows a secret, but
		// turning it on needs the confirmation.
		p := thief.get(f.issuer + "/account/mfa/totp")
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="confirm"`) {
			t.Fatalf("set-up page of a stale session: %d, want a confirmation field\n%s", p.status, p.body)
		}
		app := &authApp{secret: field(t, mfaSecret, p.body)}
		q := thief.post(f.issuer+"/account/mfa/totp", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "code": {app.code(t)}})
		if q.status != http.StatusForbidden || f.factorCount(t) != 0 {
			t.Fatalf("a stale session turned an authenticator on: %d, %d factors", q.status, f.factorCount(t))
		}
		// The address.
		if q := f.accountPost(thief, csrf, "/account/email", url.Values{"email": {"thief@evil.test"}}); q.status != http.StatusBadRequest {
			t.Fatalf("a stale session asked to change the address: %d", q.status)
		}
		smtp.none("thief@evil.test", 200*time.Millisecond)
		// Another session of the user.
		other := e.browser()
		f.accountPage(other)
		handle := field(t, sessionHandles, f.accountPage(thief).body)
		if q := f.accountPost(thief, csrf, "/account/sessions/"+handle+"/revoke", nil); q.status != http.StatusBadRequest || f.signedOut(other) {
			t.Fatalf("a stale session signed another out: %d", q.status)
		}
		// With the password it is the user: the change goes through.
		if q := thief.post(f.issuer+"/account/mfa/totp", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "code": {app.code(t)}, "confirm": {f.password}}); q.status != http.StatusOK {
			t.Fatalf("with the password: %d\n%s", q.status, q.body)
		}
	})
}

// TestAccountNewFactorDoesNotConfirm: an authenticator app added in this
// sign-in (while the session was fresh) does not confirm its sensitive
// changes once the session is older; the password still does, and a
// factor of an earlier sign-in does too.
func TestAccountNewFactorDoesNotConfirm(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		b := e.browser()
		f.accountPage(b)
		app := f.addTOTP(t, b)
		csrf := field(t, csrfField, f.accountPage(b).body)
		f.staleSession(t, b)
		if q := f.accountPost(b, csrf, "/account/email", url.Values{"email": {"ann.next@acme.test"}, "confirm": {app.code(t)}}); q.status != http.StatusBadRequest {
			t.Fatalf("the new factor's code confirmed a change of address: %d", q.status)
		}
		smtp.none("ann.next@acme.test", 200*time.Millisecond)
		if q := f.accountPost(b, csrf, "/account/email", url.Values{"email": {"ann.next@acme.test"}, "confirm": {f.password}}); !strings.Contains(q.body, "We sent a confirmation link") {
			t.Fatalf("the password did not confirm the change: %d\n%s", q.status, q.body)
		}
		smtp.next("ann.next@acme.test")

		// In a later sign-in (password and the code), the factor counts.
		b2 := e.browser()
		fl, p := f.begin(b2)
		p = fl.password(p)
		if !isMFA(p) {
			t.Fatalf("want the MFA step, got %d\n%s", p.status, p.body)
		}
		fl.finish(fl.mfaCode(p, "code", app.code(t)))
		csrf2 := field(t, csrfField, f.accountPage(b2).body)
		f.staleSession(t, b2)
		if q := f.accountPost(b2, csrf2, "/account/mfa/recovery", url.Values{"confirm": {app.code(t)}}); len(recoveryItem.FindAllString(q.body, -1)) != 10 {
			t.Fatalf("a factor of an earlier sign-in did not confirm: %d\n%s", q.status, q.body)
		}
	})
}

// TestAccountConcurrentCodeConfirmsOnce is the TOTP half of finding 12:
// one code submitted several times at once confirms one change, not
// several (the factor's last step is claimed by a compare-and-swap).
func TestAccountConcurrentCodeConfirmsOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		enrol := e.browser()
		f.accountPage(enrol)
		app := f.addTOTP(t, enrol)
		// A later sign-in, whose sensitive changes the factor confirms.
		b := e.browser()
		fl, p := f.begin(b)
		fl.finish(fl.mfaCode(fl.password(p), "code", app.code(t)))
		csrf := field(t, csrfField, f.accountPage(b).body)
		f.staleSession(t, b)
		code := app.code(t)
		const n = 12
		var wg sync.WaitGroup
		results := make([]int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := b.post(f.issuer+"/account/mfa/recovery", url.Values{"csrf_token": {csrf}, "confirm": {code}})
				results[i] = len(recoveryItem.FindAllString(q.body, -1))
			}()
		}
		wg.Wait()
		passed := 0
		for _, r := range results {
			if r == 10 {
				passed++
			}
		}
		if passed != 1 {
			t.Fatalf("one code confirmed %d changes at once, want 1", passed)
		}
	})
}

// TestAccountPasswordlessReauthenticates: an account without a password
// (it signs in through an upstream) cannot add a passkey from a stale
// session; it signs in again — at the upstream, as itself — and then
// can.
func TestAccountPasswordlessReauthenticates(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		google := e.connect(f, tenants.ConnectionGoogle, "Google", true)
		e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-pat", Email: "pat@gmail.test", EmailVerified: true, Name: "Pat"})
		b := e.browser()
		pat := f.federatedLogin(b, google)
		pf := *f
		pf.userID, pf.email = pat.Subject, "pat@gmail.test"
		acct := (&pf).accountPage(b)
		if !strings.Contains(acct.body, "Sign in again") && !strings.Contains(acct.body, "a moment ago") {
			t.Fatalf("account page:\n%s", acct.body)
		}
		pf.staleSession(t, b)
		acct = b.get(f.issuer + "/account")
		if !strings.Contains(acct.body, `action="/account/reauthenticate"`) || strings.Contains(acct.body, `name="confirm"`) {
			t.Fatalf("a passwordless stale session: want the sign-in-again button and no confirmation field\n%s", acct.body)
		}
		csrf := field(t, csrfField, acct.body)
		fl := &oidcFlow{f: f, b: b}
		key := &softKey{t: t}
		opts := fl.options("/account/webauthn/options")
		p := b.post(f.issuer+"/account/webauthn", url.Values{"csrf_token": {csrf}, "credential": {key.create(f.issuer, opts)}})
		// Refused: the confirmation step, which for an account without a
		// password offers only signing in again.
		if p.status != http.StatusBadRequest || strings.Contains(p.body, `id="confirm-change"`) || !strings.Contains(p.body, `action="/account/reauthenticate"`) {
			t.Fatalf("a stale passwordless session added a passkey: %d %s\n%s", p.status, p.location, p.body)
		}
		// Sign in again: the login page, "Continue with Google", and back
		// to the account page, whose session is fresh.
		p = b.post(f.issuer+"/account/reauthenticate", url.Values{"csrf_token": {csrf}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?id=") {
			t.Fatalf("sign in again: %d %s", p.status, p.location)
		}
		login := b.get(resolve(f.issuer, p.location))
		if !strings.Contains(login.body, "Continue with Google") {
			t.Fatalf("the re-authentication's login page:\n%s", login.body)
		}
		p = b.post(f.issuer+"/login/federated", url.Values{"id": {field(t, idField, login.body)}, "csrf_token": {field(t, csrfField, login.body)}, "connection": {google.ID}})
		cb := b.get(p.location)
		p = b.get(cb.location)
		for i := 0; i < 4 && isRedirect(p); i++ {
			p = b.get(resolve(f.issuer, p.location))
		}
		if p.status != http.StatusOK || !strings.Contains(p.body, "You signed in again") {
			t.Fatalf("after signing in again: %d\n%s", p.status, p.body)
		}
		opts = fl.options("/account/webauthn/options")
		p = b.post(f.issuer+"/account/webauthn", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "credential": {key.create(f.issuer, opts)}})
		if p.status != http.StatusOK || len(recoveryItem.FindAllString(p.body, -1)) != 10 {
			t.Fatalf("adding a passkey after signing in again: %d %s\n%s", p.status, p.location, p.body)
		}
		if evs := f.audit("login.succeeded"); len(evs) == 0 || evs[0].Reason != "re-authentication for the account page" {
			t.Fatalf("the re-authentication is not audited as one: %+v", evs)
		}
	})
}

// TestAccountReauthenticationIsTheSameUser: signing in again for the
// account page as someone else fails, and changes nothing.
func TestAccountReauthenticationIsTheSameUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		other := f.as("bob@acme.test", testPassword)
		if _, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: other.email, Password: other.password}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		csrf := field(t, csrfField, f.accountPage(b).body)
		f.staleSession(t, b)
		p := b.post(f.issuer+"/account/reauthenticate", url.Values{"csrf_token": {csrf}})
		login := b.get(resolve(f.issuer, p.location))
		if !strings.Contains(login.body, `value="`+f.email+`"`) {
			t.Fatalf("the re-authentication does not name the user:\n%s", login.body)
		}
		p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, login.body)}, "csrf_token": {field(t, csrfField, login.body)},
			"email": {other.email}, "password": {other.password}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "another user") {
			t.Fatalf("re-authenticating as another user: %d\n%s", p.status, p.body)
		}
	})
}
