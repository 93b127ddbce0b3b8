package e2e

import (
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// oidcUpstream adds a generic OpenID Connect connection to f's tenant whose
// upstream is the fake's Google, a loopback OpenID provider (discovery,
// JWKS, PKCE, nonce) that the node reaches only because
// GATEHOUSE_UPSTREAM_ALLOW_HOSTS names it, and whose ID token claims a test
// sets with Tamper.
func (e *fedEnv) oidcUpstream(f *fixture, trustEmail bool, configure ...func(*admin.ConnectionInput)) *admin.Connection {
	e.t.Helper()
	issuer := "https://accounts.google.com"
	return e.connect(f, tenants.ConnectionOIDC, "Upstream "+secret6(), trustEmail, append([]func(*admin.ConnectionInput){
		func(in *admin.ConnectionInput) { in.Issuer = &issuer }}, configure...)...)
}

func secret6() string { return strings.ReplaceAll(tenants.NewRandomID(), "-", "")[:6] }

// upstreamLogin logs in through conn as the fake's Google user sub with
// claims overriding the ID token's, and returns the answer to the callback.
func (e *fedEnv) upstreamLogin(f *fixture, conn *admin.Connection, sub string, claims map[string]any) (*browser, *fedFlow, *page) {
	e.t.Helper()
	e.fake.SetUser(socialtest.Google, socialtest.User{Subject: sub, Email: "u" + sub + "@upstream.test", EmailVerified: true, Name: "Upstream User"})
	e.fake.Tamper(socialtest.Google, socialtest.Tamper{Claims: claims})
	b := e.browser()
	fl, up := f.beginFederated(b, conn)
	cb := fl.atProvider(up)
	return b, fl, b.get(cb)
}

// cleanText reports whether s is what a text column may hold of someone
// else's value: valid UTF-8, no NUL or other control character, at most n
// bytes.
func cleanText(s string, n int) bool {
	return utf8.ValidString(s) && len(s) <= n && !strings.ContainsFunc(s, unicode.IsControl)
}

// TestFederationUpstreamClaimsAreCleaned is the claims half of finding 1:
// what an upstream asserts about its user (names, groups, email) is its
// own text, cleaned in one place before anything stores it — NUL bytes
// (which PostgreSQL refuses), control characters (a terminal's escape
// sequences in an admin's log) and lengths without bound — and an
// identity whose issuer or subject cannot be kept as given is refused
// rather than cut (a cut subject could name someone else's identity).
func TestFederationUpstreamClaimsAreCleaned(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		conn := e.oidcUpstream(f, true)
		groups := make([]string, 0, 300)
		for range 300 {
			groups = append(groups, "g\x00"+strings.Repeat("x", 300))
		}
		long := "Mallory\x00\x1b[31m\u2028" + strings.Repeat("\u00e9", 400)
		b, fl, p := e.upstreamLogin(f, conn, "hostile-1", map[string]any{
			"name": long, "given_name": "\x00\x07Mal", "family_name": strings.Repeat("\u20ac", 1000),
			"groups": groups, "email": "mallory\x00@upstream.test", "email_verified": true,
		})
		c := fl.finish(resolve(f.issuer, "/"), p)
		_ = b
		u := f.userByID(c.Subject)
		for what, s := range map[string]string{"name": u.Name, "given name": u.GivenName, "family name": u.FamilyName} {
			if !cleanText(s, 256) {
				t.Errorf("the user's %s is kept as %q (%d bytes)", what, s, len(s))
			}
		}
		if !strings.HasPrefix(u.Name, "Mallory") || u.GivenName != "Mal" || u.FamilyName == "" {
			t.Errorf("the names lost more than what was unsafe: %q %q %q", u.Name, u.GivenName, u.FamilyName)
		}
		// An address with a NUL in it is no address: the user gets none,
		// and neither does the identity.
		if u.Email != "" || c.Email != "" {
			t.Errorf("an address with a NUL was given to the user: %q, token %q", u.Email, c.Email)
		}
		for _, x := range f.identities(u.ID) {
			if !cleanText(x.Email, 254) || !cleanText(x.Subject, 255) {
				t.Errorf("the identity keeps %q, %q", x.Email, x.Subject)
			}
		}
		// An address longer than an address may be is none either.
		_, fl, p = e.upstreamLogin(f, conn, "hostile-2", map[string]any{"email": strings.Repeat("a", 300) + "@upstream.test", "email_verified": true})
		if c := fl.finish(resolve(f.issuer, "/"), p); c.Email != "" || f.userByID(c.Subject).Email != "" {
			t.Errorf("a 314-byte address was given to the user: %q", c.Email)
		}

		// A subject that cannot be kept as given is refused, not cut.
		for name, sub := range map[string]string{"a NUL": "sub\x00ject", "a control character": "sub\x1bject", "4 KB": strings.Repeat("s", 4096)} {
			before, _ := e.store.CountUsers(f.tctx())
			_, _, p := e.upstreamLogin(f, conn, "ignored", map[string]any{"sub": sub})
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in failed") {
				t.Errorf("a subject with %s: %d, want the refusal page\n%s", name, p.status, p.body)
			}
			noSession(t, p)
			if after, _ := e.store.CountUsers(f.tctx()); after != before {
				t.Errorf("a subject with %s provisioned a user", name)
			}
		}
	})
}

// TestFederationOIDCUnvouchedAddressAndProvisioning runs findings 1 and 11
// against a generic OpenID Connect upstream on loopback: an address the
// upstream does not vouch for (email_verified false or "false", or a
// connection that does not trust it) is never given to a user nor looked
// up, so the answer is the same whether an account has it; a first login
// creates a user only as the connection's provisioning and the tenant's
// sign-up say.
func TestFederationOIDCUnvouchedAddressAndProvisioning(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		users := func() int64 {
			t.Helper()
			n, err := e.store.CountUsers(f.tctx())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("an unvouched address is not the user's", func(t *testing.T) {
			trusted := e.oidcUpstream(f, true)
			untrusted := e.oidcUpstream(f, false)
			for i, tc := range []struct {
				conn     *admin.Connection
				verified any
			}{{trusted, false}, {trusted, "false"}, {trusted, nil}, {untrusted, true}} {
				addr := "someone-" + secret6() + "@acme.test"
				_, fl, p := e.upstreamLogin(f, tc.conn, "unvouched-"+secret6(), map[string]any{"email": addr, "email_verified": tc.verified})
				c := fl.finish(resolve(f.issuer, "/"), p)
				if u := f.userByID(c.Subject); u.Email != "" || u.EmailVerified || c.Email != "" {
					t.Errorf("case %d: the user got the unvouched address: %+v, token %q", i, u, c.Email)
				}
				if _, err := e.store.UserByEmail(f.tctx(), addr); err == nil {
					t.Errorf("case %d: an account has the unvouched address", i)
				}
			}
			// A vouched address is the user's.
			addr := "vouched-" + secret6() + "@acme.test"
			_, fl, p := e.upstreamLogin(f, trusted, "vouched-"+secret6(), map[string]any{"email": addr, "email_verified": true})
			if c := fl.finish(resolve(f.issuer, "/"), p); c.Email != addr || !f.userByID(c.Subject).EmailVerified {
				t.Errorf("a vouched address: token %q", c.Email)
			}
		})

		t.Run("the answer ignores whether an address has an account", func(t *testing.T) {
			for _, tc := range []struct {
				name     string
				trust    bool
				verified bool
				create   bool
			}{{"untrusted, creating", false, true, true}, {"trusted but unverified, creating", true, false, true},
				{"untrusted, following sign-up (off)", false, true, false}, {"trusted but unverified, following sign-up (off)", true, false, false}} {
				conn := e.oidcUpstream(f, tc.trust, func(in *admin.ConnectionInput) {
					if !tc.create {
						in.Provisioning = nil
					}
				})
				answer := func(email string) *page {
					_, _, p := e.upstreamLogin(f, conn, "enum-"+secret6(), map[string]any{"email": email, "email_verified": tc.verified})
					return p
				}
				taken, free := answer(f.email), answer("nobody-"+secret6()+"@acme.test")
				if taken.status != free.status || stripRequestID(taken.body) != stripRequestID(free.body) ||
					strings.SplitN(taken.location, "?", 2)[0] != strings.SplitN(free.location, "?", 2)[0] {
					t.Errorf("%s: a taken address (%d %s) is told from a free one (%d %s)\n%s\n---\n%s", tc.name,
						taken.status, taken.location, free.status, free.location, taken.body, free.body)
				}
				if strings.Contains(taken.body, "already exists") || strings.Contains(taken.body, f.email) {
					t.Errorf("%s: the answer names the account:\n%s", tc.name, taken.body)
				}
				if !tc.create && (taken.status != http.StatusForbidden || !strings.Contains(taken.body, "No account for this sign-in")) {
					t.Errorf("%s: want the no-account page, got %d", tc.name, taken.status)
				}
			}
			if xs := f.identities(f.userID); len(xs) != 0 {
				t.Errorf("an unvouched login was linked to the account: %+v", xs)
			}
		})

		t.Run("provisioning obeys sign-up and the connection", func(t *testing.T) {
			f.setSignup(t, tenants.SignupOff)
			follow := e.oidcUpstream(f, true, func(in *admin.ConnectionInput) { in.Provisioning = nil })
			existing := e.oidcUpstream(f, true, func(in *admin.ConnectionInput) { p := tenants.ProvisionExisting; in.Provisioning = &p })
			create := e.oidcUpstream(f, true)
			login := func(conn *admin.Connection) *page {
				_, _, p := e.upstreamLogin(f, conn, "prov-"+secret6(), map[string]any{"email": "new-" + secret6() + "@acme.test", "email_verified": true})
				return p
			}
			refused := func(what string, p *page) {
				t.Helper()
				before := users()
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "No account for this sign-in") {
					t.Errorf("%s: want the no-account page, got %d\n%s", what, p.status, p.body)
				}
				noSession(t, p)
				if users() != before {
					t.Errorf("%s: a user was provisioned", what)
				}
			}
			refused("sign-up off, connection following it", login(follow))
			refused("connection for existing accounts only, sign-up off", login(existing))
			f.setSignup(t, tenants.SignupOpen)
			refused("connection for existing accounts only, sign-up open", login(existing))
			before := users()
			if p := login(follow); !isRedirect(p) || users() != before+1 {
				t.Errorf("sign-up open, connection following it: %d, %d users (was %d)", p.status, users(), before)
			}
			f.setSignup(t, tenants.SignupOff)
			before = users()
			if p := login(create); !isRedirect(p) || users() != before+1 {
				t.Errorf("a connection that creates users, sign-up off: %d", p.status)
			}
		})
	})
}
