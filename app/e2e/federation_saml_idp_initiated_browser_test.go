package e2e

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// autoPost is an IdP's answer page: a form that posts itself to the ACS.
var autoPost = template.Must(template.New("post").Parse(`<!doctype html>
<html><head><title>Test IdP answer</title></head><body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">{{range $k, $vs := .Fields}}{{range $vs}}
<input type="hidden" name="{{$k}}" value="{{.}}"/>{{end}}{{end}}
</form></body></html>`))

// TestFederationSAMLIDPInitiatedBrowser: in headless Chromium, an IdP's
// page on another site posts an unsolicited answer to the ACS. The
// browser's cookies are SameSite=Lax, so the cross-site POST carries none;
// the cookie the ACS sets binds the answer to this browser on the
// same-site redirect that follows, and the browser ends signed in on the
// tenant's account page, not at the RelayState.
func TestFederationSAMLIDPInitiatedBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	s := newSAMLEnv(t, e, "acme")
	on := true
	if _, err := e.srv.Admin().UpdateConnection(s.f.adminCtx(), s.conn.ID, admin.ConnectionInput{AllowIDPInitiated: &on}); err != nil {
		t.Fatal(err)
	}
	// The IdP's answer (fetched by a Go client logged in there), served
	// from the IdP's site, 127.0.0.1: cross-site to the tenant's host.
	form := s.unsolicited(s.browser(t), s.conn, evilRelayState)
	idpPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = autoPost.Execute(w, form)
	}))
	t.Cleanup(idpPage.Close)

	ctx := newBrowser(t)
	run(t, ctx, "the IdP posts its answer", chromedp.Navigate(idpPage.URL), chromedp.WaitVisible(chromedp.ID("name")))
	if loc := value(t, ctx, "location", chromedp.Location()); loc != s.f.issuer+"/account" {
		t.Fatalf("the login ended at %s", loc)
	}
	if body := value(t, ctx, "account page", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(body, samlUser.Email) {
		t.Fatalf("account page:\n%s", body)
	}
	screenshot(t, ctx, screenshotDir(t), "federation-saml-idp-initiated-account")
}
