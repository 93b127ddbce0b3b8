package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/admin"
)

// speaking makes the browser of ctx send Accept-Language: langs.
func speaking(t *testing.T, ctx context.Context, langs string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable the network domain: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": langs}}); err != nil {
		t.Fatalf("set Accept-Language: %v", err)
	}
}

// pageLang is the lang attribute of the page's <html>.
func pageLang(t *testing.T, ctx context.Context) string {
	t.Helper()
	return value(t, ctx, "html lang", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
}

// TestBrowserLanguages: a browser that asks for German sees the login and
// reset pages in German, with <html lang="de">, and gets the reset email in
// German; an application's ui_locales=ja wins over the browser's language;
// the switcher on the login page overrules ui_locales and is remembered by
// the browser, and after sign-in by the account.
func TestBrowserLanguages(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		replyTo := "support@acme.test"
		if _, err := e.srv.Admin().UpdateTenant(f.adminCtx(), admin.TenantSettings{EmailReplyTo: &replyTo}); err != nil {
			t.Fatal(err)
		}
		rp := startRelyingParty(t, e, f)
		ctx := newBrowser(t)
		shots := screenshotDir(t) + "/" + t.Name()[strings.LastIndex(t.Name(), "/")+1:] + "-"
		speaking(t, ctx, "de-DE,de;q=0.9,en;q=0.5")
		user := chromedp.CSS(`input[autocomplete="username"]`)

		run(t, ctx, "open the application", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(user))
		if got := pageLang(t, ctx); got != "de" {
			t.Errorf("login page lang = %q, want de", got)
		}
		waitTitle(t, ctx, "Anmelden")
		main := value(t, ctx, "login text", chromedp.Text(chromedp.CSS("main")))
		for _, want := range []string{"Anmelden", "um mit Acme Shop fortzufahren", "E-Mail", "Passwort", "Weiter", "Passwort vergessen?"} {
			if !strings.Contains(main, want) {
				t.Errorf("German login page lacks %q:\n%s", want, main)
			}
		}
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"login-de")

		run(t, ctx, "forgot the password", chromedp.Click(chromedp.CSS(`a[href^="/reset"]`)), chromedp.WaitVisible(user))
		waitTitle(t, ctx, "Passwort zurücksetzen")
		if got := pageLang(t, ctx); got != "de" {
			t.Errorf("reset page lang = %q, want de", got)
		}
		run(t, ctx, "ask for a reset link",
			chromedp.SendKeys(user, f.email),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		)
		waitTitle(t, ctx, "Sehen Sie in Ihr Postfach")
		msg := smtp.next(f.email)
		if msg.Subject != "Setzen Sie Ihr Passwort zurück" {
			t.Errorf("reset email subject %q", msg.Subject)
		}
		for _, want := range []string{"das Passwort Ihres Kontos bei Acme Inc zurückzusetzen", "Neues Passwort wählen", "30 Minuten"} {
			if !strings.Contains(msg.Text, want) || !strings.Contains(msg.HTML, want) {
				t.Errorf("German reset email lacks %q:\n%s\n%s", want, msg.Text, msg.HTML)
			}
		}
		if got := msg.Header.Get("Content-Language"); got != "de" {
			t.Errorf("reset email Content-Language %q", got)
		}
		if got := msg.Header.Get("Reply-To"); got != "<support@acme.test>" {
			t.Errorf("reset email Reply-To %q", got)
		}
		if !strings.Contains(msg.HTML, `<html lang="de">`) {
			t.Errorf("reset email's HTML is not marked German:\n%s", msg.HTML)
		}
		link := msg.link(t, "/reset/confirm")

		// The application asks for Japanese: it wins over the browser's
		// German, on the login page and the pages after it.
		_, challenge := pkce()
		run(t, ctx, "open the application in Japanese",
			chromedp.Navigate(f.authorizeURL(f.web.ClientID, url.Values{"ui_locales": {"ja de"}, "code_challenge": {challenge},
				"code_challenge_method": {"S256"}})), chromedp.WaitVisible(user))
		if got := pageLang(t, ctx); got != "ja" {
			t.Errorf("login page with ui_locales=ja: lang = %q", got)
		}
		waitTitle(t, ctx, "ログイン")
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"login-ja")
		loginJA := value(t, ctx, "login page address", chromedp.Location())
		run(t, ctx, "the reset page of the request", chromedp.Click(chromedp.CSS(`a[href^="/reset"]`)), chromedp.WaitVisible(user))
		if got := pageLang(t, ctx); got != "ja" {
			t.Errorf("reset page of a ui_locales=ja request: lang = %q", got)
		}
		run(t, ctx, "back to the login page", chromedp.Navigate(loginJA), chromedp.WaitVisible(user))
		if got := pageLang(t, ctx); got != "ja" {
			t.Errorf("login page with ui_locales=ja, again: lang = %q", got)
		}

		// The switcher: the person picks French; it overrules the
		// application's hint, and the browser keeps it.
		run(t, ctx, "pick French", chromedp.Click(chromedp.CSS(`nav.langs a[lang="fr"]`)), chromedp.WaitVisible(user))
		if got := pageLang(t, ctx); got != "fr" {
			t.Errorf("after picking French: lang = %q", got)
		}
		waitTitle(t, ctx, "Se connecter")
		run(t, ctx, "sign in",
			chromedp.SendKeys(user, f.email),
			chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), f.password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)),
		)
		if got := pageLang(t, ctx); got != "fr" {
			t.Errorf("consent after picking French: lang = %q", got)
		}
		consent := value(t, ctx, "consent text", chromedp.Text(chromedp.CSS("main")))
		for _, want := range []string{"web souhaite accéder à votre compte", "Voir votre adresse e-mail", "Autoriser"} {
			if !strings.Contains(consent, want) {
				t.Errorf("French consent page lacks %q:\n%s", want, consent)
			}
		}
		if u := f.user(t, f.email); u.Locale != "fr" {
			t.Errorf("the account's language after signing in with French picked: %q", u.Locale)
		}
		// The reset link, opened in this browser, is in French now.
		run(t, ctx, "open the reset link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`input[autocomplete="new-password"]`)))
		if got := pageLang(t, ctx); got != "fr" {
			t.Errorf("reset link page: lang = %q", got)
		}
	})
}

// TestDiscoveryLanguages: discovery advertises the languages of the pages.
func TestDiscoveryLanguages(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		resp, err := e.httpClient(false).Get(f.issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct {
			UILocales []string `json:"ui_locales_supported"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("discovery: %d %v", resp.StatusCode, err)
		}
		for _, want := range []string{"en", "de", "fr", "es", "pt-BR", "ja"} {
			if !slices.Contains(d.UILocales, want) {
				t.Errorf("ui_locales_supported %v lacks %s", d.UILocales, want)
			}
		}
	})
}

// TestBrowserTenantConsentWording: a tenant's own consent wording in
// German (set through the management service, as the API does) is what a
// German browser's consent page says, with the application's name filled
// in; the other words stay the catalog's.
func TestBrowserTenantConsentWording(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		rp := startRelyingParty(t, e, f)
		if _, err := e.srv.Admin().SetString(f.adminCtx(), "de", "consent.heading",
			"{{.App}} möchte Ihr Acme-Konto nutzen – gemäß unserer Datenschutzerklärung"); err != nil {
			t.Fatal(err)
		}
		ctx := newBrowser(t)
		speaking(t, ctx, "de")
		user := chromedp.CSS(`input[autocomplete="username"]`)
		run(t, ctx, "sign in",
			chromedp.Navigate(rp.url+"/login"),
			chromedp.WaitVisible(user),
			chromedp.SendKeys(user, f.email),
			chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), f.password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)),
		)
		heading := value(t, ctx, "consent heading", chromedp.Text(chromedp.CSS("h1")))
		if heading != "Acme Shop möchte Ihr Acme-Konto nutzen – gemäß unserer Datenschutzerklärung" {
			t.Errorf("consent heading %q", heading)
		}
		consent := value(t, ctx, "consent text", chromedp.Text(chromedp.CSS("main")))
		for _, want := range []string{"Ihre E-Mail-Adresse sehen", "Erlauben", "Abbrechen"} {
			if !strings.Contains(consent, want) {
				t.Errorf("consent page lacks %q:\n%s", want, consent)
			}
		}
		if got := value(t, ctx, "strong", chromedp.Text(chromedp.CSS("h1 strong"))); got != "Acme Shop" {
			t.Errorf("the application's name is not emphasised: %q", got)
		}
		run(t, ctx, "allow", chromedp.Click(chromedp.CSS(`button[value=allow]`)), chromedp.WaitVisible(chromedp.ID("hello")))
	})
}
