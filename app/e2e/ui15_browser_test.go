package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// screen is a window size the pages are looked at in.
type screen struct {
	name          string
	width, height int64
}

var screens = []screen{{"desktop", 1280, 900}, {"phone", 390, 844}}

// fits fails the test when the page is wider than the screen (a phone
// must not scroll sideways).
func (b *consoleBrowser) fits(what string, s screen) {
	b.t.Helper()
	if w := eval[int64](b, "document.documentElement.scrollWidth"); w > s.width {
		b.t.Errorf("%s is %dpx wide on a %dpx screen", what, w, s.width)
	}
}

// TestUI15PagesInBrowser looks at the pages this round changed, in
// headless Chromium at desktop and phone sizes, and writes a screenshot of
// each (GATEHOUSE_SCREENSHOTS, else screenshots/ at the module root): the
// console's application quickstart, user page, SAML connection with an
// expiring certificate, overview notice and branding preview; the login
// page (logos, show-password, readable borders and accent), the consent
// page and its "Not you?", the account page and its confirmation step.
func TestUI15PagesInBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	svc := e.srv.Admin()
	ctx := f.adminCtx()
	// A light accent the pages must darken, a GitHub button, an IdP whose
	// certificate expires in ten days, a linked identity, sign-ins.
	yellow := "#ffeb3b"
	if _, err := svc.UpdateTenant(ctx, admin.TenantSettings{AccentColor: &yellow}); err != nil {
		t.Fatal(err)
	}
	gh := e.addConnection(t, f, "GitHub")
	idp := samltest.NewIdP(t)
	soon := certExpiringIn(t, "idp.corp.test", 10*24*time.Hour)
	md, name := string(idp.Metadata(func(ed *saml.EntityDescriptor) {
		kds := ed.IDPSSODescriptors[0].KeyDescriptors
		for i := range kds {
			kds[i].KeyInfo.X509Data.X509Certificates = []saml.X509Certificate{{Data: soon}}
		}
	})), "Corp SSO"
	samlConn, err := svc.CreateConnection(ctx, admin.ConnectionInput{Type: tenants.ConnectionSAML, Name: &name, MetadataXML: &md})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateExternalIdentity(tenants.WithTenant(context.Background(), f.tenant),
		&tenants.ExternalIdentity{UserID: f.userID, ConnectionID: gh.ID, Issuer: "https://github.com", Subject: "4242", Email: "ann@github.test"}); err != nil {
		t.Fatal(err)
	}
	wrongPassword(t, e, f)
	f.codeFlow(e.browser(), f.web, []string{"openid"})
	e.createAdmin(t, "ops@example.test", "")

	b := newConsoleBrowser(t, true)
	acme := e.base + "/admin/t/acme"
	b.do("open the console", chromedp.Navigate(e.base+"/admin"))
	b.signInAtLoginPage("ops@example.test", testPassword)
	b.waitPage("Gatehouse console", "Acme Inc")

	for _, s := range screens {
		b.do(s.name, chromedp.EmulateViewport(s.width, s.height))
		b.open(acme+"/applications/"+f.web.ClientID, f.web.ClientName, "Quickstart", "golang.org/x/oauth2", "Endpoints")
		b.fits("the application page", s)
		b.screenshot("app-quickstart-" + s.name)
		b.open(acme+"/applications/"+f.worker.ClientID, f.worker.ClientName, "Quickstart", "grant_type=client_credentials")
		b.fits("the machine application page", s)
		b.screenshot("app-m2m-quickstart-" + s.name)
		b.open(acme+"/users/"+f.userID, f.email, "Sign-in history", "Signed in", "Failed", "Linked identities", "ann@github.test", "Email the user")
		b.fits("the user page", s)
		b.screenshot("user-" + s.name)
		b.open(acme+"/users/new", "New user", "invite them by email")
		b.screenshot("user-invite-" + s.name)
		b.open(acme+"/connections/"+samlConn.ID, "Corp SSO", "Identity provider, from its metadata", idp.EntityID(), "expires soon")
		if b.text("#cert-warning") == "" {
			t.Error("no certificate warning on the connection page")
		}
		b.fits("the connection page", s)
		b.screenshot("connection-saml-" + s.name)
		b.open(acme, "Acme Inc", "Needs attention", "Corp SSO")
		b.screenshot("overview-notice-" + s.name)
		b.open(acme+"/settings", "Settings", "is too light")
		got := eval[string](b, `document.querySelector("#branding-preview rect[data-accent]").getAttribute("fill")`)
		if want := tenants.ReadableAccent(yellow).Color; got != want {
			t.Errorf("preview accent %s, want %s", got, want)
		}
		b.do("scroll to the preview", chromedp.ScrollIntoView(chromedp.ID("branding-preview")))
		b.screenshot("settings-branding-" + s.name)
	}

	// The end-user pages, in a browser of their own.
	u := newConsoleBrowser(t, true)
	cfg := f.oauth2Config(f.web, "openid", "email", "offline_access")
	start := func() string {
		return cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login"))
	}
	ink := tenants.ReadableAccent(yellow)
	for _, s := range screens {
		u.do(s.name, chromedp.EmulateViewport(s.width, s.height))
		u.do("authorize", chromedp.Navigate(start()))
		u.waitFor("the login page", `!!document.querySelector('input[autocomplete="current-password"]')`)
		u.waitPage("Sign in", "Continue with GitHub")
		if n := eval[int](u, `document.querySelectorAll('button[data-provider="github"] svg.logo-mark').length`); n != 1 {
			t.Errorf("%d GitHub logos on the login page", n)
		}
		if eval[bool](u, `document.querySelector("button[data-reveal]").hidden`) {
			t.Error("the show-password button is hidden with script on")
		}
		border := eval[string](u, `getComputedStyle(document.getElementById("email")).borderTopColor`)
		if border != "rgb(110, 119, 129)" {
			t.Errorf("input border %s, want the 3:1 grey", border)
		}
		accent, _ := tenants.ParseHex(ink.Color)
		if bg := eval[string](u, `getComputedStyle(document.querySelector("button.primary")).backgroundColor`); bg != fmt.Sprintf("rgb(%d, %d, %d)", accent.R, accent.G, accent.B) {
			t.Errorf("button colour %s, want the corrected accent %s", bg, ink.Color)
		}
		u.do("type and reveal",
			chromedp.SendKeys(chromedp.CSS(`input[autocomplete="username"]`), f.email),
			chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), f.password),
			chromedp.Click(chromedp.CSS(`button[data-reveal]`)))
		if typ := eval[string](u, `document.getElementById("password").type`); typ != "text" {
			t.Errorf("after show password the field is %s", typ)
		}
		u.do("focus", chromedp.Focus(chromedp.ID("email")))
		u.screenshot("login-" + s.name)
		u.do("sign in", chromedp.Click(chromedp.CSS(`button.primary[type=submit]`)))
		u.waitPage("Allow access", "Use another account", f.email)
		u.fits("the consent page", s)
		u.screenshot("consent-" + s.name)
		u.do("not you", chromedp.Click(chromedp.ID("switch-account")))
		u.waitFor("the login page again", `location.pathname === "/login" && !!document.querySelector('input[autocomplete="current-password"]')`)
		u.screenshot("consent-switched-" + s.name)
	}

	// The account page, wide on a desktop, and its one confirmation.
	for _, s := range screens {
		u.do(s.name, chromedp.EmulateViewport(s.width, s.height))
		u.do("account", chromedp.Navigate(f.issuer+"/account"))
		u.waitFor("the account or login page", `document.readyState === "complete" && (location.pathname === "/login" || location.pathname === "/account")`)
		if eval[bool](u, `location.pathname === "/login"`) {
			u.signInAtLoginPage(f.email, f.password)
		}
		u.waitPage("My account", "Applications with access")
		if w := eval[int64](u, `document.querySelector("main.card").getBoundingClientRect().width`); s.name == "desktop" && w < 700 {
			t.Errorf("the account card is %dpx wide on a desktop", w)
		}
		u.fits("the account page", s)
		u.screenshot("account-" + s.name)
		f.staleSessions(t)
		u.do("account", chromedp.Navigate(f.issuer+"/account"))
		u.waitPage("My account")
		u.do("change address",
			chromedp.Click(chromedp.CSS(`details.recovery summary`)),
			chromedp.SendKeys(chromedp.ID("new_email"), "ann.next@acme.test"),
			chromedp.Submit(chromedp.ID("new_email")))
		u.waitPage("Confirm it", "Confirm and continue")
		u.fits("the confirmation page", s)
		u.screenshot("account-confirm-" + s.name)
	}
	t.Logf("screenshots in %s", b.shots)
}
