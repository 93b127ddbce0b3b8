package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"golang.org/x/oauth2"
)

// TestConsoleUserCare: on a user's page an administrator sees the user's
// sign-in history (from the audit log) and linked identities, unlinks one
// (audited; refused when it is the user's only way in), sends a reset link
// and a verification email; and invites a new user by email, whose link
// sets their password and proves their address.
func TestConsoleUserCare(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme"
		ctx := tenants.WithTenant(context.Background(), f.tenant)
		form := func(kv ...string) url.Values {
			v := url.Values{"csrf_token": {csrf}}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}

		// Sign-in history: a failure and a success.
		wrongPassword(t, e, f)
		f.codeFlow(e.browser(), f.web, []string{"openid"})
		user := base + "/users/" + f.userID
		p := b.get(user)
		hist := between(p.body, `id="sign-ins"`, "</table>")
		if !strings.Contains(hist, "Signed in") || !strings.Contains(hist, "Failed") {
			t.Fatalf("sign-in history:\n%s", hist)
		}

		// Linked identities: listed, unlinked, audited.
		conn := e.addConnection(t, f, "GitHub")
		x := &tenants.ExternalIdentity{UserID: f.userID, ConnectionID: conn.ID, Issuer: "https://github.com", Subject: "gh-4242", Email: "ann@github.test"}
		if err := e.store.CreateExternalIdentity(ctx, x); err != nil {
			t.Fatal(err)
		}
		if p := b.get(user); !strings.Contains(between(p.body, `id="identities"`, "</table>"), "gh-4242") {
			t.Fatalf("identities:\n%s", p.body)
		}
		if p := b.post(user+"/identities/no-such-id/unlink", form()); p.status != http.StatusNotFound {
			t.Fatalf("unknown identity: %d", p.status)
		}
		p = b.postRedirected(e.base, user+"/identities/"+x.ID+"/unlink", form())
		if !strings.Contains(p.body, "Login unlinked") || strings.Contains(p.body, "gh-4242") {
			t.Fatalf("after unlink:\n%s", p.body)
		}
		if evs, _ := e.srv.Admin().AuditLog(f.adminCtx(), admin.AuditFilter{Action: admin.ActionUserIdentityUnlinked}); len(evs) != 1 || evs[0].TargetID != f.userID {
			t.Fatalf("unlink audit: %v", evs)
		}

		// An invitation: the link sets the password and proves the address.
		p = b.postRedirected(e.base, base+"/users/invite", form("email", "new@acme.test", "name", "Nina New"))
		if !strings.Contains(p.body, "Invitation sent") {
			t.Fatalf("after invite:\n%s", p.body)
		}
		msg := smtp.next("new@acme.test")
		if !strings.Contains(msg.Subject, "invited") {
			t.Fatalf("invitation subject %q", msg.Subject)
		}
		nu, err := e.srv.Admin().UserByEmail(f.adminCtx(), "new@acme.test")
		if err != nil || nu.EmailVerified {
			t.Fatalf("invited user: %+v %v", nu, err)
		}
		if q := f.setPassword(e.browser(), msg.link(t, "/reset/confirm"), "a brand new long password"); q.status != http.StatusOK {
			t.Fatalf("invitation link: %d\n%s", q.status, q.body)
		}
		if nu, _ = e.srv.Admin().UserByEmail(f.adminCtx(), "new@acme.test"); !nu.EmailVerified {
			t.Fatal("following the invitation did not prove the address")
		}
		if p := b.post(base+"/users/invite", form("email", f.email)); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "exists already") {
			t.Fatalf("inviting an existing user: %d", p.status)
		}
		if p := b.post(base+"/users/invite", form("email", strings.Repeat("a", 300)+"@x.test")); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("a huge address: %d", p.status)
		}

		// A user whose only way in is one identity cannot lose it.
		only := &tenants.User{Email: "fed@acme.test", EmailVerified: true}
		ox := &tenants.ExternalIdentity{ConnectionID: conn.ID, Issuer: "https://github.com", Subject: "gh-only"}
		if err := e.store.CreateFederatedUser(ctx, only, ox); err != nil {
			t.Fatal(err)
		}
		p = b.post(base+"/users/"+only.ID+"/identities/"+ox.ID+"/unlink", form())
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "only way to sign in") {
			t.Fatalf("unlinking the only way in: %d\n%s", p.status, p.body)
		}
		if xs, _ := e.store.ListExternalIdentities(ctx, only.ID); len(xs) != 1 {
			t.Fatal("the only identity was unlinked")
		}

		// Reset and verification emails.
		p = b.postRedirected(e.base, user+"/reset", form())
		if !strings.Contains(p.body, "reset link sent") {
			t.Fatalf("after reset:\n%s", p.body)
		}
		if msg := smtp.next(f.email); msg.Subject != "Reset your password" {
			t.Fatalf("reset subject %q", msg.Subject)
		}
		if p := b.post(base+"/users/"+nu.ID+"/verification", form()); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "verified already") {
			t.Fatalf("verification for a verified address: %d", p.status)
		}
		un, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "unv@acme.test", Password: "a long enough password 1"})
		if err != nil {
			t.Fatal(err)
		}
		p = b.postRedirected(e.base, base+"/users/"+un.ID+"/verification", form())
		if !strings.Contains(p.body, "Verification email sent") {
			t.Fatalf("after verification:\n%s", p.body)
		}
		if msg := smtp.next("unv@acme.test"); msg.Subject != "Confirm your email address" {
			t.Fatalf("verification subject %q", msg.Subject)
		}
		for _, action := range []string{admin.ActionUserInvited, admin.ActionUserPasswordResetSent, admin.ActionUserVerificationSent} {
			if evs, _ := e.srv.Admin().AuditLog(f.adminCtx(), admin.AuditFilter{Action: action}); len(evs) != 1 {
				t.Errorf("%s audited %d times", action, len(evs))
			}
		}
	})
}

// between is the part of s from the first start to the next end after it
// ("" when start is missing).
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

// wrongPassword walks to f's login page and posts a wrong password for
// f's user.
func wrongPassword(t *testing.T, e *env, f *fixture) {
	t.Helper()
	b := e.browser()
	cfg := f.oauth2Config(f.web, "openid")
	_, challenge := pkce()
	p := b.get(cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", challenge), oauth2.SetAuthURLParam("code_challenge_method", "S256")))
	for range 4 {
		if p.status == http.StatusFound || p.status == http.StatusSeeOther {
			p = b.get(resolve(f.issuer, p.location))
		}
	}
	if !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("no login page: %d\n%s", p.status, p.body)
	}
	b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
		"email": {f.email}, "password": {"not the password at all"}})
}
