package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserDeviceGrant runs the device grant with a real browser: a CLI
// asks through x/oauth2 and polls with DeviceAccessToken while the user,
// in headless Chromium, types the code (lower case, no dash) on the
// verification URI, signs in, reads on the consent page that a device
// asked, and allows; the CLI gets tokens. A second request, opened by its
// verification_uri_complete in the same (now signed-in) browser, is
// denied, and the CLI hears access_denied.
func TestBrowserDeviceGrant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		dc := f.offerDevice(t)
		ctx := newBrowser(t)
		shots := screenshotDir(t) + "/device-" + t.Name()[strings.LastIndex(t.Name(), "/")+1:] + "-"
		code, submit := chromedp.ID("user_code"), chromedp.CSS(`button[type=submit]`)
		user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
		allow, deny, result := chromedp.CSS(`button[value=allow]`), chromedp.CSS(`button[value=deny]`), chromedp.ID("device-result")

		type answer struct {
			tok *oauth2.Token
			err error
		}
		poll := func(da *oauth2.DeviceAuthResponse) <-chan answer {
			ch := make(chan answer, 1)
			go func() {
				pctx, cancel := context.WithTimeout(e.ctx(), 60*time.Second)
				defer cancel()
				tok, err := f.deviceConfig(dc.cli, "openid", "email").DeviceAccessToken(pctx, da)
				ch <- answer{tok, err}
			}()
			return ch
		}

		da := f.deviceAuth(t, dc.cli, "openid", "email")
		got := poll(da)
		typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))
		run(t, ctx, "open the verification URI", chromedp.Navigate(da.VerificationURI), chromedp.WaitVisible(code))
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"code")
		run(t, ctx, "enter the code", chromedp.SendKeys(code, typed), chromedp.Click(submit), chromedp.WaitVisible(user))
		run(t, ctx, "sign in",
			chromedp.SendKeys(user, f.email),
			chromedp.SendKeys(pass, f.password),
			chromedp.Click(submit),
			chromedp.WaitVisible(allow),
		)
		consent := value(t, ctx, "consent text", chromedp.Text(chromedp.CSS("main")))
		for _, want := range []string{"Acme CLI", "A device asked", da.UserCode, "See your email address"} {
			if !strings.Contains(consent, want) {
				t.Errorf("consent page lacks %q:\n%s", want, consent)
			}
		}
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"consent")
		run(t, ctx, "allow", chromedp.Click(allow), chromedp.WaitVisible(result))
		if h := value(t, ctx, "result", chromedp.Text(result)); h != "Device connected" {
			t.Fatalf("after allow the page says %q", h)
		}
		a := <-got
		if a.err != nil {
			t.Fatalf("device access token: %v", a.err)
		}
		octx := oidc.ClientContext(e.ctx(), e.httpClient(true))
		prov, err := oidc.NewProvider(octx, f.issuer)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := a.tok.Extra("id_token").(string)
		idt, err := prov.Verifier(&oidc.Config{ClientID: dc.cli.ClientID}).Verify(octx, raw)
		var claims struct {
			Email string `json:"email"`
		}
		if err != nil || idt.Claims(&claims) != nil || claims.Email != f.email {
			t.Fatalf("ID token: %v, email %q", err, claims.Email)
		}

		// verification_uri_complete fills the code in; the signed-in user
		// goes straight to the consent page, and denies.
		da = f.deviceAuth(t, dc.cli, "openid", "email")
		got = poll(da)
		run(t, ctx, "open verification_uri_complete", chromedp.Navigate(da.VerificationURIComplete), chromedp.WaitVisible(code))
		if v := value(t, ctx, "filled code", chromedp.Value(code)); v != da.UserCode {
			t.Errorf("the code field holds %q, want %q", v, da.UserCode)
		}
		run(t, ctx, "continue", chromedp.Click(submit), chromedp.WaitVisible(deny))
		run(t, ctx, "deny", chromedp.Click(deny), chromedp.WaitVisible(result))
		if h := value(t, ctx, "result", chromedp.Text(result)); h != "Access denied" {
			t.Fatalf("after deny the page says %q", h)
		}
		if a := <-got; !isRetrieveError(a.err, "access_denied") {
			t.Fatalf("after deny the CLI got %v, %v", a.tok, a.err)
		}
	})
}
