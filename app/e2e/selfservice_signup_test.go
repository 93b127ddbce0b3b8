package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

const newPassword = "tangerine spaceship umbrella"

// signupForm posts the sign-up form of login page p.
func (f *fixture) signupForm(b *browser, p *page, email, pw string) *page {
	b.t.Helper()
	form := b.get(f.issuer + "/signup?id=" + url.QueryEscape(field(b.t, idField, p.body)))
	if form.status != http.StatusOK {
		b.t.Fatalf("sign-up form: %d\n%s", form.status, form.body)
	}
	return b.post(f.issuer+"/signup", url.Values{"id": {field(b.t, idField, form.body)}, "csrf_token": {field(b.t, csrfField, form.body)},
		"email": {email}, "name": {"New Person"}, "password": {pw}})
}

// TestSelfServiceSignup checks sign-up: off by default, open, limited to
// domains; the password policy; the same answer for a new and a taken
// address (whose owner is told by email); no password until the address is
// confirmed; and the confirmation link, opened in the browser that signed
// up, continuing the login to the application.
func TestSelfServiceSignup(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		b := e.browser()

		// Off unless the tenant turns it on.
		p := f.loginPage(b)
		if strings.Contains(p.body, "/signup") {
			t.Fatal("the login page offers sign-up at a tenant where it is off")
		}
		if q := b.get(f.issuer + "/signup?id=" + url.QueryEscape(field(t, idField, p.body))); q.status != http.StatusNotFound {
			t.Fatalf("sign-up while off: %d", q.status)
		}

		f.setSignup(t, tenants.SignupOpen)
		p = f.loginPage(b)
		if !strings.Contains(p.body, `href="/signup?id=`+field(t, idField, p.body)+`"`) {
			t.Fatalf("no sign-up link on the login page:\n%s", p.body)
		}
		// The password policy: length, then the list of common passwords.
		for pw, want := range map[string]string{"too short": "Use at least 12 characters.", "1qaz2wsx3edc": "This password is too common"} {
			q := f.signupForm(b, p, "bob@acme.test", pw)
			if q.status != http.StatusBadRequest || !strings.Contains(q.body, want) {
				t.Fatalf("sign-up with %q: %d, want %q\n%s", pw, q.status, want, q.body)
			}
		}

		// A new address and a taken one: one answer.
		newOne := f.signupForm(b, p, "bob@acme.test", newPassword)
		taken := f.signupForm(b, p, f.email, newPassword)
		samePage(t, "sign-up of a new and a taken address", newOne, taken)
		if newOne.status != http.StatusOK || !strings.Contains(newOne.body, "Check your inbox") {
			t.Fatalf("sign-up: %d\n%s", newOne.status, newOne.body)
		}
		notice := smtp.next(f.email)
		if !strings.Contains(notice.Subject, "tried to create an account") || !strings.Contains(notice.From, "Acme Inc") {
			t.Fatalf("notice to the owner of the taken address: %q from %q", notice.Subject, notice.From)
		}
		f.linkHost(t, notice.link(t, "/reset"))

		// No password until the address is confirmed: nobody can sign in
		// as an address they do not own.
		if bob := f.user(t, "bob@acme.test"); bob.PasswordHash != "" || bob.EmailVerified {
			t.Fatal("the new account has a password (or a confirmed address) before its address was confirmed")
		}
		if q := f.tryLogin("bob@acme.test", newPassword); q.status != http.StatusUnauthorized {
			t.Fatalf("login before confirming: %d", q.status)
		}

		// The confirmation link, in the browser that signed up, goes on
		// with the login: consent, then the application.
		msg := smtp.next("bob@acme.test")
		link := msg.link(t, "/verify")
		f.linkHost(t, link)
		if msg.Text == "" || msg.HTML == "" {
			t.Fatal("the email lacks its text or HTML part")
		}
		cb := f.follow(b, b.get(link))
		if cb.Get("code") == "" {
			t.Fatalf("no code after confirming: %v", cb)
		}
		if bob := f.user(t, "bob@acme.test"); bob.PasswordHash == "" || !bob.EmailVerified || bob.Name != "New Person" {
			t.Fatalf("after confirming: verified %v, password set %v, name %q", bob.EmailVerified, bob.PasswordHash != "", bob.Name)
		}
		if q := b.get(link); q.status != http.StatusBadRequest || !strings.Contains(q.body, "This link has expired") {
			t.Fatalf("second use of the confirmation link: %d", q.status)
		}
		f.as("bob@acme.test", newPassword).codeFlow(e.browser(), f.web, []string{"openid"})

		// Domains: only the tenant's.
		f.setSignup(t, tenants.SignupDomains, "acme.test")
		b = e.browser()
		p = f.loginPage(b)
		if q := f.signupForm(b, p, "carol@elsewhere.test", newPassword); q.status != http.StatusBadRequest || !strings.Contains(q.body, "need an address at acme.test") {
			t.Fatalf("sign-up outside the domains: %d\n%s", q.status, q.body)
		}
		if q := f.signupForm(b, p, "dave@acme.test", newPassword); q.status != http.StatusOK {
			t.Fatalf("sign-up in the domain: %d", q.status)
		}
		smtp.next("dave@acme.test")
		f.audited(t, "signup", "signup.completed", "email.verified")
	})
}

// TestSelfServiceSignupElsewhereAndThrottle checks a confirmation link
// opened in another browser (the address's owner chooses the password
// there: the one typed at sign-up never applies) and the throttling of
// sign-ups per account: the throttled attempt gets the same answer and
// sends nothing.
func TestSelfServiceSignupElsewhereAndThrottle(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		f.setSignup(t, tenants.SignupOpen)
		b := e.browser()
		p := f.loginPage(b)
		if q := f.signupForm(b, p, "erin@acme.test", newPassword); q.status != http.StatusOK {
			t.Fatalf("sign-up: %d", q.status)
		}
		other := e.browser()
		q := other.get(smtp.next("erin@acme.test").link(t, "/verify"))
		if q.status != http.StatusFound || !strings.HasPrefix(q.location, "/reset/confirm?") {
			t.Fatalf("confirmation in another browser: %d %s", q.status, q.location)
		}
		q = other.get(resolve(f.issuer, q.location))
		if q.status != http.StatusOK || !strings.Contains(q.body, "Choose your password") {
			t.Fatalf("choose-password page: %d\n%s", q.status, q.body)
		}
		mine := "erin chooses her own password"
		q = other.post(f.issuer+"/reset/confirm", url.Values{"token": {field(t, tokenField, q.body)}, "csrf_token": {field(t, csrfField, q.body)},
			"welcome": {"1"}, "password": {mine}})
		if q.status != http.StatusOK || !strings.Contains(q.body, "Your account is ready") {
			t.Fatalf("choosing the password: %d\n%s", q.status, q.body)
		}
		if r := f.tryLogin("erin@acme.test", newPassword); r.status != http.StatusUnauthorized {
			t.Fatal("the password typed at sign-up works though the address was confirmed elsewhere")
		}
		f.as("erin@acme.test", mine).codeFlow(e.browser(), f.web, []string{"openid"})

		// Six sign-ups of one address go through (each sends a new link);
		// the seventh is throttled: the same page, no email.
		var first *page
		for i := range 7 {
			q := f.signupForm(b, p, "frank@acme.test", newPassword)
			if first == nil {
				first = q
			}
			samePage(t, "sign-up "+string(rune('1'+i)), first, q)
			if i < 6 {
				smtp.next("frank@acme.test")
			}
		}
		smtp.none("frank@acme.test", 300*time.Millisecond)
		f.audited(t, "signup.throttled")
	})
}
