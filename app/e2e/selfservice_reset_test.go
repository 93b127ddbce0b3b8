package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// requestReset posts the reset form in b for email, with extra headers.
func (f *fixture) requestReset(b *browser, email string, header ...string) *page {
	b.t.Helper()
	form := b.get(f.issuer + "/reset")
	if form.status != http.StatusOK {
		b.t.Fatalf("reset form: %d\n%s", form.status, form.body)
	}
	req, _ := http.NewRequest(http.MethodPost, f.issuer+"/reset", strings.NewReader(url.Values{
		"csrf_token": {field(b.t, csrfField, form.body)}, "email": {email}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// setPassword opens a reset link in b and posts pw.
func (f *fixture) setPassword(b *browser, link, pw string) *page {
	b.t.Helper()
	p := b.get(link)
	if p.status != http.StatusOK {
		return p
	}
	return b.post(f.issuer+"/reset/confirm", url.Values{"token": {field(b.t, tokenField, p.body)}, "csrf_token": {field(b.t, csrfField, p.body)}, "password": {pw}})
}

// TestSelfServicePasswordReset checks the reset flow end to end: the same
// answer for a known and an unknown address; a link built from the
// tenant's issuer whatever the request's forwarding headers say; the
// password policy; the link working once; every session and refresh token
// of the account ended; the old password refused and the new one working.
func TestSelfServicePasswordReset(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		signedIn := e.browser()
		tok, _ := f.codeFlow(signedIn, f.web, []string{"openid", "offline_access"})

		b := e.browser()
		p := f.loginPage(b)
		if !strings.Contains(p.body, `href="/reset?id=`) {
			t.Fatalf("no reset link on the login page:\n%s", p.body)
		}
		known := f.requestReset(b, f.email, "X-Forwarded-Host", "evil.test", "X-Forwarded-Proto", "https")
		unknown := f.requestReset(b, "nobody@acme.test", "X-Forwarded-Host", "evil.test", "X-Forwarded-Proto", "https")
		samePage(t, "reset of a known and an unknown address", known, unknown)
		if known.status != http.StatusOK || !strings.Contains(known.body, "If an account exists") {
			t.Fatalf("reset answer: %d\n%s", known.status, known.body)
		}
		msg := smtp.next(f.email)
		link := msg.link(t, "/reset/confirm")
		f.linkHost(t, link)
		if strings.Contains(msg.Text+msg.HTML, "evil.test") || msg.Subject != "Reset your password" {
			t.Fatalf("reset email: %q\n%s", msg.Subject, msg.Text)
		}

		// The policy, with its words; then a good password.
		for pw, want := range map[string]string{"short": "Use at least 12 characters.", "q1w2e3r4t5y6": "This password is too common", f.email: "Do not use your email address"} {
			if q := f.setPassword(b, link, pw); q.status != http.StatusBadRequest || !strings.Contains(q.body, want) {
				t.Fatalf("reset to %q: %d, want %q\n%s", pw, q.status, want, q.body)
			}
		}
		if q := f.setPassword(b, link, newPassword); q.status != http.StatusOK || !strings.Contains(q.body, "Your password was changed") {
			t.Fatalf("reset: %d\n%s", q.status, q.body)
		}
		if q := b.get(link); q.status != http.StatusBadRequest || !strings.Contains(q.body, "This link has expired") {
			t.Fatalf("reset link used twice: %d", q.status)
		}
		if changed := smtp.next(f.email); changed.Subject != "Your password was changed" {
			t.Fatalf("notice after the reset: %q", changed.Subject)
		}
		smtp.none("nobody@acme.test", 0)

		// Everything of the old password ends.
		if !f.signedOut(signedIn) {
			t.Fatal("a session survived the reset")
		}
		if _, err := f.oauth2Config(f.web).TokenSource(e.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a refresh token survived the reset")
		}
		if q := f.tryLogin(f.email, f.password); q.status != http.StatusUnauthorized {
			t.Fatalf("old password after the reset: %d", q.status)
		}
		f.as(f.email, newPassword).codeFlow(e.browser(), f.web, []string{"openid"})
		f.audited(t, "password.reset_requested", "password.reset")
	})
}

// TestSelfServiceResetLinks checks what ends a reset link besides its use:
// expiry, a newer link, a password change; the throttling of reset
// requests per account; and the same answer to a request to resend a
// confirmation link whether the address is known or not.
func TestSelfServiceResetLinks(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		tctx := tenants.WithTenant(t.Context(), f.tenant)
		b := e.browser()

		// Expired (made with a past expiry: the server's clock is real).
		token := secret.Token(32)
		if err := e.store.CreateUserToken(tctx, &tenants.UserToken{ID: secret.Hash(token), UserID: f.userID, Purpose: tenants.TokenResetPassword,
			Email: f.email, ExpiresAt: time.Now().Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if q := b.get(f.issuer + "/reset/confirm?token=" + token); q.status != http.StatusBadRequest {
			t.Fatalf("expired reset link: %d", q.status)
		}

		// A newer link ends the older one. (And the tenant's sender name
		// is the one set.)
		fromName := "Acme Support"
		if _, err := e.srv.Admin().UpdateTenant(f.adminCtx(), admin.TenantSettings{EmailFromName: &fromName}); err != nil {
			t.Fatal(err)
		}
		f.requestReset(b, f.email)
		msg := smtp.next(f.email)
		if msg.From != `"Acme Support" <no-reply@gatehouse.test>` {
			t.Fatalf("From: %s", msg.From)
		}
		older := msg.link(t, "/reset/confirm")
		f.requestReset(b, f.email)
		newer := smtp.next(f.email).link(t, "/reset/confirm")
		if q := b.get(older); q.status != http.StatusBadRequest {
			t.Fatalf("superseded reset link: %d", q.status)
		}
		// At another tenant's host, a link opens nothing.
		g := e.fixture("globex")
		u, _ := url.Parse(newer)
		if q := b.get(g.issuer + u.RequestURI()); q.status != http.StatusBadRequest {
			t.Fatalf("reset link at another tenant: %d", q.status)
		}
		if q := b.get(newer); q.status != http.StatusOK {
			t.Fatalf("newest reset link: %d", q.status)
		}
		// A password change ends it too.
		hash, err := testHasher().Hash(tctx, newPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.ChangePassword(tctx, f.userID, hash); err != nil {
			t.Fatal(err)
		}
		if q := f.setPassword(b, newer, "yet another fine passphrase"); q.status != http.StatusBadRequest {
			t.Fatalf("reset link after a password change: %d", q.status)
		}

		// Throttling per account: six requests go through, the seventh
		// gets the same answer and sends nothing.
		tess := "tess@acme.test"
		if _, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: tess, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		var first *page
		for i := range 7 {
			q := f.requestReset(b, tess)
			if first == nil {
				first = q
			}
			samePage(t, "reset request", first, q)
			if i < 6 {
				smtp.next(tess)
			}
		}
		smtp.none(tess, 300*time.Millisecond)

		// Resending a confirmation link: one answer for an unconfirmed, a
		// confirmed and an unknown address.
		resend := func(email string) *page {
			form := b.get(f.issuer + "/verify/resend")
			return b.post(f.issuer+"/verify/resend", url.Values{"csrf_token": {field(t, csrfField, form.body)}, "email": {email}})
		}
		unconfirmed, unknown := resend(tess), resend("nobody@acme.test")
		samePage(t, "resend to a known and an unknown address", unconfirmed, unknown)
		verify := smtp.next(tess).link(t, "/verify")
		f.linkHost(t, verify)
		if q := b.get(verify); q.status != http.StatusOK || !strings.Contains(q.body, "is confirmed") {
			t.Fatalf("confirming: %d\n%s", q.status, q.body)
		}
		samePage(t, "resend to a confirmed address", unknown, resend(tess))
		smtp.none(tess, 200*time.Millisecond)
		f.audited(t, "password.reset_throttled", "email.verified")
	})
}
