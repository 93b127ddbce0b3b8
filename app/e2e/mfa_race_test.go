package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestMFAConcurrentCodePassesOnce is finding 12a at the sign-in: one TOTP
// code submitted at once by several sign-ins of the account (a phished
// code replayed in a race, say) completes one of them; the others are
// told the code is wrong (the factor's last step is claimed by a
// compare-and-swap).
func TestMFAConcurrentCodePassesOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		const n = 6
		flows := make([]*oidcFlow, n)
		pages := make([]*page, n)
		for i := range n {
			fl, p := f.begin(e.browser())
			if p = fl.password(p); !isMFA(p) {
				t.Fatalf("want the MFA page, got %d:\n%s", p.status, p.body)
			}
			flows[i], pages[i] = fl, p
		}
		code := app.code(t)
		var wg sync.WaitGroup
		passed := make([]bool, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"step": {field(t, stepField, pages[i].body)}, "csrf_token": {field(t, csrfField, pages[i].body)}, "code": {code}}
				<-start
				p := flows[i].b.post(f.issuer+"/login/mfa", form)
				passed[i] = p.status == http.StatusSeeOther && !strings.Contains(p.body, wrongCodeText)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, p := range passed {
			if p {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("one code completed %d sign-ins at once, want 1", ok)
		}
	})
}

// TestMFAStepCompletesItsOwnRequest: the second-factor proof completes
// the authorization request its step was made for, whatever the form
// says, and only in the browser that started it; another request of the
// same browser waiting at its own MFA step is not completed by it.
func TestMFAStepCompletesItsOwnRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		b := e.browser()
		flX, pX := f.begin(b)
		pX = flX.password(pX)
		flY, pY := f.begin(b)
		idY := field(t, idField, pY.body)
		pY = flY.password(pY)
		if !isMFA(pX) || !isMFA(pY) {
			t.Fatalf("want two MFA pages, got %d and %d", pX.status, pY.status)
		}
		// Another browser cannot use X's step, even with the right code.
		other := e.browser()
		q := other.post(f.issuer+"/login/mfa", url.Values{"step": {field(t, stepField, pX.body)}, "csrf_token": {field(t, csrfField, pX.body)}, "code": {app.code(t)}})
		if q.status == http.StatusSeeOther {
			t.Fatalf("another browser completed the step: %d %s", q.status, q.location)
		}
		// X's step, with Y's request id slipped into the form: X
		// completes (its state comes back), Y still waits for its code.
		stepY := field(t, stepField, pY.body)
		p := flX.post("/login/mfa", url.Values{"step": {field(t, stepField, pX.body)}, "csrf_token": {field(t, csrfField, pX.body)},
			"code": {app.code(t)}, "id": {idY}})
		flX.finish(p).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if again := b.get(f.issuer + "/login/mfa?step=" + url.QueryEscape(stepY)); !isMFA(again) {
			t.Fatalf("Y's step after X completed: want its MFA page still, got %d %s", again.status, again.location)
		}
	})
}
