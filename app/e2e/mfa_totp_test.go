package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/tenants"
)

const wrongCodeText = "That code is not right."

// TestMFATOTPEnrolment: a tenant that requires MFA makes a user without a
// second factor set up an authenticator app at the next login; its codes
// and the recovery codes shown once then sign in, each code once.
func TestMFATOTPEnrolment(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)

		// Enrolment: the password leads to the set-up page, not a session.
		b := e.browser()
		fl, p := f.begin(b)
		p = fl.password(p)
		if !isEnrol(p) {
			t.Fatalf("want the enrolment page, got %d %s:\n%s", p.status, p.location, p.body)
		}
		if f.sessionCookie(b) != "" {
			t.Fatal("a session before the second factor was set up")
		}
		app := &authApp{secret: field(t, totpSecret, p.body)}
		if !strings.Contains(p.body, `class="qr" src="data:image/png;base64,`) {
			t.Fatalf("enrolment page has no QR code image:\n%s", p.body)
		}
		enrol := url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}}
		withCode := func(code string) url.Values {
			v := url.Values{"code": {code}}
			for k, x := range enrol {
				v[k] = x
			}
			return v
		}
		if p := fl.post("/login/enrol", withCode(wrongCode(t, app.secret))); p.status != http.StatusUnauthorized || !strings.Contains(p.body, wrongCodeText) {
			t.Fatalf("wrong enrolment code: %d\n%s", p.status, p.body)
		}
		good := app.code(t)
		p = fl.post("/login/enrol", withCode(good))
		codes := recoveryCodeRe.FindAllStringSubmatch(p.body, -1)
		if p.status != http.StatusOK || len(codes) != 10 {
			t.Fatalf("want 10 recovery codes, got %d:\n%s", p.status, p.body)
		}
		// Shown once: the enrolment step is spent (and the form's token
		// belonged to the browser before it had a session).
		if again := fl.post("/login/enrol", withCode(good)); again.status/100 != 4 || recoveryCodeRe.MatchString(again.body) {
			t.Fatalf("enrolment posted again: %d\n%s", again.status, again.body)
		}
		if again := b.get(f.issuer + "/login/enrol?step=" + url.QueryEscape(enrol.Get("step"))); again.status != http.StatusBadRequest {
			t.Fatalf("enrolment page again: %d", again.status)
		}
		cont := f.issuer + "/consent?id=" + url.QueryEscape(field(t, idOf, p.body))
		fl.finish(fl.follow(b.get(cont))).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if evs := f.audit("mfa.enrolled"); len(evs) != 1 || evs[0].Reason != "totp" || evs[0].ActorID != f.userID {
			t.Fatalf("audit of the enrolment: %+v", evs)
		}

		// The next login asks for a code (not a new enrolment).
		b2 := e.browser()
		fl, p = f.begin(b2)
		p = fl.password(p)
		if f.sessionCookie(b2) != "" {
			t.Fatal("a session before the second factor")
		}
		used := app.code(t)
		c := fl.finish(fl.mfaCode(p, "code", used))
		c.want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if c.Subject != f.userID {
			t.Fatalf("sub = %q", c.Subject)
		}

		// A code works once (replay), a later one works.
		b3 := e.browser()
		fl, p = f.begin(b3)
		p = fl.password(p)
		if p2 := fl.mfaCode(p, "code", used); p2.status != http.StatusUnauthorized || !strings.Contains(p2.body, wrongCodeText) {
			t.Fatalf("a used code again: %d\n%s", p2.status, p2.body)
		}
		fl.finish(fl.mfaCode(p, "code", app.code(t))).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)

		// A recovery code works once, typed any way.
		first, second := codes[0][1], codes[1][1]
		b4 := e.browser()
		fl, p = f.begin(b4)
		fl.finish(fl.mfaCode(fl.password(p), "recovery_code", first)).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		b5 := e.browser()
		fl, p = f.begin(b5)
		p = fl.password(p)
		if p2 := fl.mfaCode(p, "recovery_code", first); p2.status != http.StatusUnauthorized || !strings.Contains(p2.body, wrongCodeText) {
			t.Fatalf("a used recovery code again: %d\n%s", p2.status, p2.body)
		}
		fl.finish(fl.mfaCode(p, "recovery_code", " "+strings.ToUpper(strings.ReplaceAll(second, "-", ""))+" ")).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if evs := f.audit("mfa.recovery_code_used"); len(evs) != 2 {
			t.Fatalf("recovery code uses audited: %d", len(evs))
		}
	})
}

// TestMFATOTPThrottle: wrong codes are throttled per account like
// passwords: after the free attempts even the right code is answered as a
// wrong one, until the lock ends.
func TestMFATOTPThrottle(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())

		b := e.browser()
		fl, p := f.begin(b)
		p = fl.password(p)
		const free = 5
		for i := range free + 1 {
			if p2 := fl.mfaCode(p, "code", wrongCode(t, app.secret)); p2.status != http.StatusUnauthorized || !strings.Contains(p2.body, wrongCodeText) {
				t.Fatalf("wrong code %d: %d\n%s", i+1, p2.status, p2.body)
			}
		}
		locked := time.Now()
		right := app.code(t)
		if p2 := fl.mfaCode(p, "code", right); p2.status != http.StatusUnauthorized || !strings.Contains(p2.body, wrongCodeText) {
			t.Fatalf("the right code while locked: %d\n%s", p2.status, p2.body)
		}
		if evs := f.audit("mfa.throttled"); len(evs) == 0 {
			t.Fatal("throttling not audited")
		}
		if evs := f.audit("mfa.failed"); len(evs) != free+1 {
			t.Fatalf("failed codes audited: %d", len(evs))
		}
		// The lock is temporary (2 s after the sixth failure).
		time.Sleep(time.Until(locked.Add(2100 * time.Millisecond)))
		fl.finish(fl.mfaCode(p, "code", right)).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
	})
}

// TestMFAStepUp: a session with one factor meets a request for
// multi-factor authentication by asking for the second factor only (not
// the password) under a new session id; max_age asks for the password
// again; prompt=none cannot step up.
func TestMFAStepUp(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		// With MFA off, the user signs in with the password alone.
		f.setMFAPolicy(t, tenants.MFAOff)
		b := e.browser()
		fl, p := f.begin(b)
		c := fl.finish(fl.password(p))
		c.want(t, []string{"pwd"}, "")
		oneFactor := f.sessionCookie(b)

		// prompt=none cannot ask for the second factor.
		fl, p = f.begin(b, "prompt", "none", "acr_values", acrMFA)
		if got := fl.callbackError(p); got != "login_required" && got != "interaction_required" {
			t.Fatalf("prompt=none with an unmet acr: error %q", got)
		}

		// acr_values=multi-factor: the second factor only.
		fl, p = f.begin(b, "acr_values", acrMFA)
		if isLogin(p) || !isMFA(p) {
			t.Fatalf("step-up: want the MFA page, got %d %s:\n%s", p.status, p.location, p.body)
		}
		up := fl.finish(fl.mfaCode(p, "code", app.code(t)))
		up.want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if up.Subject != c.Subject {
			t.Fatalf("step-up changed the user: %q", up.Subject)
		}
		stepped := f.sessionCookie(b)
		if stepped == "" || stepped == oneFactor {
			t.Fatal("step-up kept the session id")
		}

		// The stepped-up session now meets the request without a prompt.
		fl, p = f.begin(b, "acr_values", acrMFA)
		fl.finish(p).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if f.sessionCookie(b) != stepped {
			t.Fatal("a satisfied request changed the session")
		}

		// max_age=0: the password again, then the second factor.
		fl, p = f.begin(b, "max_age", "0", "acr_values", acrMFA)
		if !isLogin(p) {
			t.Fatalf("max_age=0: want the login form, got %d %s:\n%s", p.status, p.location, p.body)
		}
		p = fl.password(p)
		fl.finish(fl.mfaCode(p, "code", app.code(t))).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if s := f.sessionCookie(b); s == "" || s == stepped {
			t.Fatal("re-authentication kept the session id")
		}

		// A phishing-resistant request: the authenticator app cannot meet
		// it and the account has no passkey, so the client is told at
		// once (not left on a page with nothing to use).
		fl, p = f.begin(b, "max_age", "0", "acr_values", acrPhishing)
		if got := fl.callbackError(fl.password(p)); got != "access_denied" {
			t.Fatalf("phishing-resistant request of a TOTP-only account: error %q", got)
		}
	})
}

// wrongCode returns a six-digit code that no step near now accepts.
func wrongCode(t testing.TB, secret string) string {
	t.Helper()
	valid := map[string]bool{}
	now := time.Now().Unix() / 30
	for s := now - 2; s <= now+2; s++ {
		c, err := totp.GenerateCodeCustom(secret, time.Unix(s*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		valid[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i*7919%1000000); !valid[c] {
			return c
		}
	}
}
