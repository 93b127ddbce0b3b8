package e2e

import (
	"context"
	"html"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// fedEnv is a node whose upstream client reaches the fake Google, GitHub
// and Microsoft under their real host names (allowed to resolve to the
// fake's loopback address), the node itself for partner.localhost (a
// tenant federating to another) and the test's own upstreams under their
// names; its browsers reach all of them.
type fedEnv struct {
	*env
	fake *socialtest.Fake
}

// forEachDBFederated runs fn against a fresh fedEnv on every database.
func forEachDBFederated(t *testing.T, fn func(t *testing.T, e *fedEnv)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		fe := &fedEnv{fake: socialtest.New(t)}
		fe.env = newEnv(t, db.URL(t), withSocialFake(fe.fake))
		fn(t, fe)
	})
}

// dial is the browsers' dialer for hosts the fake does not answer for.
func (e *fedEnv) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return e.names.dial(ctx, network, addr)
}

// browser returns a cookie-keeping client that does not follow redirects
// and reaches the node, the fakes and loopback providers.
func (e *fedEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: e.fake.Transport(e.dial), Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: e.t, client: c}
}

// connect adds a connection to f's tenant, with an application registered
// at the fake providers.
func (e *fedEnv) connect(f *fixture, typ, name string, trustEmail bool, configure ...func(*admin.ConnectionInput)) *admin.Connection {
	e.t.Helper()
	clientID, clientSecret := typ+"-"+secret.Token(6), secret.Token(24)
	e.fake.AddClient(clientID, clientSecret)
	// These connections create users at the first login (the tenant's
	// sign-up is off); tests of provisioning say otherwise.
	create := tenants.ProvisionCreate
	in := admin.ConnectionInput{Type: typ, Name: &name, ClientID: &clientID, ClientSecret: &clientSecret, TrustEmail: &trustEmail, Provisioning: &create}
	for _, fn := range configure {
		fn(&in)
	}
	c, err := e.srv.Admin().CreateConnection(f.adminCtx(), in)
	if err != nil {
		e.t.Fatalf("create %s connection: %v", typ, err)
	}
	if c.CallbackURL != f.issuer+"/federation/"+c.ID+"/callback" {
		e.t.Fatalf("callback URL to register upstream = %q", c.CallbackURL)
	}
	return c
}

// fedFlow is an authorization request of f's web client in browser b that
// signs in at an upstream connection.
type fedFlow struct {
	f                      *fixture
	b                      *browser
	cfg                    *oauth2.Config
	state, nonce, verifier string
}

// beginFederated starts an authorization request and presses "Continue
// with <name>" on the login page; it returns the flow and the upstream
// authorization URL the browser is sent to.
func (f *fixture) beginFederated(b *browser, conn *admin.Connection) (*fedFlow, string) {
	t := b.t
	t.Helper()
	fl, p := f.pressContinue(b, conn)
	if !isRedirect(p) {
		t.Fatalf("Continue with %s: %d\n%s", conn.Name, p.status, p.body)
	}
	return fl, p.location
}

// pressContinue starts an authorization request and presses "Continue
// with <name>" on the login page; it returns the flow and the answer.
func (f *fixture) pressContinue(b *browser, conn *admin.Connection) (*fedFlow, *page) {
	t := b.t
	t.Helper()
	fl := &fedFlow{f: f, b: b, cfg: f.oauth2Config(f.web, "openid", "profile", "email"),
		state: secret.Token(8), nonce: secret.Token(8), verifier: oauth2.GenerateVerifier()}
	cur := fl.cfg.AuthCodeURL(fl.state, oauth2.S256ChallengeOption(fl.verifier), oauth2.SetAuthURLParam("nonce", fl.nonce))
	p := b.get(cur)
	for i := 0; i < 4 && isRedirect(p); i++ {
		cur = resolve(cur, p.location)
		p = b.get(cur)
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/login/federated"`) ||
		!strings.Contains(p.body, "Continue with "+html.EscapeString(conn.Name)) {
		t.Fatalf("login page without a %q button: %d\n%s", conn.Name, p.status, p.body)
	}
	return fl, b.post(f.issuer+"/login/federated", url.Values{
		"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "connection": {conn.ID},
	})
}

// provisionCreate is the provisioning of a connection that creates users
// at their first login.
func provisionCreate() *string { p := tenants.ProvisionCreate; return &p }

func isRedirect(p *page) bool {
	return p.status == http.StatusFound || p.status == http.StatusSeeOther || p.status == http.StatusMovedPermanently
}

// atProvider visits a fake provider's authorization URL (approved at once)
// and returns the callback URL it sends the browser back to.
func (fl *fedFlow) atProvider(upstream string) string {
	t := fl.b.t
	t.Helper()
	p := fl.b.get(upstream)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, fl.f.issuer+"/federation/") {
		t.Fatalf("provider answered %d %q\n%s", p.status, p.location, p.body)
	}
	return p.location
}

// finish walks from page p (at URL cur) through redirects, Gatehouse
// login pages (with creds, on whichever tenant shows them) and consent
// pages (allowed) to the client's redirect, redeems the code and returns
// the ID token's claims.
func (fl *fedFlow) finish(cur string, p *page, creds ...url.Values) fedClaims {
	t := fl.b.t
	t.Helper()
	for range 12 {
		switch {
		case isRedirect(p):
			loc := resolve(cur, p.location)
			if strings.HasPrefix(loc, redirectURI) {
				return fl.redeem(loc)
			}
			cur = loc
			p = fl.b.get(cur)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			cur = resolve(cur, "/consent")
			p = fl.b.post(cur, url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`) && len(creds) > 0:
			form := url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}}
			for k, v := range creds[0] {
				form[k] = v
			}
			creds = creds[1:]
			cur = resolve(cur, "/login")
			p = fl.b.post(cur, form)
		default:
			t.Fatalf("unexpected page at %s: %d %s\n%s", cur, p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return fedClaims{}
}

// fedClaims are the ID token claims that tell how the user signed in.
type fedClaims struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	AMR     []string `json:"amr"`
	IDP     string   `json:"idp"`
	Nonce   string   `json:"nonce"`
}

func (fl *fedFlow) redeem(loc string) fedClaims {
	t := fl.b.t
	t.Helper()
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("error") != "" || q.Get("state") != fl.state {
		t.Fatalf("client callback = %v", q)
	}
	tok, err := fl.cfg.Exchange(fl.f.e.ctx(), q.Get("code"), oauth2.VerifierOption(fl.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := fl.f.idTokenVerifier().Verify(fl.f.e.ctx(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c fedClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Nonce != fl.nonce {
		t.Fatalf("ID token nonce = %q, want %q", c.Nonce, fl.nonce)
	}
	return c
}

// federatedLogin signs in through conn as the fake's current user of p and
// returns the ID token's claims.
func (f *fixture) federatedLogin(b *browser, conn *admin.Connection) fedClaims {
	b.t.Helper()
	fl, up := f.beginFederated(b, conn)
	cb := fl.atProvider(up)
	return fl.finish(cb, b.get(cb))
}

// wantFederated checks that claims say the user signed in at conn.
func wantFederated(t *testing.T, c fedClaims, conn *admin.Connection, email string) {
	t.Helper()
	if !slices.Equal(c.AMR, []string{"fed"}) || c.IDP != conn.Name || c.Email != email || c.Subject == "" {
		t.Fatalf("ID token claims = %+v; want amr [fed], idp %q, email %q", c, conn.Name, email)
	}
}

func (f *fixture) tctx() context.Context { return tenants.WithTenant(context.Background(), f.tenant) }

// audit returns the tenant's audit events whose action starts with action.
func (f *fixture) audit(action string) []tenants.AuditEvent {
	f.e.t.Helper()
	evs, err := f.e.store.ListAudit(f.tctx(), tenants.AuditFilter{Action: action})
	if err != nil {
		f.e.t.Fatal(err)
	}
	return evs
}

// identities returns the upstream identities linked to userID.
func (f *fixture) identities(userID string) []tenants.ExternalIdentity {
	f.e.t.Helper()
	xs, err := f.e.store.ListExternalIdentities(f.tctx(), userID)
	if err != nil {
		f.e.t.Fatal(err)
	}
	return xs
}

func (f *fixture) userByID(id string) *tenants.User {
	f.e.t.Helper()
	u, err := f.e.store.UserByID(f.tctx(), id)
	if err != nil {
		f.e.t.Fatalf("user %s: %v", id, err)
	}
	return u
}

// verified confirms the address of the fixture's user, as its owner would
// have: an upstream then vouches for it.
func (f *fixture) verified(t testing.TB) *fixture {
	t.Helper()
	if err := f.e.store.SetEmail(f.tctx(), f.userID, f.email, true); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) userByEmail(email string) *tenants.User {
	f.e.t.Helper()
	u, err := f.e.store.UserByEmail(f.tctx(), email)
	if err != nil {
		f.e.t.Fatalf("user %s: %v", email, err)
	}
	return u
}

// wantRefused checks that p is the clear page of an upstream answer
// refused for reason, that no session began, and that the refusal is in
// the tenant's audit log.
func (f *fixture) wantRefused(t *testing.T, p *page, reason string) {
	t.Helper()
	if p.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(p.body), reason) {
		t.Fatalf("want a 400 page saying %q, got %d:\n%s", reason, p.status, p.body)
	}
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gh_session=") && !strings.HasPrefix(c, "gh_session=;") {
			t.Fatalf("a refused answer set a session cookie: %s", c)
		}
	}
	for _, ev := range f.audit("federation.rejected") {
		if ev.Reason == reason && ev.Outcome == "failure" {
			return
		}
	}
	t.Fatalf("no federation.rejected audit event with reason %q", reason)
}

const contosoTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

var linkField = regexp.MustCompile(`name="link" value="([^"]*)"`)

// TestFederationSocialLogin signs in with Google, GitHub and Microsoft:
// the first login provisions the user just in time, the next one finds the
// identity, and the application gets an ID token saying how the user
// signed in (amr fed, idp the connection).
func TestFederationSocialLogin(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		google := e.connect(f, tenants.ConnectionGoogle, "Google", true)
		github := e.connect(f, tenants.ConnectionGitHub, "GitHub", true)
		organizations := "organizations"
		microsoft := e.connect(f, tenants.ConnectionMicrosoft, "Microsoft", true, func(in *admin.ConnectionInput) { in.MicrosoftTenant = &organizations })
		tests := []struct {
			name     string
			provider socialtest.Provider
			conn     *admin.Connection
			user     socialtest.User
			issuer   string
			// verified is whether the provisioned account has the
			// address, verified: the connection trusts its upstream, and
			// the upstream said so (never Microsoft). Otherwise the
			// account has no address.
			verified bool
		}{
			{"google", socialtest.Google, google, socialtest.User{Subject: "110169484474386276334", Email: "gina@gmail.test", EmailVerified: true,
				Name: "Gina Green", GivenName: "Gina", FamilyName: "Green"}, "https://accounts.google.com", true},
			{"github", socialtest.GitHub, github, socialtest.User{Subject: "583231", Login: "octocat", Name: "The Octocat",
				Email: "octo@github.test", EmailVerified: true}, "https://github.com", true},
			{"microsoft", socialtest.Microsoft, microsoft, socialtest.User{Subject: "00000000-0000-0000-66f3-3332eca7ea81", TenantID: contosoTenant,
				Email: "mia@contoso.test", EmailVerified: true, Name: "Mia Moss", GivenName: "Mia", FamilyName: "Moss"},
				"https://login.microsoftonline.com/" + contosoTenant + "/v2.0", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.fake.SetUser(tt.provider, tt.user)
				first := f.federatedLogin(e.browser(), tt.conn)
				email := ""
				if tt.verified {
					email = tt.user.Email
				}
				wantFederated(t, first, tt.conn, email)
				u := f.userByID(first.Subject)
				if u.Email != email || u.EmailVerified != tt.verified || u.Name != tt.user.Name || u.PasswordHash != "" {
					t.Fatalf("provisioned user = %+v (sub %s); want address %q, name %q", u, first.Subject, email, tt.user.Name)
				}
				xs := f.identities(u.ID)
				if len(xs) != 1 || xs[0].ConnectionID != tt.conn.ID || xs[0].Issuer != tt.issuer || xs[0].Subject != tt.user.Subject || xs[0].Email != tt.user.Email {
					t.Fatalf("identities = %+v; want (%s, %s, %s)", xs, tt.conn.ID, tt.issuer, tt.user.Subject)
				}
				again := f.federatedLogin(e.browser(), tt.conn)
				if again.Subject != u.ID {
					t.Fatalf("second login is %s, want %s", again.Subject, u.ID)
				}
				q := e.fake.Authorizations(tt.provider)
				last := q[len(q)-1]
				if last.Get("code_challenge_method") != "S256" || last.Get("code_challenge") == "" || last.Get("state") == "" ||
					last.Get("redirect_uri") != tt.conn.CallbackURL || (tt.provider != socialtest.GitHub && last.Get("nonce") == "") {
					t.Fatalf("authorization request upstream = %v", last)
				}
			})
		}
		if n := len(f.audit("user.provisioned")); n != len(tests) {
			t.Fatalf("%d user.provisioned events, want %d", n, len(tests))
		}
	})
}

// TestFederationSocialLinking checks the linking rules: a verified local
// account is linked at once only when the upstream is trusted and vouches
// for the address; an unverified one only after its owner signs in;
// Microsoft's address is never trusted; and an identity is keyed by its
// connection, issuer and subject, never by its address.
func TestFederationSocialLinking(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		google := e.connect(f, tenants.ConnectionGoogle, "Google", true)
		workspace := e.connect(f, tenants.ConnectionGoogle, "Google Workspace", false)
		github := e.connect(f, tenants.ConnectionGitHub, "GitHub", false)
		microsoft := e.connect(f, tenants.ConnectionMicrosoft, "Microsoft", true)
		svc := e.srv.Admin()
		vera, err := svc.CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "vera@acme.test", Password: testPassword, Name: "Vera", EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		una, err := svc.CreateUser(f.adminCtx(), admin.CreateUserInput{Email: "una@acme.test", Password: testPassword, Name: "Una"})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("trusted upstream, verified address, verified account: linked at once", func(t *testing.T) {
			e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-vera", Email: "vera@acme.test", EmailVerified: true, Name: "Vera"})
			c := f.federatedLogin(e.browser(), google)
			wantFederated(t, c, google, "vera@acme.test")
			if c.Subject != vera.ID || len(f.identities(vera.ID)) != 1 {
				t.Fatalf("signed in as %s with identities %+v; want %s linked", c.Subject, f.identities(vera.ID), vera.ID)
			}
			if evs := f.audit("identity.linked"); len(evs) != 1 || evs[0].TargetID != vera.ID {
				t.Fatalf("identity.linked events = %+v", evs)
			}
		})

		t.Run("unverified account: linked only after its owner signs in", func(t *testing.T) {
			e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-una", Email: "una@acme.test", EmailVerified: true, Name: "Una"})
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			p := b.get(cb)
			if p.status != http.StatusOK || !strings.Contains(p.body, "Sign in to it to link your Google login") || !strings.Contains(p.body, `name="link"`) ||
				strings.Contains(p.body, `action="/login/federated"`) {
				t.Fatalf("want the sign-in-to-link page, got %d:\n%s", p.status, p.body)
			}
			if len(f.identities(una.ID)) != 0 {
				t.Fatal("linked before the account's owner signed in")
			}
			c := fl.finish(cb, p, url.Values{"email": {"una@acme.test"}, "password": {testPassword}, "link": {field(t, linkField, p.body)}})
			if c.Subject != una.ID || !slices.Equal(c.AMR, []string{"pwd"}) {
				t.Fatalf("claims = %+v, want una by password", c)
			}
			if xs := f.identities(una.ID); len(xs) != 1 || xs[0].ConnectionID != google.ID || xs[0].Subject != "g-una" {
				t.Fatalf("identities = %+v", xs)
			}
			// The next Google login goes straight in.
			again := f.federatedLogin(e.browser(), google)
			wantFederated(t, again, google, "una@acme.test")
			if again.Subject != una.ID {
				t.Fatalf("next Google login is %s, want %s", again.Subject, una.ID)
			}
		})

		t.Run("a link token is no use to another account", func(t *testing.T) {
			e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-una-2", Email: "una@acme.test", EmailVerified: true})
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			p := b.get(cb)
			c := fl.finish(cb, p, url.Values{"email": {f.email}, "password": {f.password}, "link": {field(t, linkField, p.body)}})
			if c.Subject != f.userID || len(f.identities(f.userID)) != 0 || len(f.identities(una.ID)) != 1 {
				t.Fatalf("another account's sign-in linked the identity: %+v", f.identities(f.userID))
			}
		})

		// An address the upstream does not vouch for is never looked up:
		// the login makes an account of its own (this connection creates
		// users), without the address, whether an account has it or not —
		// nobody learns which addresses have accounts, and nobody signs in
		// to another's.
		t.Run("Microsoft's address is never trusted, even with trust on", func(t *testing.T) {
			e.fake.SetUser(socialtest.Microsoft, socialtest.User{Subject: "00000000-0000-0000-aaaa-000000000001", TenantID: contosoTenant,
				Email: "vera@acme.test", EmailVerified: true, Name: "Not Vera"})
			c := f.federatedLogin(e.browser(), microsoft)
			wantFederated(t, c, microsoft, "")
			if c.Subject == vera.ID || f.userByID(c.Subject).Email != "" {
				t.Fatalf("a Microsoft login with vera's address signed in as %s", c.Subject)
			}
			for _, x := range f.identities(vera.ID) {
				if x.ConnectionID == microsoft.ID {
					t.Fatalf("Microsoft identity linked by its email claim: %+v", x)
				}
			}
		})

		t.Run("the same address at another connection is another identity", func(t *testing.T) {
			// GitHub (not trusted) provisions sam, without the address; an
			// identity with the same address at Google Workspace (not
			// trusted either) is another account.
			e.fake.SetUser(socialtest.GitHub, socialtest.User{Subject: "777", Login: "sam", Email: "sam@shared.test", EmailVerified: true})
			sam := f.federatedLogin(e.browser(), github)
			e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-sam", Email: "sam@shared.test", EmailVerified: true})
			other := f.federatedLogin(e.browser(), workspace)
			if other.Subject == sam.Subject || other.Email != "" {
				t.Fatalf("Google Workspace login = %+v, sam is %s", other, sam.Subject)
			}
			if xs := f.identities(sam.Subject); len(xs) != 1 || xs[0].ConnectionID != github.ID {
				t.Fatalf("sam's identities = %+v", xs)
			}
			// The same Google subject as vera's, at another connection, is
			// not vera's identity either.
			e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-vera", Email: "vera@acme.test", EmailVerified: true})
			if c := f.federatedLogin(e.browser(), workspace); c.Subject == vera.ID {
				t.Fatal("vera's Google subject at another connection signed in as vera")
			}
		})
	})
}

// TestFederationSocialRejections sends spoiled upstream answers: each is
// refused with a clear page and an audit event, and no session begins.
func TestFederationSocialRejections(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		google := e.connect(f, tenants.ConnectionGoogle, "Google", true)
		github := e.connect(f, tenants.ConnectionGitHub, "GitHub", true)
		microsoft := e.connect(f, tenants.ConnectionMicrosoft, "Microsoft", false)
		e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "g-1", Email: "gus@gmail.test", EmailVerified: true, Name: "Gus"})
		e.fake.SetUser(socialtest.GitHub, socialtest.User{Subject: "1", Login: "gus", Email: "gus@gmail.test", EmailVerified: true})
		e.fake.SetUser(socialtest.Microsoft, socialtest.User{Subject: "00000000-0000-0000-aaaa-000000000002", TenantID: contosoTenant, Email: "gus@contoso.test"})
		past := time.Now().Add(-2 * time.Hour).Unix()

		tests := []struct {
			name     string
			conn     *admin.Connection
			provider socialtest.Provider
			tamper   socialtest.Tamper
			reason   string
		}{
			{"nonce of another login", google, socialtest.Google, socialtest.Tamper{Claims: map[string]any{"nonce": "forged"}}, "the ID token's nonce is not this login's"},
			{"signed by another key", google, socialtest.Google, socialtest.Tamper{ForeignKey: true}, "the ID token's signature does not verify against Google's keys"},
			{"for another application", google, socialtest.Google, socialtest.Tamper{Claims: map[string]any{"aud": "another-app"}}, "the ID token is for another application (audience)"},
			{"expired", google, socialtest.Google, socialtest.Tamper{Claims: map[string]any{"exp": past, "iat": past - 60}}, "the ID token has expired"},
			{"access denied at Google", google, socialtest.Google, socialtest.Tamper{Deny: true}, "the sign-in was cancelled or refused at Google (access_denied)"},
			{"access denied at GitHub", github, socialtest.GitHub, socialtest.Tamper{Deny: true}, "the sign-in was cancelled or refused at GitHub (access_denied)"},
			{"Microsoft: another tenant's issuer", microsoft, socialtest.Microsoft,
				socialtest.Tamper{Claims: map[string]any{"iss": "https://login.microsoftonline.com/0f1d2c3b-4a59-4687-a8b9-c0d1e2f3a4b5/v2.0"}},
				"the ID token is from another issuer than its tenant's"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := e.browser()
				fl, up := f.beginFederated(b, tt.conn)
				e.fake.Tamper(tt.provider, tt.tamper)
				f.wantRefused(t, b.get(fl.atProvider(up)), tt.reason)
			})
		}

		t.Run("state used twice", func(t *testing.T) {
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			wantFederated(t, fl.finish(cb, b.get(cb)), google, "gus@gmail.test")
			f.wantRefused(t, e.browser().get(cb), "unknown, used or expired state")
			f.wantRefused(t, b.get(cb), "unknown, used or expired state")
		})

		t.Run("state of another browser", func(t *testing.T) {
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			f.wantRefused(t, e.browser().get(cb), "state bound to another browser")
			// The state is spent: the browser that started cannot use it
			// either.
			f.wantRefused(t, b.get(cb), "unknown, used or expired state")
		})

		t.Run("state of another connection", func(t *testing.T) {
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			f.wantRefused(t, b.get(f.issuer+"/federation/"+github.ID+"/callback"+cb[strings.Index(cb, "?"):]), "state of another connection")
		})

		t.Run("state on another tenant's host", func(t *testing.T) {
			g := e.fixture("globex")
			globexGoogle := e.connect(g, tenants.ConnectionGoogle, "Google", true)
			b := e.browser()
			fl, up := f.beginFederated(b, google)
			cb := fl.atProvider(up)
			query := cb[strings.Index(cb, "?"):]
			// acme's connection is unknown on globex's host.
			p := b.get(g.issuer + "/federation/" + google.ID + "/callback" + query)
			if p.status != http.StatusNotFound || !strings.Contains(p.body, "Sign-in option not available") {
				t.Fatalf("acme's connection on globex's host: %d\n%s", p.status, p.body)
			}
			// acme's state is unknown to globex's connection.
			g.wantRefused(t, b.get(g.issuer+"/federation/"+globexGoogle.ID+"/callback"+query), "unknown, used or expired state")
			if evs := f.audit("federation.rejected"); slices.ContainsFunc(evs, func(ev tenants.AuditEvent) bool { return ev.TargetID == globexGoogle.ID }) {
				t.Fatal("globex's rejection is in acme's audit log")
			}
			// Neither spent it: at acme, in its browser, it still works.
			wantFederated(t, fl.finish(cb, b.get(cb)), google, "gus@gmail.test")
		})
	})
}
