package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestEnrolmentSecretBelongsToItsSignIn: the authenticator secret a
// sign-in shows for enrolment is that sign-in's. A second browser of the
// user and a stolen session's account page each get their own: neither
// reads the secret the user is scanning (the thief's copy would be a
// second factor of the account the moment the user confirms it) nor
// replaces it with one they know.
func TestEnrolmentSecretBelongsToItsSignIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		thief := e.browser()
		f.accountPage(thief)
		f.staleSession(t, thief)

		// The thief's account page first: a pending secret of the thief.
		tp := thief.get(f.issuer + "/account/mfa/totp")
		if tp.status != http.StatusOK {
			t.Fatalf("set-up page: %d\n%s", tp.status, tp.body)
		}
		thiefSecret := field(t, mfaSecret, tp.body)

		enrolPage := func(b *browser) (*oidcFlow, *page) {
			fl, p := f.begin(b, "acr_values", acrMFA)
			if p = fl.password(p); !isEnrol(p) {
				t.Fatalf("want the enrolment page, got %d:\n%s", p.status, p.body)
			}
			return fl, p
		}
		fl, p := enrolPage(e.browser())
		userSecret := field(t, totpSecret, p.body)
		if userSecret == thiefSecret {
			t.Fatal("the sign-in's enrolment shows the secret a stolen session's account page made")
		}
		_, p2 := enrolPage(e.browser())
		if other := field(t, totpSecret, p2.body); other == userSecret {
			t.Fatal("a second browser's enrolment shows the first one's secret")
		}
		if tp = thief.get(f.issuer + "/account/mfa/totp"); field(t, mfaSecret, tp.body) == userSecret {
			t.Fatal("a stolen session's account page shows the secret the user is enrolling")
		}
		// The user's page still has its own secret, and it works.
		if again := fl.follow(fl.b.get(f.issuer + "/login/enrol?step=" + url.QueryEscape(field(t, stepField, p.body)))); field(t, totpSecret, again.body) != userSecret {
			t.Fatal("the enrolment's secret changed")
		}
		app := &authApp{secret: userSecret}
		q := fl.post("/login/enrol", url.Values{"step": {field(t, stepField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "code": {app.code(t)}})
		if q.status != http.StatusOK || len(recoveryCodeRe.FindAllString(q.body, -1)) != 10 {
			t.Fatalf("enrolment with the sign-in's secret: %d\n%s", q.status, q.body)
		}
		if n := f.factorCount(t); n != 1 {
			t.Fatalf("%d confirmed factors, want 1", n)
		}
		fl.finish(fl.follow(fl.b.get(f.issuer + "/consent?id=" + url.QueryEscape(field(t, idOf, q.body)))))
		// The factor enrolled in this sign-in never stands for a
		// re-authentication of its session.
		csrf := field(t, csrfField, f.accountPage(fl.b).body)
		f.staleSession(t, fl.b)
		if r := f.accountPost(fl.b, csrf, "/account/mfa/recovery", url.Values{"confirm": {app.code(t)}}); len(recoveryItem.FindAllString(r.body, -1)) == 10 {
			t.Fatal("a factor enrolled in this sign-in confirmed a change of its session")
		}
	})
}

// TestEnrolmentLegacySessionSignsInAgain: a session from before sign-ins
// were recorded has no sign-in to own a pending secret: the account page
// asks it to sign in again (not a 500, not a secret shared by every such
// session).
func TestEnrolmentLegacySessionSignsInAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		f.setMFAPolicy(t, tenants.MFAOptional)
		b := e.browser()
		f.accountPage(b)
		db, err := e.store.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		q := "UPDATE sessions SET sign_in_id = '' WHERE tenant_id = $1"
		if e.store.Dialect() == tenants.DialectSQLite {
			q = "UPDATE sessions SET sign_in_id = '' WHERE tenant_id = ?"
		}
		if _, err := db.Exec(q, f.tenant.ID); err != nil {
			t.Fatal(err)
		}
		if p := b.get(f.issuer + "/account/mfa/totp"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign in again") {
			t.Fatalf("authenticator set-up of a legacy session: %d\n%s", p.status, p.body)
		}
	})
}
