package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/app/authn"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// burst posts form n times at once with b to path, form(i) giving the
// i-th request's fields, and returns the statuses.
func burst(b *browser, target string, n int, form func(i int) url.Values) []int {
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = b.post(target, form(i)).status
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// lockCouldLapse reports (and logs) whether a lock taken during a burst
// that started at start may have lapsed by now: the first lock after the
// free failures lasts the rules' Base (2 s), and a busy machine can take
// longer than that over the burst and the check that follows it. The
// checks of "the right secret after the burst is refused" hold only
// within that time; the counts of secrets checked hold always.
func lockCouldLapse(t *testing.T, start time.Time, base time.Duration) bool {
	t.Helper()
	if d := time.Since(start); d >= base {
		t.Logf("the burst and the check took %s, longer than the %s lock: the lock may have lapsed, not checking it", d.Round(time.Millisecond), base)
		return true
	}
	return false
}

// failures counts the events of action with outcome "failure": the
// attempts whose secret was checked and was wrong.
func failures(evs []tenants.AuditEvent) int {
	n := 0
	for _, ev := range evs {
		if ev.Outcome == "failure" {
			n++
		}
	}
	return n
}

// TestReauthBurstGetsNoMoreGuesses: a stolen session's holder guessing
// the password to confirm a change gets the account's five free failures
// and the locking one, however the guesses are sent. Thirty wrong
// passwords posted at once used to pass the throttle's check together
// and were all checked.
func TestReauthBurstGetsNoMoreGuesses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		h := testHasher()
		e := newEnv(t, db.URL(t), withHasher(h))
		f := e.fixture("acme")
		thief := e.browser()
		csrf := field(t, csrfField, f.accountPage(thief).body)
		f.staleSession(t, thief)
		const n = 30
		before := h.Computed()
		started := time.Now()
		statuses := burst(thief, f.issuer+"/account/email", n, func(i int) url.Values {
			return url.Values{"csrf_token": {csrf}, "email": {"thief@evil.test"}, "confirm": {fmt.Sprintf("wrong password %d", i)}}
		})
		for i, s := range statuses {
			if s != http.StatusBadRequest && s != http.StatusServiceUnavailable {
				t.Errorf("wrong password %d: %d", i, s)
			}
		}
		if checked := h.Computed() - before; checked > 6 {
			t.Errorf("a burst of %d wrong passwords had %d checked, want at most 6 (five free and the one that locks)", n, checked)
		}
		if failed := failures(f.audit("reauthentication.failed")); failed > 6 {
			t.Errorf("%d wrong passwords audited as checked, want at most 6", failed)
		}
		// The account's confirmations are locked now: the right password
		// looks wrong.
		if q := f.accountPost(thief, csrf, "/account/email", url.Values{"email": {"thief@evil.test"}, "confirm": {f.password}}); q.status != http.StatusBadRequest && !lockCouldLapse(t, started, authn.ConfirmRules.Account.Base) {
			t.Errorf("the right password after the burst: %d, want 400", q.status)
		}
	})
}

// TestTOTPEnrolBurstGetsNoMoreGuesses: the first code of a new
// authenticator app is throttled like a second factor: thirty wrong codes
// posted at once are checked no more than the six that one after another
// would be.
func TestTOTPEnrolBurstGetsNoMoreGuesses(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		f.accountPage(b)
		p := b.get(f.issuer + "/account/mfa/totp")
		if p.status != http.StatusOK {
			t.Fatalf("authenticator set-up page: %d\n%s", p.status, p.body)
		}
		app := &authApp{secret: field(t, mfaSecret, p.body)}
		csrf := field(t, csrfField, p.body)
		const n = 30
		started := time.Now()
		statuses := burst(b, f.issuer+"/account/mfa/totp", n, func(int) url.Values {
			return url.Values{"csrf_token": {csrf}, "code": {wrongCode(t, app.secret)}}
		})
		for i, s := range statuses {
			if s != http.StatusUnauthorized {
				t.Errorf("wrong code %d: %d", i, s)
			}
		}
		if checked := failures(f.audit("mfa.enrol_failed")); checked > 6 {
			t.Errorf("a burst of %d wrong codes had %d checked, want at most 6 (five free and the one that locks)", n, checked)
		}
		if q := b.post(f.issuer+"/account/mfa/totp", url.Values{"csrf_token": {csrf}, "code": {app.code(t)}}); (q.status != http.StatusUnauthorized || f.factorCount(t) != 0) && !lockCouldLapse(t, started, authn.SecondFactorRules.Account.Base) {
			t.Errorf("the right code after the burst: %d, %d factors, want 401 and none", q.status, f.factorCount(t))
		}
	})
}

// TestResetBurstSendsNoMoreMail: a reset of one address sends no more
// mail however the requests are sent: thirty posted at once send at most
// the six that the account's five free requests and the locking one
// allow one after another (check-then-count let the burst through
// together).
func TestResetBurstSendsNoMoreMail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		form := b.get(f.issuer + "/reset")
		if form.status != http.StatusOK {
			t.Fatalf("reset form: %d\n%s", form.status, form.body)
		}
		csrf := field(t, csrfField, form.body)
		const n = 30
		statuses := burst(b, f.issuer+"/reset", n, func(int) url.Values {
			return url.Values{"csrf_token": {csrf}, "email": {f.email}}
		})
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("reset request %d: %d", i, s)
			}
		}
		sent := 0
		for _, ev := range f.audit("password.reset_requested") {
			if ev.Outcome == "success" {
				sent++
			}
		}
		if sent > 6 {
			t.Errorf("a burst of %d reset requests sent %d links, want at most 6", n, sent)
		}
	})
}

// TestSignupBurstSendsNoMoreMail: sign-ups of one (taken) address posted
// at once tell its owner no more often than sign-ups one after another:
// the account's five free requests and the locking one.
func TestSignupBurstSendsNoMoreMail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setSignup(t, tenants.SignupOpen)
		b := e.browser()
		p := f.loginPage(b)
		form := b.get(f.issuer + "/signup?id=" + url.QueryEscape(field(t, idField, p.body)))
		if form.status != http.StatusOK {
			t.Fatalf("sign-up form: %d\n%s", form.status, form.body)
		}
		id, csrf := field(t, idField, form.body), field(t, csrfField, form.body)
		const n = 30
		statuses := burst(b, f.issuer+"/signup", n, func(int) url.Values {
			return url.Values{"id": {id}, "csrf_token": {csrf}, "email": {f.email}, "name": {"New Person"}, "password": {newPassword}}
		})
		for i, s := range statuses {
			if s != http.StatusOK && s != http.StatusServiceUnavailable {
				t.Errorf("sign-up %d: %d", i, s)
			}
		}
		told := 0
		for _, ev := range f.audit("signup") {
			if ev.Action == "signup" {
				told++
			}
		}
		if told > 6 {
			t.Errorf("a burst of %d sign-ups of a taken address told its owner %d times, want at most 6", n, told)
		}
	})
}

// TestEmailChangeBurstSendsNoMoreMail: changes of address posted at once
// by one signed-in user send no more links than changes one after
// another: the account's five free requests and the locking one.
func TestEmailChangeBurstSendsNoMoreMail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		csrf := field(t, csrfField, f.accountPage(b).body)
		const n = 30
		statuses := burst(b, f.issuer+"/account/email", n, func(i int) url.Values {
			return url.Values{"csrf_token": {csrf}, "email": {fmt.Sprintf("ann.%d@acme.test", i)}}
		})
		for i, s := range statuses {
			if s != http.StatusSeeOther && s != http.StatusOK {
				t.Errorf("change of address %d: %d", i, s)
			}
		}
		sent := 0
		for _, ev := range f.audit("email.change_requested") {
			if ev.Outcome == "success" {
				sent++
			}
		}
		if sent > 6 {
			t.Errorf("a burst of %d changes of address sent %d links, want at most 6", n, sent)
		}
	})
}

// TestResendBurstGetsNoMoreRequests: requests for a new verification link
// for one address posted at once get past the mail throttle no more often
// than requests one after another (each that gets past is audited as
// email.verification_requested, and would send a link to an unconfirmed
// address).
func TestResendBurstGetsNoMoreRequests(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b := e.browser()
		form := b.get(f.issuer + "/verify/resend")
		if form.status != http.StatusOK {
			t.Fatalf("resend form: %d\n%s", form.status, form.body)
		}
		csrf := field(t, csrfField, form.body)
		const n = 30
		statuses := burst(b, f.issuer+"/verify/resend", n, func(int) url.Values {
			return url.Values{"csrf_token": {csrf}, "email": {f.email}}
		})
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("resend %d: %d", i, s)
			}
		}
		if passed := len(f.audit("email.verification_requested")); passed > 6 {
			t.Errorf("a burst of %d resends had %d past the throttle, want at most 6", n, passed)
		}
	})
}
