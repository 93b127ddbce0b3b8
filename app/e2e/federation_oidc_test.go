package e2e

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestFederationOIDCPartnerTenant federates acme to another tenant of the
// same server through the generic OpenID Connect connection: partner is a
// real upstream OpenID provider (discovery, PKCE, nonce, its JWKS), and
// acme's application gets an ID token saying the user signed in there.
func TestFederationOIDCPartnerTenant(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		partner := e.fixture("partner").verified(t)
		svc := e.srv.Admin()
		// The application at partner needs acme's callback URL, which
		// needs the connection, which needs the application's id.
		app, err := svc.CreateClient(partner.adminCtx(), admin.CreateClientInput{Name: "Acme sign-in",
			RedirectURIs: []string{f.issuer + "/federation/pending/callback"}, GrantTypes: []string{"authorization_code"}})
		if err != nil {
			t.Fatal(err)
		}
		name, trust := "Partner", true
		conn, err := svc.CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionOIDC, Provisioning: provisionCreate(), Name: &name,
			Issuer: &partner.issuer, ClientID: &app.ClientID, ClientSecret: &app.ClientSecret, TrustEmail: &trust})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateClient(partner.adminCtx(), app.ClientID, admin.UpdateClientInput{RedirectURIs: []string{conn.CallbackURL}}); err != nil {
			t.Fatal(err)
		}

		b := e.browser()
		fl, up := f.beginFederated(b, conn)
		u, err := url.Parse(up)
		if err != nil || !strings.HasPrefix(up, partner.issuer+"/authorize?") {
			t.Fatalf("upstream authorization URL = %q", up)
		}
		if q := u.Query(); q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != conn.CallbackURL {
			t.Fatalf("upstream authorization request = %v", q)
		}
		// At partner: its login page (partner's user), its consent, and back
		// to acme: its consent, and the application.
		c := fl.finish(up, b.get(up), url.Values{"email": {partner.email}, "password": {partner.password}})
		wantFederated(t, c, conn, partner.email)
		provisioned := f.userByEmail(partner.email)
		if c.Subject != provisioned.ID || c.Subject == partner.userID {
			t.Fatalf("acme's user is %s; provisioned %s, partner's %s", c.Subject, provisioned.ID, partner.userID)
		}
		xs := f.identities(provisioned.ID)
		if len(xs) != 1 || xs[0].Issuer != partner.issuer || xs[0].Subject != partner.userID || xs[0].ConnectionID != conn.ID {
			t.Fatalf("identities = %+v; want (%s, %s)", xs, partner.issuer, partner.userID)
		}

		// Signed in at partner already: the next login at acme goes
		// through partner without a password.
		b2 := e.browser()
		at, _ := url.Parse(partner.issuer)
		b2.client.Jar.SetCookies(at, b.client.Jar.Cookies(at))
		fl, up = f.beginFederated(b2, conn)
		if again := fl.finish(up, b2.get(up)); again.Subject != provisioned.ID {
			t.Fatalf("second login is %s, want %s", again.Subject, provisioned.ID)
		}
	})
}

// TestFederationOIDCZitadelExampleOP federates to zitadel/oidc's example
// OpenID provider, run in process on a loopback address under a name the
// node's GATEHOUSE_UPSTREAM_ALLOW_HOSTS allows. Its ID tokens carry no
// profile or email claims (they are at its userinfo endpoint), as OpenID
// Connect Core §5.4 allows when an access token is issued.
func TestFederationOIDCZitadelExampleOP(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		e.names.route(zitadelHost, ln.Addr().String())
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		issuer := "http://" + zitadelHost + ":" + port
		name, clientID, clientSecret, trust, off, on := "Zitadel", "acme-web", "zitadel-secret", false, false, true
		// Created disabled: the OP needs the callback URL before it serves,
		// and an enabled connection's discovery is fetched when it is saved.
		conn, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionOIDC, Provisioning: provisionCreate(), Name: &name,
			Issuer: &issuer, ClientID: &clientID, ClientSecret: &clientSecret, TrustEmail: &trust, Enabled: &off})
		if err != nil {
			t.Fatal(err)
		}
		// The example's clients are a package variable: give this one's
		// storage a map of its own.
		clients := map[string]*storage.Client{clientID: storage.WebClient(clientID, clientSecret, conn.CallbackURL)}
		op := &http.Server{Handler: exampleop.SetupServer(issuer, storage.NewStorageWithClients(storage.NewUserStore(issuer), clients), nil, false),
			ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = op.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = op.Shutdown(ctx)
		})
		if conn, err = e.srv.Admin().UpdateConnection(f.adminCtx(), conn.ID, admin.ConnectionInput{Enabled: &on}); err != nil {
			t.Fatalf("enable once the OP serves: %v", err)
		}

		b := e.browser()
		fl, up := f.beginFederated(b, conn)
		if !strings.HasPrefix(up, issuer+"/auth?") {
			t.Fatalf("upstream authorization URL = %q", up)
		}
		// The example's login page: /login/username?authRequestID=...
		cur, p := up, b.get(up)
		for i := 0; i < 3 && isRedirect(p); i++ {
			cur = resolve(cur, p.location)
			p = b.get(cur)
		}
		u, _ := url.Parse(cur)
		authRequestID := u.Query().Get("authRequestID")
		if p.status != http.StatusOK || authRequestID == "" {
			t.Fatalf("example OP login page at %s: %d\n%s", cur, p.status, p.body)
		}
		cur = issuer + "/login/username"
		p = b.post(cur, url.Values{"id": {authRequestID}, "username": {"test-user@" + zitadelHost}, "password": {"verysecure"}})
		c := fl.finish(cur, p)
		// The connection does not trust the provider's addresses: the
		// user is provisioned without one, and the address stays with the
		// identity.
		wantFederated(t, c, conn, "")
		user := f.userByID(c.Subject)
		if user.Email != "" || user.Name != "Test User" {
			t.Fatalf("provisioned user = %+v, sub %s", user, c.Subject)
		}
		if xs := f.identities(user.ID); len(xs) != 1 || xs[0].Issuer != issuer || xs[0].Subject != "id1" || xs[0].Email != "test-user@zitadel.ch" {
			t.Fatalf("identities = %+v", xs)
		}
	})
}

// TestFederationOIDCBrowserJourney signs in to a web application of acme
// with "Continue with Partner" in headless Chromium: partner's login and
// consent pages, then acme's consent, then the application.
func TestFederationOIDCBrowserJourney(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		partner := e.fixture("partner").verified(t)
		svc := e.srv.Admin()
		app, err := svc.CreateClient(partner.adminCtx(), admin.CreateClientInput{Name: "Acme sign-in",
			RedirectURIs: []string{f.issuer + "/federation/pending/callback"}, GrantTypes: []string{"authorization_code"}})
		if err != nil {
			t.Fatal(err)
		}
		name, trust := "Partner", true
		conn, err := svc.CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionOIDC, Provisioning: provisionCreate(), Name: &name,
			Issuer: &partner.issuer, ClientID: &app.ClientID, ClientSecret: &app.ClientSecret, TrustEmail: &trust})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateClient(partner.adminCtx(), app.ClientID, admin.UpdateClientInput{RedirectURIs: []string{conn.CallbackURL}}); err != nil {
			t.Fatal(err)
		}
		rp := startRelyingParty(t, e.env, f)
		ctx := newBrowser(t)
		shots := screenshotDir(t)
		prefix := "federation-" + t.Name()[strings.LastIndex(t.Name(), "/")+1:] + "-"
		button := chromedp.CSS(`form.federated button`)
		user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
		allow := chromedp.CSS(`button[value=allow]`)
		hello := chromedp.ID("hello")

		run(t, ctx, "open the application", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(button))
		if got := value(t, ctx, "button", chromedp.Text(button)); got != "Continue with Partner" {
			t.Fatalf("button says %q", got)
		}
		screenshot(t, ctx, shots, prefix+"login")
		run(t, ctx, "continue with Partner", chromedp.Click(button), chromedp.WaitVisible(user))
		waitTitle(t, ctx, "Partner Inc")
		run(t, ctx, "sign in at Partner",
			chromedp.SendKeys(user, partner.email),
			chromedp.SendKeys(pass, partner.password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(allow),
		)
		if text := value(t, ctx, "consent", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "Acme sign-in") {
			t.Fatalf("Partner's consent page does not name acme's application:\n%s", text)
		}
		run(t, ctx, "allow at Partner", chromedp.Click(allow))
		waitTitle(t, ctx, "Acme Inc")
		run(t, ctx, "allow at Acme", chromedp.WaitVisible(allow), chromedp.Click(allow), chromedp.WaitVisible(hello))
		if got := value(t, ctx, "greeting", chromedp.Text(hello)); got != "Signed in as "+partner.email {
			t.Fatalf("relying party says %q", got)
		}
	})
}
