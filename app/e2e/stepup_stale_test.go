package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestStaleSessionCannotEnrol: a session that signed in with one factor
// (a stolen cookie, an hour old) meets a tenant that now requires two.
// The session alone must not set up a second factor (the thief's
// authenticator app, and with it a fresh, strong session): the user signs
// in again with the password first, and only then enrols.
func TestStaleSessionCannotEnrol(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		thief := e.browser()
		fl, p := f.begin(thief)
		fl.finish(fl.password(p)).want(t, []string{"pwd"}, "")
		f.staleSession(t, thief)
		f.setMFAPolicy(t, tenants.MFARequired)

		fl, p = f.begin(thief)
		if isEnrol(p) || !isLogin(p) {
			t.Fatalf("a one-factor session under a required policy: want the login form, got %d %s:\n%s", p.status, p.location, p.body)
		}
		// prompt=none shows no page: interaction_required.
		fl2, p2 := f.begin(thief, "prompt", "none")
		if got := fl2.callbackError(p2); got != "interaction_required" {
			t.Fatalf("prompt=none of a session that must sign in again: error %q", got)
		}
		// The account pages send it to sign in too, not to enrolment.
		acct := thief.get(f.issuer + "/account")
		if acct.status != http.StatusFound || !strings.HasPrefix(acct.location, "/login?id=") {
			t.Fatalf("account page: %d %s", acct.status, acct.location)
		}
		if q := fl.follow(thief.get(resolve(f.issuer, acct.location))); isEnrol(q) || !isLogin(q) {
			t.Fatalf("the account page's sign-in of a one-factor session: want the login form, got %d:\n%s", q.status, q.body)
		}
		if n := f.factorCount(t); n != 0 {
			t.Fatalf("%d factors", n)
		}
		// With the password it is the user: enrolment, then tokens.
		if p = fl.password(p); !isEnrol(p) {
			t.Fatalf("after the password: want enrolment, got %d:\n%s", p.status, p.body)
		}
	})
}

// TestStepUpKeepsAuthTime: a second factor makes an old session stronger,
// not fresher. Stepping an hour-old password session up with the
// authenticator app keeps its auth_time (in the ID token, and for the
// account page, whose sensitive changes still need a confirmation), and a
// max_age the hour exceeds still asks for the password.
func TestStepUpKeepsAuthTime(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		f.setMFAPolicy(t, tenants.MFAOptional)
		b := e.browser()
		fl, p := f.begin(b)
		p = fl.password(p)
		fl.finish(fl.mfaCode(p, "code", app.code(t)))
		// Back to one factor, an hour ago (MFA off for that sign-in).
		f.setMFAPolicy(t, tenants.MFAOff)
		b = e.browser()
		fl, p = f.begin(b)
		fl.finish(fl.password(p)).want(t, []string{"pwd"}, "")
		f.setMFAPolicy(t, tenants.MFAOptional)
		f.staleSession(t, b)
		hourAgo := e.store.Now().Add(-time.Hour).Unix()

		fl, p = f.begin(b, "acr_values", acrMFA)
		if !isMFA(p) {
			t.Fatalf("step-up: want the MFA page, got %d %s:\n%s", p.status, p.location, p.body)
		}
		c := fl.finish(fl.mfaCode(p, "code", app.code(t)))
		c.want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
		if c.AuthTime > hourAgo+5 {
			t.Fatalf("the step-up's auth_time = %d, want the password's (%d)", c.AuthTime, hourAgo)
		}
		// Not fresh: recovery codes need a confirmation.
		acct := b.get(f.issuer + "/account")
		if acct.status != http.StatusOK {
			t.Fatalf("account page after the step-up: %d %s", acct.status, acct.location)
		}
		csrf := field(t, csrfField, acct.body)
		if q := f.accountPost(b, csrf, "/account/mfa/recovery", url.Values{}); len(recoveryItem.FindAllString(q.body, -1)) == 10 {
			t.Fatal("a step-up with the second factor alone made new recovery codes without a confirmation")
		}
		// max_age below the hour: the password again.
		fl, p = f.begin(b, "max_age", "600")
		if !isLogin(p) {
			t.Fatalf("max_age=600 after a step-up of an hour-old sign-in: want the login form, got %d %s:\n%s", p.status, p.location, p.body)
		}
	})
}

// TestStepUpNotWithTheSessionsOwnPasskey: a stolen session, fresh enough
// to add a passkey of the thief's, cannot later step itself up to
// phishing resistance with that passkey: the step-up asks for a factor
// the user had before the session's sign-in (the user's own passkey), and
// the second-factor ceremony neither offers nor accepts the session's.
func TestStepUpNotWithTheSessionsOwnPasskey(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		addKey := func(b *browser) *softKey {
			fl, p := f.begin(b)
			fl.finish(fl.mfaCode(fl.password(p), "code", app.code(t)))
			csrf := field(t, csrfField, f.accountPage(b).body)
			key := &softKey{t: t}
			opts := fl.options("/account/webauthn/options")
			if q := b.post(f.issuer+"/account/webauthn", url.Values{"csrf_token": {csrf}, "credential": {key.create(f.issuer, opts)}}); q.location != "/account?done=passkey-added" {
				t.Fatalf("adding a passkey from a fresh session: %d %s", q.status, q.location)
			}
			return key
		}
		addKey(e.browser()) // the user's own, in an earlier sign-in
		thief := e.browser()
		key := addKey(thief)
		f.staleSession(t, thief)

		fl, p := f.begin(thief, "acr_values", acrPhishing)
		if !isMFA(p) {
			t.Fatalf("step-up: want the MFA page, got %d %s:\n%s", p.status, p.location, p.body)
		}
		step := field(t, stepField, p.body)
		opts := fl.options("/login/mfa/webauthn/options?step=" + url.QueryEscape(step))
		if strings.Contains(string(opts), b64url.EncodeToString(key.id)) {
			t.Errorf("the step-up offers the session's own passkey: %s", opts)
		}
		q := fl.post("/login/mfa/webauthn", url.Values{"step": {step}, "csrf_token": {field(t, csrfField, p.body)}, "credential": {key.get(f.issuer, "", opts)}})
		if q.status != http.StatusUnauthorized {
			t.Fatalf("a stale session stepped itself up with the passkey it added: %d %s", q.status, q.location)
		}
	})
}

// TestStepUpNotWithTheSessionsOwnRecoveryCodes: recovery codes a session
// made (minutes-fresh, as a thief's copy is) do not step that session up
// later; the user's factor from before the session does.
func TestStepUpNotWithTheSessionsOwnRecoveryCodes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		f.setMFAPolicy(t, tenants.MFAOff)
		thief := e.browser()
		fl, p := f.begin(thief)
		fl.finish(fl.password(p)).want(t, []string{"pwd"}, "")
		csrf := field(t, csrfField, f.accountPage(thief).body)
		q := f.accountPost(thief, csrf, "/account/mfa/recovery", url.Values{})
		codes := recoveryItem.FindAllStringSubmatch(q.body, -1)
		if len(codes) != 10 {
			t.Fatalf("recovery codes from a fresh session: %d\n%s", q.status, q.body)
		}
		f.staleSession(t, thief)

		fl, p = f.begin(thief, "acr_values", acrMFA)
		r := fl.mfaCode(p, "recovery_code", codes[0][1])
		if r.status != http.StatusUnauthorized {
			t.Fatalf("a stale session stepped itself up with recovery codes it made: %d %s", r.status, r.location)
		}
		// The authenticator app the user had before does.
		fl.finish(fl.mfaCode(p, "code", app.code(t))).want(t, []string{"pwd", "otp", "mfa"}, acrMFA)
	})
}

// TestStepUpEndsWithItsSession: a step-up begun by a session that is then
// revoked (its owner signs it out from another device) does not bring it
// back, even with the right code.
func TestStepUpEndsWithItsSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFARequired)
		app, _, _ := f.enrolTOTP(t, e.browser())
		f.setMFAPolicy(t, tenants.MFAOff)
		thief := e.browser()
		fl, p := f.begin(thief)
		fl.finish(fl.password(p))
		fl, p = f.begin(thief, "acr_values", acrMFA)
		if !isMFA(p) {
			t.Fatalf("step-up: want the MFA page, got %d:\n%s", p.status, p.body)
		}
		// The owner revokes every session of the account.
		db, err := e.store.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		q := "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2"
		if e.store.Dialect() == tenants.DialectSQLite {
			q = "DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?"
		}
		if _, err := db.Exec(q, f.tenant.ID, f.userID); err != nil {
			t.Fatal(err)
		}
		// The page again, for a form token of the browser as it is now.
		p = thief.get(f.issuer + "/login/mfa?step=" + url.QueryEscape(field(t, stepField, p.body)))
		if !isMFA(p) {
			return // the step is gone with the session
		}
		r := fl.mfaCode(p, "code", app.code(t))
		if strings.HasPrefix(resolve(f.issuer, r.location), redirectURI) || r.status == http.StatusSeeOther {
			t.Fatalf("a revoked session's step-up completed: %d %s", r.status, r.location)
		}
		if f.sessionCookie(thief) != "" && !f.signedOut(thief) {
			t.Fatal("the revoked session came back")
		}
	})
}
