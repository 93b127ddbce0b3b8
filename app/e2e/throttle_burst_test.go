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

// TestThrottleBurstGetsNoMoreGuesses: the (address, account) pair's five
// free failures are five guesses however they are sent. Thirty wrong
// passwords fired at once from one address at one account used to pass the
// throttle's check together (none had failed yet) and were all verified:
// thirty guesses where the sequence gets six. Each attempt now takes its
// turn on the counters before its password is checked.
func TestThrottleBurstGetsNoMoreGuesses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		h := testHasher()
		e := newEnv(t, db.URL(t), withHasher(h))
		f := e.fixture("acme")
		const burst = 30
		tries := make([]func(email, pw string) *page, burst)
		for i := range tries {
			tries[i] = f.loginForm(t)
		}
		before := h.Computed()
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, burst)
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = tries[i](f.email, fmt.Sprintf("wrong password %d", i)).status
			}()
		}
		started := time.Now()
		close(start)
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusUnauthorized && s != http.StatusServiceUnavailable {
				t.Errorf("wrong password %d: %d", i, s)
			}
		}
		if checked := h.Computed() - before; checked > 6 {
			t.Errorf("a burst of %d wrong passwords had %d checked, want at most 6 (five free and the one that locks)", burst, checked)
		}
		if n := len(f.audit("login.failed")); n > 6 {
			t.Errorf("%d login.failed events, want at most 6", n)
		}
		// The pair is locked now: the right password looks wrong.
		if p := f.loginForm(t)(f.email, f.password); p.status != http.StatusUnauthorized && !lockCouldLapse(t, started, authn.LoginRules.Pair.Base) {
			t.Errorf("the right password after the burst: %d, want 401", p.status)
		}
	})
}

// TestMFABurstGetsNoMoreGuesses: the same for second-factor codes, whose
// guesser already knows the password: 30 wrong codes posted at once are
// checked no more than the six that five free failures and the locking
// one allow one after another.
func TestMFABurstGetsNoMoreGuesses(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		b := e.browser()
		fl, p := f.begin(b)
		p = fl.password(p)
		if !isMFA(p) {
			t.Fatalf("want the MFA page, got %d", p.status)
		}
		step, csrf := field(t, stepField, p.body), field(t, csrfField, p.body)
		const burst = 30
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, burst)
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = b.post(f.issuer+"/login/mfa", url.Values{"step": {step}, "csrf_token": {csrf}, "code": {wrongCode(t, app.secret)}}).status
			}()
		}
		started := time.Now()
		close(start)
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusUnauthorized {
				t.Errorf("wrong code %d: %d", i, s)
			}
		}
		if n := len(f.audit("mfa.failed")); n > 6 {
			t.Errorf("a burst of %d wrong codes had %d checked, want at most 6", burst, n)
		}
		if p2 := fl.mfaCode(p, "code", app.code(t)); p2.status != http.StatusUnauthorized && !lockCouldLapse(t, started, authn.SecondFactorRules.Account.Base) {
			t.Errorf("the right code after the burst: %d, want 401", p2.status)
		}
	})
}
