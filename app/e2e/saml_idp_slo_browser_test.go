package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestSAMLIdPSingleLogoutBrowser: in headless Chromium, a user signs in to
// two crewjam SPs through Gatehouse, one taking logout messages by
// HTTP-Redirect and one by HTTP-POST; signing out at Gatehouse makes the
// signed-out page's frames deliver a LogoutRequest to each (the page's CSP
// lets it frame exactly those SPs; the POST one is a form in a srcdoc
// frame that the page's own script submits).
func TestSAMLIdPSingleLogoutBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
	setup := e.browser()
	type hit struct{ sp, method string }
	hits := make(chan hit, 8)
	sps := map[string]*spServer{}
	for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		sp := startSP(t, setup, f)
		sp.withSLO(t, binding)
		name := binding[strings.LastIndex(binding, ":")+1:]
		sp.slo = func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			if r.Form.Get("SAMLRequest") != "" {
				hits <- hit{name, r.Method}
			}
			_, _ = w.Write([]byte("logged out"))
		}
		sps[name] = sp
		op.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/saml-apps", map[string]any{"name": "App " + name, "metadata_xml": sp.metadata})
	}
	ctx := newBrowser(t)
	user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
	start, _ := sps["HTTP-Redirect"].redirectRequest(t, "", nil)
	run(t, ctx, "sign in to the first SP",
		chromedp.Navigate(start), chromedp.WaitVisible(user),
		chromedp.SendKeys(user, f.email), chromedp.SendKeys(pass, f.password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	waitText := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			if err == nil && strings.Contains(body, want) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s: %q never showed", what, want)
	}
	waitText("the first SP accepted the assertion", "name_id")
	start, _ = sps["HTTP-POST"].redirectRequest(t, "", nil)
	run(t, ctx, "sign in to the second SP", chromedp.Navigate(start))
	waitText("the second SP accepted the assertion", "name_id")

	run(t, ctx, "sign out at Gatehouse", chromedp.Navigate(f.issuer+"/logout"), chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitTitle(t, ctx, "Signed out")
	got := map[string]string{}
	timeout := time.After(15 * time.Second)
	for len(got) < 2 {
		select {
		case h := <-hits:
			got[h.sp] = h.method
		case <-timeout:
			t.Fatalf("logout messages delivered: %v, want both SPs", got)
		}
	}
	if got["HTTP-Redirect"] != http.MethodGet || got["HTTP-POST"] != http.MethodPost {
		t.Fatalf("logout messages delivered: %v", got)
	}
	screenshot(t, ctx, screenshotDir(t), "saml-idp-single-logout")
}
