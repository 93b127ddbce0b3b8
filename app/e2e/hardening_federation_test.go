package e2e

import (
	"errors"

	"golang.org/x/oauth2"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// forEachDBFederatedWithMail is forEachDBFederated with a node that sends
// email to an in-process SMTP server.
func forEachDBFederatedWithMail(t *testing.T, fn func(t *testing.T, e *fedEnv, s *smtpServer)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		s := startSMTP(t)
		fe := &fedEnv{fake: socialtest.New(t)}
		fe.env = newEnv(t, db.URL(t), withSocialFake(fe.fake), withSMTP(s))
		fn(t, fe, s)
	})
}

// TestFederationUnvouchedAddressTakesNoAccount is finding 1 of the
// security review (pre-account takeover): an attacker signs in through a
// connection whose upstream does not vouch for the address it gives — a
// GitHub account with the victim's address unverified, a Microsoft account
// (whose address no Entra tenant vouches for) — before the victim has an
// account. Neither login may take the address: when the victim signs up
// with it and proves it, the account is theirs alone, and the attacker's
// logins land on accounts of their own.
func TestFederationUnvouchedAddressTakesNoAccount(t *testing.T) {
	forEachDBFederatedWithMail(t, func(t *testing.T, e *fedEnv, smtp *smtpServer) {
		f := e.fixture("acme")
		f.setSignup(t, tenants.SignupOpen)
		github := e.connect(f, tenants.ConnectionGitHub, "GitHub", true)
		microsoft := e.connect(f, tenants.ConnectionMicrosoft, "Microsoft", true)
		const victim = "victim@acme.test"
		e.fake.SetUser(socialtest.GitHub, socialtest.User{Subject: "6666", Login: "mallory", Email: victim, EmailVerified: false, Name: "Mallory"})
		gh := f.federatedLogin(e.browser(), github)
		e.fake.SetUser(socialtest.Microsoft, socialtest.User{Subject: "00000000-0000-0000-6666-000000000001", TenantID: contosoTenant,
			Email: victim, EmailVerified: true, Name: "Mallory"})
		ms := f.federatedLogin(e.browser(), microsoft)
		if gh.Email != "" || ms.Email != "" {
			t.Fatalf("the attacker's tokens carry the address: %q, %q", gh.Email, ms.Email)
		}
		if u, err := e.store.UserByEmail(f.tctx(), victim); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("an unvouched upstream login took the address: user %+v (%v)", u, err)
		}

		// The victim signs up with the address and proves it.
		b := e.browser()
		p := f.signupForm(b, f.loginPage(b), victim, newPassword)
		if p.status != http.StatusOK || !strings.Contains(p.body, "Check your inbox") {
			t.Fatalf("sign-up: %d\n%s", p.status, p.body)
		}
		mail := smtp.next(victim)
		if mail.Subject != "Confirm your email address" {
			t.Fatalf("the victim got %q, want the confirmation link", mail.Subject)
		}
		f.follow(b, b.get(mail.link(t, "/verify")))
		owner := f.user(t, victim)
		if !owner.EmailVerified || owner.ID == gh.Subject || owner.ID == ms.Subject {
			t.Fatalf("the victim's account %+v is the attacker's (%s, %s)", owner, gh.Subject, ms.Subject)
		}
		if xs := f.identities(owner.ID); len(xs) != 0 {
			t.Fatalf("the victim's account has the attacker's identities: %+v", xs)
		}
		// The attacker's next logins are their own accounts, never the
		// victim's; the victim's password is the victim's.
		if again := f.federatedLogin(e.browser(), github); again.Subject != gh.Subject {
			t.Fatalf("the attacker's GitHub login now signs in as %s", again.Subject)
		}
		e.fake.SetUser(socialtest.Microsoft, socialtest.User{Subject: "00000000-0000-0000-6666-000000000001", TenantID: contosoTenant,
			Email: victim, EmailVerified: true, Name: "Mallory"})
		if again := f.federatedLogin(e.browser(), microsoft); again.Subject != ms.Subject {
			t.Fatalf("the attacker's Microsoft login now signs in as %s", again.Subject)
		}
		tok, _ := f.as(victim, newPassword).codeFlow(e.browser(), f.web, []string{"openid"})
		if sub := f.subjectOf(t, tok); sub != owner.ID {
			t.Fatalf("the victim's password signs in as %s, want %s", sub, owner.ID)
		}
	})
}

// subjectOf returns the subject of the ID token of tok, verified.
func (f *fixture) subjectOf(t testing.TB, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.idTokenVerifier().Verify(f.e.ctx(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	return idt.Subject
}

// TestFederationProvisioningFollowsSignup is the second half of finding 1:
// a first login through a connection creates a user only as the
// connection says, and by default only when the tenant lets people sign
// up (today's bypass: signup_mode=off did not stop connections).
func TestFederationProvisioningFollowsSignup(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		name, clientID, clientSecret, trust := "Google", "google-"+secret.Token(6), secret.Token(24), true
		e.fake.AddClient(clientID, clientSecret)
		// Created as a default connection: nothing says it creates users.
		google, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionGoogle, Name: &name,
			ClientID: &clientID, ClientSecret: &clientSecret, TrustEmail: &trust})
		if err != nil {
			t.Fatal(err)
		}
		login := func(sub, email string) *page {
			t.Helper()
			e.fake.SetUser(socialtest.Google, socialtest.User{Subject: sub, Email: email, EmailVerified: true, Name: "New Person"})
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			return b.get(cb)
		}
		users := func() int {
			t.Helper()
			n, err := e.store.CountUsers(f.tctx())
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		refused := func(what string, p *page, before int) {
			t.Helper()
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "No account for this sign-in") {
				t.Fatalf("%s: want the no-account page, got %d\n%s", what, p.status, p.body)
			}
			noSession(t, p)
			if n := users(); n != before {
				t.Fatalf("%s: %d users, want %d: a user was provisioned", what, n, before)
			}
		}
		before := users()
		// Sign-up off (the default): nobody new gets in.
		refused("sign-up off", login("g-1", "new1@gmail.test"), before)
		// Sign-up for some domains: an address there, vouched for, gets
		// in; another domain does not.
		f.setSignup(t, tenants.SignupDomains, "partner.test")
		refused("another domain", login("g-2", "new2@gmail.test"), before)
		if p := login("g-3", "new3@partner.test"); !isRedirect(p) {
			t.Fatalf("an address of a sign-up domain: %d\n%s", p.status, p.body)
		}
		if n := users(); n != before+1 {
			t.Fatalf("%d users after a login from a sign-up domain, want %d", n, before+1)
		}
		// The connection says "existing accounts only": even with sign-up
		// open, nobody new.
		f.setSignup(t, tenants.SignupOpen)
		existing := tenants.ProvisionExisting
		if _, err := e.srv.Admin().UpdateConnection(f.adminCtx(), google.ID, admin.ConnectionInput{Type: google.Type, Provisioning: &existing}); err != nil {
			t.Fatal(err)
		}
		refused("existing accounts only", login("g-4", "new4@gmail.test"), before+1)
		// ...while an account that exists still signs in through it.
		if p := login("g-3", "new3@partner.test"); !isRedirect(p) {
			t.Fatalf("a linked identity through an existing-only connection: %d\n%s", p.status, p.body)
		}
		// "Create": a company's own IdP provisions even with sign-up off.
		f.setSignup(t, tenants.SignupOff)
		create := tenants.ProvisionCreate
		if _, err := e.srv.Admin().UpdateConnection(f.adminCtx(), google.ID, admin.ConnectionInput{Type: google.Type, Provisioning: &create}); err != nil {
			t.Fatal(err)
		}
		if p := login("g-5", "new5@gmail.test"); !isRedirect(p) {
			t.Fatalf("a connection that creates users: %d\n%s", p.status, p.body)
		}
		if evs := f.audit("user.provisioning_refused"); len(evs) != 3 {
			t.Fatalf("%d user.provisioning_refused events, want 3", len(evs))
		}
	})
}

// TestFederationAnswerIgnoresWhetherAnAddressHasAnAccount is finding 11 of
// the security review (account enumeration): an upstream login with an
// address the upstream does not vouch for is answered the same whether an
// account has that address or not.
func TestFederationAnswerIgnoresWhetherAnAddressHasAnAccount(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		for _, tt := range []struct {
			name   string
			create bool
		}{{"a connection that creates users", true}, {"a connection that follows sign-up (off)", false}} {
			t.Run(tt.name, func(t *testing.T) {
				name := "GitHub " + secret.Token(4)
				conn := e.connect(f, tenants.ConnectionGitHub, name, false, func(in *admin.ConnectionInput) {
					if !tt.create {
						in.Provisioning = nil
					}
				})
				answer := func(sub, email string) *page {
					t.Helper()
					e.fake.SetUser(socialtest.GitHub, socialtest.User{Subject: sub, Login: "u" + sub, Email: email, EmailVerified: true})
					b := e.browser()
					fl, up := f.beginFederated(b, conn)
					return b.get(fl.atProvider(up))
				}
				taken := answer(secret.Token(6), f.email)
				free := answer(secret.Token(6), "nobody-"+secret.Token(4)+"@acme.test")
				if taken.status != free.status || stripRequestID(taken.body) != stripRequestID(free.body) ||
					strings.SplitN(taken.location, "?", 2)[0] != strings.SplitN(free.location, "?", 2)[0] {
					t.Fatalf("the answer tells a taken address (%d %s) from a free one (%d %s):\n%s\n---\n%s",
						taken.status, taken.location, free.status, free.location, taken.body, free.body)
				}
				if strings.Contains(taken.body, "already exists") || strings.Contains(taken.body, f.email) {
					t.Fatalf("the answer names the account:\n%s", taken.body)
				}
				if xs := f.identities(f.userID); len(xs) != 0 {
					t.Fatalf("the unvouched login was linked to the account: %+v", xs)
				}
			})
		}
	})
}
