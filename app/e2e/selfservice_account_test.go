package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestSelfServiceAccountSessionsAndApps checks the account page's lists:
// the browsers signed in (this one marked; another signed out from here)
// and the applications with access (removing one revokes its refresh
// token); and that its forms need their anti-CSRF token.
func TestSelfServiceAccountSessionsAndApps(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		a, other := e.browser(), e.browser()
		tok, _ := f.codeFlow(a, f.web, []string{"openid", "offline_access"})
		f.codeFlow(other, f.web, []string{"openid"})

		p := f.accountPage(a)
		if n := strings.Count(p.body, "(this browser)"); n != 1 {
			t.Fatalf("%d sessions marked as this browser:\n%s", n, p.body)
		}
		handles := sessionForm.FindAllStringSubmatch(p.body, -1)
		if len(handles) != 1 {
			t.Fatalf("want one other session to sign out, got %d:\n%s", len(handles), p.body)
		}
		// Its access in words, not scope names.
		if !strings.Contains(p.body, "<strong>web</strong>") || !strings.Contains(p.body, "Stay connected when you are not using it") ||
			strings.Contains(p.body, "offline_access") {
			t.Fatalf("the web application is not listed with its access:\n%s", p.body)
		}
		csrf := field(t, csrfField, p.body)

		// Forms need the token.
		if q := a.post(f.issuer+"/account/sessions/"+handles[0][1]+"/revoke", url.Values{}); q.status != http.StatusForbidden {
			t.Fatalf("revoke without the anti-CSRF token: %d", q.status)
		}
		if f.signedOut(other) {
			t.Fatal("a form without its token signed a session out")
		}
		if q := f.accountPost(a, csrf, "/account/sessions/"+handles[0][1]+"/revoke", nil); !strings.Contains(q.body, "That session was signed out.") {
			t.Fatalf("revoking a session: %d\n%s", q.status, q.body)
		}
		if !f.signedOut(other) {
			t.Fatal("the revoked session still works")
		}
		if f.signedOut(a) {
			t.Fatal("revoking another session signed this one out")
		}

		q := f.accountPost(a, csrf, "/account/apps/"+f.web.ClientID+"/revoke", nil)
		if !strings.Contains(q.body, "no longer has access") || strings.Contains(q.body, "<strong>web</strong>") {
			t.Fatalf("removing the application's access: %d\n%s", q.status, q.body)
		}
		if _, err := f.oauth2Config(f.web).TokenSource(e.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil ||
			!strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("refresh after the consent was revoked: %v", err)
		}
		if q := f.accountPost(a, csrf, "/account/apps/"+f.web.ClientID+"/revoke", nil); q.status != http.StatusNotFound {
			t.Fatalf("revoking a consent twice: %d", q.status)
		}

		// The profile.
		if q := f.accountPost(a, csrf, "/account/profile", url.Values{"name": {"Ann B. Example"}, "given_name": {"Ann"}, "family_name": {"Example"}}); !strings.Contains(q.body, "Your profile was saved.") {
			t.Fatalf("saving the profile: %d\n%s", q.status, q.body)
		}
		if u := f.user(t, f.email); u.Name != "Ann B. Example" || u.GivenName != "Ann" || u.FamilyName != "Example" {
			t.Fatalf("profile saved as %q %q %q", u.Name, u.GivenName, u.FamilyName)
		}
		f.audited(t, "session.revoked", "consent.revoked", "profile.updated")
	})
}

// TestSelfServiceAccountPasswordAndEmail checks changing the password
// (the current one required, the policy applied, other sessions ended,
// this browser's session under a new id) and the address (confirmed by a
// link to the new one, the old one told; a taken address answered alike),
// and confirming the address from the account page.
func TestSelfServiceAccountPasswordAndEmail(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		a, other := e.browser(), e.browser()
		f.codeFlow(other, f.web, []string{"openid"})
		p := f.accountPage(a)
		csrf := field(t, csrfField, p.body)

		// Confirm the address from here.
		if !strings.Contains(p.body, "not confirmed") {
			t.Fatalf("the address shows as confirmed:\n%s", p.body)
		}
		q := f.accountPost(a, csrf, "/account/email/verify", nil)
		if !strings.Contains(q.body, "we sent a new link") {
			t.Fatalf("resending the confirmation: %d\n%s", q.status, q.body)
		}
		if q := a.get(smtp.next(f.email).link(t, "/verify")); q.status != http.StatusOK {
			t.Fatalf("confirming: %d\n%s", q.status, q.body)
		}
		if !f.user(t, f.email).EmailVerified {
			t.Fatal("the address is not confirmed")
		}

		// The password.
		before := f.sessionID(a)
		for _, c := range []struct{ current, next, want string }{
			{"not my password", newPassword, "Your current password is not right."},
			{f.password, "short", "Use at least 12 characters."},
			{f.password, "123qweasdzxc", "This password is too common"},
		} {
			q := f.accountPost(a, csrf, "/account/password", url.Values{"current_password": {c.current}, "new_password": {c.next}})
			if q.status != http.StatusBadRequest || !strings.Contains(q.body, c.want) {
				t.Fatalf("change %q→%q: %d, want %q", c.current, c.next, q.status, c.want)
			}
		}
		q = f.accountPost(a, csrf, "/account/password", url.Values{"current_password": {f.password}, "new_password": {newPassword}})
		if !strings.Contains(q.body, "Your password was changed.") {
			t.Fatalf("changing the password: %d\n%s", q.status, q.body)
		}
		if after := f.sessionID(a); after == "" || after == before {
			t.Fatal("the session id did not change with the password")
		}
		if !f.signedOut(other) {
			t.Fatal("another session survived the password change")
		}
		if smtp.next(f.email).Subject != "Your password was changed" {
			t.Fatal("no notice of the password change")
		}
		if r := f.tryLogin(f.email, f.password); r.status != http.StatusUnauthorized {
			t.Fatal("the old password still works")
		}
		f = f.as(f.email, newPassword)
		p = f.accountPage(a)
		csrf = field(t, csrfField, p.body)

		// The address: a taken one is answered like a free one, and gets
		// nothing.
		if _, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "taken@acme.test", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		f.staleSession(t, a)
		if q := f.accountPost(a, csrf, "/account/email", url.Values{"email": {"ann.new@acme.test"}, "confirm": {"wrong"}}); q.status != http.StatusBadRequest {
			t.Fatalf("change of address with a wrong password: %d", q.status)
		}
		free := f.accountPost(a, csrf, "/account/email", url.Values{"email": {"ann.new@acme.test"}, "confirm": {newPassword}})
		taken := f.accountPost(a, csrf, "/account/email", url.Values{"email": {"taken@acme.test"}, "confirm": {newPassword}})
		samePage(t, "change to a free and a taken address", free, taken)
		if !strings.Contains(free.body, "We sent a confirmation link") {
			t.Fatalf("change of address: %d\n%s", free.status, free.body)
		}
		link := smtp.next("ann.new@acme.test").link(t, "/account/email/confirm")
		f.linkHost(t, link)
		if f.user(t, f.email).Email != f.email {
			t.Fatal("the address changed before the link was opened")
		}
		if q := e.browser().get(link); q.status != http.StatusOK || !strings.Contains(q.body, "ann.new@acme.test") {
			t.Fatalf("confirming the new address: %d\n%s", q.status, q.body)
		}
		if u := f.user(t, "ann.new@acme.test"); !u.EmailVerified || u.ID != f.userID {
			t.Fatal("the new address is not the account's, confirmed")
		}
		if old := smtp.next("ann@acme.test"); old.Subject != "Your email address was changed" {
			t.Fatalf("notice to the old address: %q", old.Subject)
		}
		smtp.none("taken@acme.test", 200*time.Millisecond)
		f.as("ann.new@acme.test", newPassword).codeFlow(e.browser(), f.web, []string{"openid"})
		f.audited(t, "email.verified", "password.changed", "email.changed")
	})
}

// TestSelfServiceAccountMFA checks managing second factors from the
// account page: adding an authenticator app (QR code and first code, then
// recovery codes shown once), new recovery codes, and removing the factor
// with the password; a wrong password removes nothing.
func TestSelfServiceAccountMFA(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		a := e.browser()
		p := f.accountPage(a)
		if !strings.Contains(p.body, "Two-step verification is off.") {
			t.Fatalf("account page:\n%s", p.body)
		}
		p = a.get(f.issuer + "/account/mfa/totp")
		if p.status != http.StatusOK || !strings.Contains(p.body, `src="data:image/png;base64,`) {
			t.Fatalf("authenticator set-up page: %d\n%s", p.status, p.body)
		}
		key := field(t, mfaSecret, p.body)
		if q := a.post(f.issuer+"/account/mfa/totp", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "code": {"000000"}}); q.status != http.StatusUnauthorized {
			t.Fatalf("a wrong first code: %d", q.status)
		}
		code, _ := totp.GenerateCode(key, time.Now())
		q := a.post(f.issuer+"/account/mfa/totp", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "code": {code}})
		if n := len(recoveryItem.FindAllString(q.body, -1)); q.status != http.StatusOK || n != 10 {
			t.Fatalf("after the first code: %d, %d recovery codes\n%s", q.status, n, q.body)
		}
		f.staleSession(t, a)
		p = f.accountPage(a)
		csrf := field(t, csrfField, p.body)
		if !strings.Contains(p.body, "Authenticator app") || !strings.Contains(p.body, "10 unused recovery codes") {
			t.Fatalf("the factor is not listed:\n%s", p.body)
		}
		q = f.accountPost(a, csrf, "/account/mfa/recovery", url.Values{"confirm": {f.password}})
		if n := len(recoveryItem.FindAllString(q.body, -1)); n != 10 {
			t.Fatalf("new recovery codes: %d codes\n%s", n, q.body)
		}
		factor := field(t, factorForm, p.body)
		if q := f.accountPost(a, csrf, "/account/mfa/"+factor+"/remove", url.Values{"confirm": {"not my password"}}); q.status != http.StatusBadRequest {
			t.Fatalf("removing with a wrong password: %d", q.status)
		}
		q = f.accountPost(a, csrf, "/account/mfa/"+factor+"/remove", url.Values{"confirm": {f.password}})
		if !strings.Contains(q.body, "The method was removed.") || !strings.Contains(q.body, "Two-step verification is off.") {
			t.Fatalf("removing the factor: %d\n%s", q.status, q.body)
		}
		f.audited(t, "mfa.enrolled", "mfa.removed", "mfa.recovery_codes_created", "reauthentication.failed")
	})
}

// sessionID returns the browser's session cookie at the fixture's tenant.
func (f *fixture) sessionID(b *browser) string {
	u, _ := url.Parse(f.issuer)
	for _, c := range b.client.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "gh_session") {
			return c.Value
		}
	}
	return ""
}
