package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestFederationSAMLBrowserJourney signs a user in to a web application in
// headless Chromium through a SAML IdP: "Continue with Corp SSO" on
// Gatehouse's login page, the IdP's login form (HTTP-Redirect binding),
// the IdP's auto-posted answer to the ACS, consent, and back to the
// application signed in. Then, signed out, the same through an IdP that
// only takes the HTTP-POST binding (Gatehouse's auto-posted AuthnRequest).
// One database: the pages are the point here.
func TestFederationSAMLBrowserJourney(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	s := newSAMLEnv(t, e, "acme")
	postIdP := samltest.NewIdP(t)
	kim := samltest.User{Name: "kim", Password: "kim's IdP password", Email: "kim@partner.test", CommonName: "Kim Lee"}
	postIdP.AddUser(t, kim)
	name, md, trust := "Partner SSO", string(postIdP.Metadata(samltest.PostOnly)), true
	postConn, err := e.srv.Admin().CreateConnection(s.f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionSAML, Provisioning: provisionCreate(), Name: &name,
		MetadataXML: &md, TrustEmail: &trust})
	if err != nil {
		t.Fatal(err)
	}
	postIdP.AddServiceProvider(t, "gatehouse", []byte(s.browser(t).get(postConn.MetadataURL).body))

	rp := startRelyingParty(t, e, s.f)
	ctx := newBrowser(t)
	shots := screenshotDir(t)
	button := func(conn string) chromedp.CSS {
		return chromedp.CSS(`form.federated:has(input[name=connection][value="` + conn + `"]) button`)
	}
	corp, partner := button(s.conn.ID), button(postConn.ID)
	idpUser, idpPass, idpSubmit := chromedp.ID("idp-user"), chromedp.ID("idp-password"), chromedp.ID("idp-submit")
	allow := chromedp.CSS(`button[value=allow]`)
	hello := chromedp.ID("hello")

	run(t, ctx, "open the application", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(corp))
	buttons := value(t, ctx, "buttons", chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"Continue with Corp SSO", "Continue with Partner SSO"} {
		if !strings.Contains(buttons, want) {
			t.Fatalf("login page lacks %q:\n%s", want, buttons)
		}
	}
	if got := value(t, ctx, "Corp SSO's button", chromedp.Text(corp)); got != "Continue with Corp SSO" {
		t.Fatalf("Corp SSO's button says %q", got)
	}
	screenshot(t, ctx, shots, "federation-saml-login")
	run(t, ctx, "continue with Corp SSO", chromedp.Click(corp), chromedp.WaitVisible(idpUser))
	waitTitle(t, ctx, "Test IdP sign-in")
	run(t, ctx, "sign in at the IdP",
		chromedp.SendKeys(idpUser, samlUser.Name),
		chromedp.SendKeys(idpPass, samlUser.Password),
		chromedp.Click(idpSubmit),
		chromedp.WaitVisible(allow),
	)
	waitTitle(t, ctx, "Acme Inc")
	screenshot(t, ctx, shots, "federation-saml-consent")
	run(t, ctx, "allow", chromedp.Click(allow), chromedp.WaitVisible(hello))
	if got := value(t, ctx, "greeting", chromedp.Text(hello)); got != "Signed in as "+samlUser.Email {
		t.Fatalf("relying party says %q", got)
	}

	// Signed out; then the IdP that takes only HTTP-POST.
	run(t, ctx, "sign out", chromedp.Navigate(s.f.issuer+"/logout"), chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitTitle(t, ctx, "Signed out")
	run(t, ctx, "open the application again", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(partner))
	run(t, ctx, "continue with Partner SSO", chromedp.Click(partner), chromedp.WaitVisible(idpUser))
	if loc := value(t, ctx, "IdP location", chromedp.Location()); !strings.HasPrefix(loc, postIdP.URL+"/sso") {
		t.Fatalf("at %s, not the POST-only IdP", loc)
	}
	run(t, ctx, "sign in at the POST-only IdP",
		chromedp.SendKeys(idpUser, kim.Name),
		chromedp.SendKeys(idpPass, kim.Password),
		chromedp.Click(idpSubmit),
		chromedp.WaitVisible(allow),
	)
	run(t, ctx, "allow", chromedp.Click(allow), chromedp.WaitVisible(hello))
	if got := value(t, ctx, "greeting", chromedp.Text(hello)); got != "Signed in as "+kim.Email {
		t.Fatalf("relying party says %q", got)
	}
}
