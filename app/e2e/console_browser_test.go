package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// consoleBrowser drives a headless Chromium through the console: it accepts
// the console's confirmation dialogs (and remembers what they asked), and
// saves screenshots of the pages when shots is set.
type consoleBrowser struct {
	t     *testing.T
	ctx   context.Context
	shots string // folder, or "" for none

	mu      sync.Mutex
	dialogs []string
}

func newConsoleBrowser(t *testing.T, shots bool, extra ...chromedp.ExecAllocatorOption) *consoleBrowser {
	t.Helper()
	opts := append(append(chromedp.DefaultExecAllocatorOptions[:], extra...),
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
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	cb := &consoleBrowser{t: t, ctx: ctx}
	if shots {
		cb.shots = screenshotDir(t)
	}
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			cb.mu.Lock()
			cb.dialogs = append(cb.dialogs, ev.Message)
			cb.mu.Unlock()
			_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return cb
}

// lastDialog is the message of the last confirmation the page asked for.
func (b *consoleBrowser) lastDialog() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) == 0 {
		return ""
	}
	return b.dialogs[len(b.dialogs)-1]
}

func (b *consoleBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a JavaScript expression in the page.
func eval[T any](b *consoleBrowser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the visible text of the first element matching sel ("" if none).
func (b *consoleBrowser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel))
}

// waitFor waits until the JavaScript expression is true.
func (b *consoleBrowser) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc := eval[string](b, "location.href")
			b.t.Fatalf("waiting for %s (%s) at %s: %v\n%s", what, expr, loc, err, b.text("body"))
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// waitPage waits for a page whose title contains title and whose body
// contains each of texts.
func (b *consoleBrowser) waitPage(title string, texts ...string) {
	b.t.Helper()
	expr := fmt.Sprintf(`document.readyState === "complete" && document.title.includes(%q)`, title)
	for _, s := range texts {
		expr += fmt.Sprintf(` && document.body.innerText.includes(%q)`, s)
	}
	b.waitFor(fmt.Sprintf("page %q with %q", title, texts), expr)
}

// click clicks the element and waits for the page it leads to.
func (b *consoleBrowser) click(sel, title string, texts ...string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	b.waitPage(title, texts...)
}

func (b *consoleBrowser) open(u, title string, texts ...string) {
	b.t.Helper()
	b.do("open "+u, chromedp.Navigate(u))
	b.waitPage(title, texts...)
}

// fill sets form fields (by CSS selector) to values.
func (b *consoleBrowser) fill(fields ...string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	b.do("fill form", steps...)
}

// value is the current value of a form field.
func (b *consoleBrowser) value(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.querySelector(%q).value`, sel))
}

func (b *consoleBrowser) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, "console-"+name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signInAtLoginPage signs in at a tenant's login page.
//
// A page that navigates once more right after it loaded (a redirect's
// last hop) can take the nodes found away ("Could not find node with
// given id"): then the fields are emptied and it is done again.
func (b *consoleBrowser) signInAtLoginPage(email, password string) {
	b.t.Helper()
	for attempt := 1; ; attempt++ {
		b.waitFor("the login page", `document.readyState === "complete" && !!document.querySelector('input[autocomplete="current-password"]')`)
		eval[bool](b, `(() => { for (const e of document.querySelectorAll('input[autocomplete="username"], input[autocomplete="current-password"]')) e.value = ""; return true })()`)
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`input[autocomplete="username"]`), email),
			chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		)
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Could not find node") {
			b.t.Fatalf("sign in: %v", err)
		}
	}
}

// TestConsoleBrowserJourneys runs an operator's first day in the console in
// headless Chromium: setting up the first operator and signing in through
// the OAuth flow, creating a tenant, an API with scopes, an application of
// each kind (the secret shown once), fixing a redirect URI the console
// refused, creating a user, trying an application with a real login,
// revoking the session that made, rotating the signing key; and a tenant
// admin who cannot see or reach another tenant. Screenshots of the main
// pages (SQLite run) go to the screenshot folder.
func TestConsoleBrowserJourneys(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		b := newConsoleBrowser(t, strings.HasSuffix(t.Name(), "/sqlite"))
		const (
			opEmail   = "ops@example.test"
			opPass    = "a long operator passphrase"
			userEmail = "ann@acme.test"
			userPass  = "ann's own long password"
			api       = "https://api.acme.test"
		)
		acme := e.base + "/admin/t/acme"

		// The first operator: the setup link, then sign-in through the
		// system tenant's login page (authorization code + PKCE).
		b.open(e.setupLink(t), "Set up Gatehouse")
		b.screenshot("setup")
		b.do("create the operator",
			chromedp.SendKeys(chromedp.ID("email"), opEmail),
			chromedp.SendKeys(chromedp.ID("name"), "Olga Operator"),
			chromedp.SendKeys(chromedp.ID("password"), opPass),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		)
		b.waitFor("the system tenant's login page", `location.hostname === "admin.localhost"`)
		b.signInAtLoginPage(opEmail, opPass)
		b.waitPage("Tenants · Gatehouse console", "No tenants yet", opEmail, "operator")
		b.screenshot("home-empty")

		// A tenant: a reserved slug is refused next to the field, with
		// what was typed kept; then the right one.
		b.click(`a[href="/admin/tenants/new"]`, "New tenant")
		b.fill("#f-name", "Acme Inc", "#f-slug", "admin")
		b.click(`form.form button[type=submit]`, "New tenant", "is reserved")
		if got := b.value("#f-slug"); got != "admin" {
			t.Fatalf("slug after the error: %q", got)
		}
		if got := b.value("#f-name"); got != "Acme Inc" {
			t.Fatalf("name after the error: %q", got)
		}
		b.screenshot("tenant-new-error")
		b.fill("#f-slug", "acme")
		b.click(`form.form button[type=submit]`, "Acme Inc", "Tenant created.", "http://acme.localhost:"+e.port, "/.well-known/openid-configuration")
		b.screenshot("overview")

		// An API with scopes.
		b.open(acme+"/apis", "APIs", "No APIs yet")
		b.click(`a[href="/admin/t/acme/apis/new"]`, "New API")
		b.fill("#f-name", "Orders API", "#f-audience", api, "#f-scopes", "read:orders = Read your orders\nwrite:orders = Place orders for you")
		b.click(`form.form button[type=submit]`, "Orders API", "API created.", "read:orders", "Read your orders", "Place orders for you")
		b.fill(`#add-scope #f-scope`, "refund:orders", `#add-scope #f-description`, "Refund your orders")
		b.click(`#add-scope button[type=submit]`, "Orders API", "Scope saved.", "Refund your orders")
		apiPage := eval[string](b, "location.href")

		// Applications, one of each kind.
		b.open(acme+"/applications", "Applications", "No applications yet")
		b.screenshot("apps-empty")
		b.click(`a[href="/admin/t/acme/applications/new"]`, "New application", "Single-page application", "Machine-to-machine")
		b.screenshot("app-kinds")
		b.click(`#kind-web`, "New regular web application")
		b.screenshot("app-new")
		b.fill("#f-name", "Acme Shop", "#f-redirect_uris", "http://127.0.0.1:9000/cb", "#f-audience", api)
		b.click(`form.form button[type=submit]`, "client secret", "you will not see it again")
		webSecret, webID := b.text("#client-secret"), b.text("#client-id")
		if len(webSecret) < 40 || webID == "" {
			t.Fatalf("secret page: id %q secret %q", webID, webSecret)
		}
		b.screenshot("app-secret")
		b.click(`a.button.primary`, "Acme Shop", "Regular web application", webID)
		if html := eval[string](b, "document.documentElement.outerHTML"); strings.Contains(html, webSecret) {
			t.Fatal("the application's page shows its secret again")
		}
		// A redirect URI with a fragment is refused next to the field, and
		// the textarea keeps what was typed; then it is fixed.
		typed := "http://127.0.0.1:9000/cb\nhttps://shop.acme.test/cb#done"
		b.fill("#app-settings #f-redirect_uris", typed)
		b.click(`#app-settings button[type=submit]`, "Acme Shop", "must not contain wildcards, fragments or spaces")
		if got := b.value("#f-redirect_uris"); got != typed {
			t.Fatalf("redirect URIs after the error: %q", got)
		}
		if !eval[bool](b, `document.querySelector("#f-redirect_uris").getAttribute("aria-invalid") === "true" && !!document.querySelector("#redirect_uris-error")`) {
			t.Fatal("the error is not tied to the redirect URIs field")
		}
		b.screenshot("app-redirect-error")
		b.fill("#app-settings #f-redirect_uris", "http://127.0.0.1:9000/cb\nhttps://shop.acme.test/cb")
		b.click(`#app-settings button[type=submit]`, "Acme Shop", "Application saved.")
		if got := b.value("#f-redirect_uris"); got != "http://127.0.0.1:9000/cb\nhttps://shop.acme.test/cb" {
			t.Fatalf("saved redirect URIs: %q", got)
		}
		b.screenshot("app")

		for _, app := range []struct{ kind, name, redirect, want string }{
			{"spa", "Acme Dashboard", "http://localhost:5173/callback", "Public client: no secret, PKCE required"},
			{"native", "Acme Mobile", "com.acme.mobile:/callback", "Public client: no secret, PKCE required"},
		} {
			b.open(acme+"/applications/new/"+app.kind, "New ")
			b.fill("#f-name", app.name, "#f-redirect_uris", app.redirect)
			b.click(`form.form button[type=submit]`, app.name, "Application created.", app.want)
			if got := b.value("#f-redirect_uris"); got != app.redirect {
				t.Fatalf("%s redirect URIs: %q", app.kind, got)
			}
			if strings.Contains(b.text("main"), "Client secret") {
				t.Fatalf("%s has a secret section", app.kind)
			}
		}
		b.open(acme+"/applications/new/machine", "New machine-to-machine")
		if eval[bool](b, `!!document.querySelector("#f-redirect_uris")`) {
			t.Fatal("a machine-to-machine application is asked for redirect URIs")
		}
		b.fill("#f-name", "Acme Worker", "#f-audience", api)
		b.click(`form.form button[type=submit]`, "client secret", "you will not see it again")
		workerID := b.text("#client-id")
		b.click(`a.button.primary`, "Acme Worker", "client_credentials", "Rotate secret")
		if eval[bool](b, `!!document.querySelector("#try")`) {
			t.Fatal("a machine-to-machine application offers a login to try")
		}

		// Which applications may request which scopes: the worker loses
		// write:orders.
		b.open(apiPage, "Orders API", "Acme Worker", "Acme Dashboard")
		b.do("uncheck", chromedp.Click(chromedp.CSS(`#api-access tbody tr:has(a[href$="`+workerID+`"]) input[value="write:orders"]`)))
		b.click(`#api-access button[type=submit]`, "Orders API", "Access saved.")
		if eval[bool](b, `document.querySelector('#api-access tbody tr:has(a[href$="`+workerID+`"]) input[value="write:orders"]').checked`) {
			t.Fatal("the worker still has write:orders")
		}
		b.screenshot("api")

		// A user.
		b.open(acme+"/users", "Users", "No users yet")
		b.click(`a[href="/admin/t/acme/users/new"]`, "New user")
		b.fill("#f-email", userEmail, "#f-name", "Ann Example", "#f-password", userPass)
		b.click(`form.form button[type=submit]`, userEmail, "User created.", "No active sessions")

		// Try it: a real login of that user at the tenant's own login page,
		// with the application's API access; the console shows the claims.
		b.open(acme+"/applications/"+webID, "Acme Shop")
		b.do("try it", chromedp.Click(chromedp.ID("try-it")))
		b.waitFor("acme's login page", `location.hostname === "acme.localhost"`)
		b.signInAtLoginPage(userEmail, userPass)
		b.waitFor("the consent page", `!!document.querySelector("button[value=allow]")`)
		if consent := b.text("main"); !strings.Contains(consent, "Read your orders") || !strings.Contains(consent, "Gatehouse console (Try it)") {
			t.Fatalf("consent page:\n%s", consent)
		}
		b.click(`button[value=allow]`, "Try it: Acme Shop", "Signed in as "+userEmail)
		idClaims, accessClaims := b.text("#id-claims"), b.text("#access-claims")
		for _, want := range []string{`"email": "` + userEmail + `"`, `"iss": "http://acme.localhost:` + e.port + `"`, `"aud"`} {
			if !strings.Contains(idClaims, want) {
				t.Errorf("ID token claims lack %s:\n%s", want, idClaims)
			}
		}
		for _, want := range []string{`"` + api + `"`, `"client_id": "gatehouse-console-try"`, "read:orders", "refund:orders"} {
			if !strings.Contains(accessClaims, want) {
				t.Errorf("access token claims lack %s:\n%s", want, accessClaims)
			}
		}
		b.screenshot("try")
		// The try client is the console's own: it is not listed.
		b.open(acme+"/applications", "Applications", "Acme Shop", "Acme Dashboard", "Acme Mobile", "Acme Worker")
		if strings.Contains(b.text("main"), "Try it") {
			t.Fatal("the applications list shows the console's try client")
		}
		b.screenshot("apps")

		// The login made a session; revoke it.
		b.open(acme+"/users", "Users", userEmail)
		b.screenshot("users")
		// The try is over: the try client holds no consent of the user.
		b.click(`#users a`, userEmail, "has not given any application access")
		if n := eval[int](b, `document.querySelectorAll("#sessions tbody tr").length`); n != 1 {
			t.Fatalf("%d sessions listed", n)
		}
		b.screenshot("user")
		b.click(`#sessions button[type=submit]`, userEmail, "Session revoked.", "No active sessions")
		if d := b.lastDialog(); !strings.Contains(d, "Revoke this session") {
			t.Fatalf("confirmation asked %q", d)
		}

		// Rotate the signing key: the new one is published first ("next").
		b.open(acme+"/keys", "Signing keys", "RS256", "active")
		oldKID := b.text("#keys tbody tr td code")
		b.click(`#rotate-key button`, "Signing keys", "New signing key published", "next")
		if d := b.lastDialog(); !strings.Contains(d, "Rotate Acme Inc's signing key") {
			t.Fatalf("confirmation asked %q", d)
		}
		if rows := eval[int](b, `document.querySelectorAll("#keys tbody tr").length`); rows != 2 || b.text("#keys tbody tr td code") == oldKID {
			t.Fatalf("after rotation: %d keys, newest %q (was %q)", rows, b.text("#keys tbody tr td code"), oldKID)
		}
		b.screenshot("keys")

		b.open(acme+"/audit", "Audit log", "key.rotated", "session.revoked", "client.created", opEmail)
		b.screenshot("audit")
		b.open(acme+"/audit?action=client.", "Audit log", "client.created")
		if strings.Contains(b.text("#audit"), "key.rotated") {
			t.Fatal("the action filter did not filter")
		}
		b.open(acme+"/settings", "Settings", "Delete this tenant")
		b.screenshot("settings")
		b.open(acme, "Acme Inc", "ann@acme.test")
		b.open(e.base+"/admin", "Tenants", "Acme Inc")
		b.screenshot("home")

		// Administrators: acme's tenant admin, narrowed to reading; the
		// operator, whom the console refuses to delete while the last one.
		e.createAdmin(t, "anna@acme.test", "acme")
		b.click(`a[href="/admin/administrators"]`, "Administrators", opEmail, "anna@acme.test")
		b.screenshot("administrators")
		b.click(`#admins a[href="/admin/administrators/`+mustAdmin(t, e, "anna@acme.test").User.ID+`"]`, "anna@acme.test", "Tenants it administers")
		b.do("uncheck tenants:write", chromedp.Click(chromedp.CSS(`input[name=scopes][value="tenants:write"]`)))
		b.click(`#access button[type=submit]`, "anna@acme.test", "Access saved")
		if a := mustAdmin(t, e, "anna@acme.test"); strings.Join(a.Scopes, " ") != "audit:read tenants:read" {
			t.Fatalf("anna's scopes after the form: %v", a.Scopes)
		}
		b.screenshot("administrator")
		b.open(e.base+"/admin/administrators/"+mustAdmin(t, e, opEmail).User.ID, opEmail, "Delete administrator")
		b.click(`#revoke button[type=submit]`, opEmail, "The last operator cannot be removed")
		b.screenshot("last-operator")

		// Phone-sized: the pages fit the screen.
		b.do("phone", chromedp.EmulateViewport(390, 844))
		for _, p := range []struct{ path, title, shot string }{
			{"", "Acme Inc", "overview-phone"},
			{"/applications/" + webID, "Acme Shop", "app-phone"},
			{"/users", "Users", "users-phone"},
			{"/settings", "Settings", "settings-phone"},
		} {
			b.open(acme+p.path, p.title)
			if w := eval[int](b, "document.documentElement.scrollWidth"); w > 390 {
				t.Errorf("%s is %dpx wide on a 390px screen", p.path, w)
			}
			if p.shot == "app-phone" || p.shot == "overview-phone" {
				b.screenshot(p.shot)
			}
		}
		b.do("desktop", chromedp.EmulateViewport(1280, 900))

		// A tenant admin of acme sees acme only, and cannot reach beta.
		e.fixture("beta")
		b.open(e.base+"/admin", "Tenants", "Beta Inc")
		b.do("sign out", chromedp.Click(chromedp.CSS(`.me button[type=submit]`)))
		b.waitFor("the system tenant's sign-out page", `location.hostname === "admin.localhost" && !!document.querySelector("button[type=submit]")`)
		b.click(`button[type=submit]`, "Signed out")
		b.do("open the console", chromedp.Navigate(e.base+"/admin"))
		b.signInAtLoginPage("anna@acme.test", testPassword)
		b.waitPage("Tenants", "Acme Inc", "anna@acme.test")
		if body := b.text("body"); strings.Contains(body, "Beta Inc") || strings.Contains(body, "New tenant") {
			t.Fatalf("a tenant admin sees another tenant or may create one:\n%s", body)
		}
		b.open(e.base+"/admin/t/beta", "Page not found")
		b.open(e.base+"/admin/t/beta/users", "Page not found")
		b.screenshot("other-tenant")
		b.open(acme+"/settings", "Settings")
		if strings.Contains(b.text("main"), "Delete this tenant") {
			t.Fatal("a tenant admin is offered to delete the tenant")
		}
	})
}
