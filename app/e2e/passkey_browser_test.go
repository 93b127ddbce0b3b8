package e2e

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestPasskeyBrowser registers a passkey in headless Chromium with a
// virtual authenticator (the DevTools WebAuthn domain) when the tenant
// requires MFA, signs out, and signs in again with the passkey alone;
// another tenant's page cannot use it. One database: the HTTP tests run
// the ceremonies on every database.
func TestPasskeyBrowser(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	f.setMFAPolicy(t, tenants.MFARequired)
	rp := startClaimsRP(t, e, f)
	ctx := newBrowser(t)
	shots := screenshotDir(t)
	shot := func(name string) { screenshot(t, ctx, shots, "TestPasskeyBrowser-"+name) }

	yes := true
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(bool)}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	auth, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: yes, HasUserVerification: yes, IsUserVerified: yes, AutomaticPresenceSimulation: yes,
	}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}

	user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
	allow, hello := chromedp.CSS(`button[value=allow]`), chromedp.ID("hello")

	// Password, then the enrolment the tenant requires: a passkey.
	run(t, ctx, "password",
		chromedp.Navigate(rp.url+"/login"),
		chromedp.WaitVisible(user),
		chromedp.SendKeys(user, f.email),
		chromedp.SendKeys(pass, f.password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#webauthn-register button`)),
	)
	shot("enrol")
	run(t, ctx, "register a passkey", chromedp.Click(chromedp.CSS(`#webauthn-register button`)))
	waitTitle(t, ctx, "Recovery codes")
	shot("recovery-codes")
	codes := value(t, ctx, "recovery codes", chromedp.Text(chromedp.CSS("ul.codes")))
	if n := strings.Count(codes, "-"); n != 10 {
		t.Fatalf("recovery codes page shows %d codes:\n%s", n, codes)
	}
	run(t, ctx, "continue", chromedp.Click(chromedp.CSS(`a.button.primary`)), chromedp.WaitVisible(allow))
	run(t, ctx, "consent", chromedp.Click(allow), chromedp.WaitVisible(hello))
	rp.want(t, ctx, f.email, "pwd hwk mfa", acrPhishing)

	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("virtual authenticator credentials: %v %v", creds, err)
	}
	if c := creds.Credentials[0]; !c.IsResidentCredential || c.RpID != "acme.localhost" || string(c.UserHandle) != f.userID {
		t.Fatalf("credential: resident %v, rp %q, user handle %q", c.IsResidentCredential, c.RpID, c.UserHandle)
	}

	// Sign out, then in with the passkey only.
	run(t, ctx, "sign out", chromedp.Navigate(f.issuer+"/logout"), chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitTitle(t, ctx, "Signed out")
	run(t, ctx, "login page", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(chromedp.ID("webauthn-button")))
	shot("login-passkey")
	run(t, ctx, "passkey", chromedp.Click(chromedp.ID("webauthn-button")), chromedp.WaitVisible(hello))
	rp.want(t, ctx, f.email, "hwk user mfa", acrPhishing)

	// The account page adds a second passkey, after the password (the
	// sign-in is minutes old), on another authenticator (the first one
	// holds a credential the registration excludes).
	f.staleSessions(t)
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: auth.AuthenticatorID}); err != nil {
		t.Fatalf("WebAuthn.removeVirtualAuthenticator: %v", err)
	}
	auth, err = chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportUsb,
		HasResidentKey: yes, HasUserVerification: yes, IsUserVerified: yes, AutomaticPresenceSimulation: yes,
	}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	run(t, ctx, "account page", chromedp.Navigate(f.issuer+"/account"), chromedp.WaitVisible(chromedp.CSS(`#webauthn-register button`)))
	run(t, ctx, "add a passkey",
		chromedp.SendKeys(chromedp.ID("passkey_name"), "Backup key"),
		chromedp.Click(chromedp.CSS(`#webauthn-register button`)),
		// The session signed in minutes ago: one confirmation step, which
		// carries the new credential.
		chromedp.WaitVisible(chromedp.CSS(`#confirm-change #confirm`)))
	shot("account-passkey-confirm")
	run(t, ctx, "confirm it is you",
		chromedp.SendKeys(chromedp.CSS(`#confirm-change #confirm`), f.password),
		chromedp.Click(chromedp.CSS(`#confirm-change button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)))
	shot("account-passkey-added")
	if notice := value(t, ctx, "notice", chromedp.Text(chromedp.CSS(`p.notice`))); !strings.Contains(notice, "The passkey was added") {
		t.Fatalf("account page after adding a passkey: %q", notice)
	}
	creds, err = chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("second authenticator's credentials after the account page: %v %v", creds, err)
	}
	if fs, err := e.store.ListFactors(f.tctx(), f.userID); err != nil || len(fs) < 2 || fs[len(fs)-1].Name != "Backup key" {
		t.Fatalf("factors after the account page: %+v %v", fs, err)
	}

	// Another tenant: the browser holds no passkey for its RP id, and the
	// page says so; nothing signs in.
	g := e.fixture("globex")
	grp := startClaimsRP(t, e, g)
	run(t, ctx, "globex login page", chromedp.Navigate(grp.url+"/login"), chromedp.WaitVisible(chromedp.ID("webauthn-button")))
	run(t, ctx, "acme's passkey at globex", chromedp.Click(chromedp.ID("webauthn-button")), chromedp.WaitVisible(chromedp.CSS(".webauthn-alert")))
	if title := value(t, ctx, "title", chromedp.Title()); !strings.Contains(title, "Sign in") {
		t.Fatalf("globex page after the refused passkey: %q", title)
	}
	if evs := g.audit("login.succeeded"); len(evs) != 0 {
		t.Fatalf("a login at globex: %+v", evs)
	}
}

// claimsRP is a web application that signs users in with Gatehouse and
// shows the ID token's email, amr and acr.
type claimsRP struct{ url string }

func startClaimsRP(t *testing.T, e *env, f *fixture) *claimsRP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := &claimsRP{url: "http://" + ln.Addr().String()}
	c, err := e.srv.Admin().CreateClient(f.adminCtx(), admin.CreateClientInput{Name: "Claims", RedirectURIs: []string{rp.url + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: rp.url + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: f.issuer + "/authorize", TokenURL: f.issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "email"}}
	verifier := oauth2.GenerateVerifier()
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cfg.AuthCodeURL("rp-state", oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	})
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != "rp-state" || q.Get("iss") != f.issuer {
			http.Error(w, "bad state or iss: "+q.Encode(), http.StatusBadRequest)
			return
		}
		ctx := oidc.ClientContext(e.ctx(), e.httpClient(true))
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
			return
		}
		p, err := oidc.NewProvider(ctx, f.issuer)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		idt, err := p.Verifier(&oidc.Config{ClientID: c.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			http.Error(w, fmt.Sprintf("id token: %v", err), http.StatusBadGateway)
			return
		}
		var claims struct {
			Email string   `json:"email"`
			AMR   []string `json:"amr"`
			ACR   string   `json:"acr"`
		}
		_ = idt.Claims(&claims)
		fmt.Fprintf(w, "<!doctype html><title>Claims</title><p id=hello>Signed in as %s</p><p id=amr>%s</p><p id=acr>%s</p>",
			html.EscapeString(claims.Email), html.EscapeString(strings.Join(claims.AMR, " ")), html.EscapeString(claims.ACR))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rp
}

// want checks what the relying party's page shows.
func (rp *claimsRP) want(t *testing.T, ctx context.Context, email, amr, acr string) {
	t.Helper()
	got := []string{
		value(t, ctx, "greeting", chromedp.Text(chromedp.ID("hello"))),
		value(t, ctx, "amr", chromedp.Text(chromedp.ID("amr"))),
		value(t, ctx, "acr", chromedp.Text(chromedp.ID("acr"))),
	}
	want := []string{"Signed in as " + email, amr, acr}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("relying party shows %q, want %q", got, want)
		}
	}
}
