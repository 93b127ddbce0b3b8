package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleBrowserConnections adds connections in the console in
// headless Chromium — a Google one, fixing a domain the console refused,
// and a SAML one from pasted metadata — and finds "Continue with <name>" on
// the tenant's login page; deleting one (after a confirmation) takes its
// button away. Screenshots go to the screenshot folder.
func TestConsoleBrowserConnections(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	e.createAdmin(t, "ops@example.test", "")
	md := string(samltest.NewIdP(t).Metadata())
	b := newConsoleBrowser(t, true)
	acme := e.base + "/admin/t/acme"
	googleSecret := "GOCSPX-" + secret.Token(20)

	b.do("open the console", chromedp.Navigate(e.base+"/admin"))
	b.signInAtLoginPage("ops@example.test", testPassword)
	b.waitPage("Tenants", "Acme Inc")
	b.open(acme, "Acme Inc")
	b.click(`nav.side a[href="/admin/t/acme/connections"]`, "Connections", "No connections yet")
	b.click(`.heading a[href="/admin/t/acme/connections/new"]`, "New connection", "Google", "GitHub", "Microsoft", "OpenID Connect", "SAML 2.0")
	b.screenshot("connections-new")

	// Google: a bad domain is refused next to its field, what was typed
	// is kept (the secret is typed again), then it is saved and the page
	// says which callback URL to register at Google.
	b.click(`#kind-google`, "New Google connection", "Google Cloud console")
	b.fill("#f-name", "Acme Workspace", "#f-client_id", "1234.apps.googleusercontent.com", "#f-client_secret", googleSecret,
		"#f-domains", "acme.test\nnot a domain")
	b.click(`#new-connection button[type=submit]`, "New Google connection", "is not a domain name")
	if got := b.value("#f-domains"); got != "acme.test\nnot a domain" {
		t.Fatalf("domains after the error: %q", got)
	}
	if got := b.value("#f-name"); got != "Acme Workspace" {
		t.Fatalf("name after the error: %q", got)
	}
	if !eval[bool](b, `document.querySelector("#f-domains").getAttribute("aria-invalid") === "true" && !!document.querySelector("#domains-error")`) {
		t.Fatal("the error is not tied to the domains field")
	}
	b.screenshot("connection-new-error")
	b.fill("#f-domains", "acme.test", "#f-client_secret", googleSecret)
	b.click(`#new-connection button[type=submit]`, "Acme Workspace", "Connection created.", "Register this callback URL at Google")
	callback := b.text("#next-callback-url")
	if !strings.HasPrefix(callback, f.issuer+"/federation/") || !strings.HasSuffix(callback, "/callback") {
		t.Fatalf("callback URL to register: %q", callback)
	}
	if html := eval[string](b, "document.documentElement.outerHTML"); strings.Contains(html, googleSecret) {
		t.Fatal("the connection's page shows its secret")
	}
	b.screenshot("connection-google")

	// SAML from pasted metadata: our service provider for the IdP's admin.
	b.open(acme+"/connections/new/saml", "New SAML 2.0 connection")
	if eval[bool](b, `document.querySelector('input[name="allow_idp_initiated"]').checked`) {
		t.Fatal("IdP-initiated login is on by default")
	}
	b.fill("#f-name", "Corp SSO", "#f-metadata_xml", md, "#f-attr_email", "mail", "#f-domains", "corp.test")
	b.click(`#new-connection button[type=submit]`, "Corp SSO", "Service provider details", "ACS URL")
	if entity := b.text("#entity-id"); !strings.HasPrefix(entity, f.issuer+"/federation/") || b.text("#acs-url") != entity+"/acs" || b.text("#sp-metadata-url") != entity+"/metadata" {
		t.Fatalf("service provider: %q %q %q", entity, b.text("#acs-url"), b.text("#sp-metadata-url"))
	}
	b.screenshot("connection-saml")
	b.open(acme+"/connections", "Connections", "Acme Workspace", "Corp SSO", "SAML 2.0", "corp.test")
	b.screenshot("connections")

	// The tenant's login page.
	rp := startRelyingParty(t, e, f)
	buttons := `Array.from(document.querySelectorAll("form.federated button")).map(b => b.innerText.trim()).join("|")`
	b.do("open the application", chromedp.Navigate(rp.url+"/login"))
	b.waitPage("Acme Inc", "Continue with Acme Workspace")
	if got := eval[string](b, buttons); got != "Continue with Acme Workspace|Continue with Corp SSO" {
		t.Fatalf("login page buttons: %q", got)
	}
	b.screenshot("login-connections")

	// Delete, after a confirmation: its button goes.
	b.open(acme+"/connections", "Connections", "Corp SSO")
	b.do("open Corp SSO", chromedp.Click(chromedp.CSS(`#connections tbody tr:nth-child(2) a`)))
	b.waitPage("Corp SSO", "Delete connection")
	b.click(`#delete-connection button`, "Connections", "Connection deleted")
	if d := b.lastDialog(); !strings.Contains(d, "Delete the connection Corp SSO?") {
		t.Fatalf("confirmation asked %q", d)
	}
	b.do("open the application again", chromedp.Navigate(rp.url+"/login"))
	b.waitPage("Acme Inc", "Continue with Acme Workspace")
	if got := eval[string](b, buttons); got != "Continue with Acme Workspace" {
		t.Fatalf("login page buttons after the delete: %q", got)
	}
}
