package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
)

// chromium returns the path of a Chromium to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GATEHOUSE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser tests skipped: no Chromium found (apt-get install -y chromium, or set GATEHOUSE_CHROMIUM); .ci/run installs it")
	return ""
}

// newBrowser starts a headless Chromium and returns a context driving a tab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshotDir is where browser tests leave pictures of the pages for
// people to look at (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "screenshots")
				break
			}
		}
	}
	if dir == "" {
		dir = t.TempDir()
	}
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// screenshot saves the whole page as dir/name.png. Right after a
// navigation the new document may not be laid out yet (Chromium refuses a
// zero-width capture): it tries again for a moment.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	var buf []byte
	var err error
	for range 20 {
		if buf, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil || !strings.Contains(err.Error(), "0 width") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs steps and fails the test on error.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitTitle waits until the page title contains want.
func waitTitle(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err == nil && strings.Contains(title, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("page title %q never contained %q (%v)", title, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// value runs an action and returns its value, failing the test on error.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// relyingParty is a small web application that signs its users in with
// Gatehouse through golang.org/x/oauth2 and go-oidc.
type relyingParty struct {
	url string
}

func startRelyingParty(t *testing.T, e *env, f *fixture) *relyingParty {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := &relyingParty{url: "http://" + ln.Addr().String()}
	tctx := f.adminCtx()
	c, err := e.srv.Admin().CreateClient(tctx, admin.CreateClientInput{Name: "Acme Shop", RedirectURIs: []string{rp.url + "/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: rp.url + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: f.issuer + "/authorize", TokenURL: f.issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "profile", "email"}}
	verifier := oauth2.GenerateVerifier()
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cfg.AuthCodeURL("rp-state", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "rp-nonce")), http.StatusFound)
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
		if err != nil || idt.Nonce != "rp-nonce" {
			http.Error(w, fmt.Sprintf("id token: %v", err), http.StatusBadGateway)
			return
		}
		var claims struct {
			Email string `json:"email"`
		}
		_ = idt.Claims(&claims)
		fmt.Fprintf(w, "<!doctype html><title>Acme Shop</title><p id=hello>Signed in as %s</p>", claims.Email)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rp
}

// TestBrowserLogin signs a user in to a web application through Gatehouse's
// login and consent pages in headless Chromium.
func TestBrowserLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		rp := startRelyingParty(t, e, f)
		ctx := newBrowser(t)
		shots := screenshotDir(t) + "/" + t.Name()[strings.LastIndex(t.Name(), "/")+1:] + "-"
		user, pass := chromedp.CSS(`input[autocomplete="username"]`), chromedp.CSS(`input[autocomplete="current-password"]`)
		allow := chromedp.CSS(`button[value=allow]`)
		hello := chromedp.ID("hello")

		run(t, ctx, "open the application", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(user))
		if title := value(t, ctx, "title", chromedp.Title()); !strings.Contains(title, "Acme Inc") {
			t.Errorf("login page title %q does not name the tenant", title)
		}
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"login")
		run(t, ctx, "log in",
			chromedp.SendKeys(user, f.email),
			chromedp.SendKeys(pass, f.password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(allow),
		)
		consent := value(t, ctx, "consent text", chromedp.Text(chromedp.CSS("main")))
		for _, want := range []string{"Acme Shop", "See your email address", "See your name", "Allow"} {
			if !strings.Contains(consent, want) {
				t.Errorf("consent page lacks %q:\n%s", want, consent)
			}
		}
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"consent")
		run(t, ctx, "allow", chromedp.Click(allow), chromedp.WaitVisible(hello))
		if got := value(t, ctx, "greeting", chromedp.Text(hello)); got != "Signed in as "+f.email {
			t.Fatalf("relying party says %q", got)
		}

		// Second visit: the session and the consent are remembered.
		run(t, ctx, "second visit", chromedp.Navigate(rp.url+"/login"), chromedp.WaitVisible(hello))

		// A wrong password on a phone-sized screen shows the error.
		run(t, ctx, "sign out",
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(f.issuer+"/logout"),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		)
		waitTitle(t, ctx, "Signed out")
		run(t, ctx, "phone login",
			chromedp.Navigate(rp.url+"/login"),
			chromedp.WaitVisible(user),
			chromedp.SendKeys(user, f.email),
			chromedp.SendKeys(pass, "not the right password"),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".alert")),
		)
		if got := value(t, ctx, "alert", chromedp.Text(chromedp.CSS(".alert"))); got != "Incorrect email or password." {
			t.Fatalf("alert = %q", got)
		}
		screenshot(t, ctx, filepath.Dir(shots), filepath.Base(shots)+"login-error-phone")
	})
}
