package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// consoleAs signs a cookie-keeping client in to the console as a new
// administrator (an operator when slug is empty) and returns it with the
// session's anti-CSRF token.
func (e *env) consoleAs(t *testing.T, email, slug string) (*browser, string) {
	t.Helper()
	e.createAdmin(t, email, slug)
	b := e.browser()
	p := e.consoleLogin(b, email, testPassword, "/admin")
	if p.status != http.StatusOK {
		t.Fatalf("console sign-in: %d\n%s", p.status, p.body)
	}
	return b, field(t, csrfField, p.body)
}

var secretField = regexp.MustCompile(`id="client-secret">([^<]+)<`)

// TestConsoleSecretRotationKeepsBothSecretsForTheGracePeriod rotates a
// machine-to-machine application's secret in the console: the new secret
// is shown once, and both secrets get tokens during the grace period; with
// no grace period the old one stops at once.
func TestConsoleSecretRotationKeepsBothSecretsForTheGracePeriod(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	app := e.base + "/admin/t/acme/applications/" + f.worker.ClientID
	tokenWith := func(secret string) int {
		status, _, _ := f.post("/oauth/token", f.worker.ClientID, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {f.api}})
		return status
	}
	if s := tokenWith(f.worker.ClientSecret); s != http.StatusOK {
		t.Fatalf("original secret: %d", s)
	}

	p := b.postRedirected(e.base, app+"/secret", url.Values{"csrf_token": {csrf}, "grace": {"24h"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "you will not see it again") || !strings.Contains(p.body, "keeps working until") {
		t.Fatalf("rotate: %d\n%s", p.status, p.body)
	}
	second := html.UnescapeString(field(t, secretField, p.body))
	if tokenWith(second) != http.StatusOK || tokenWith(f.worker.ClientSecret) != http.StatusOK {
		t.Fatal("during the grace period both secrets must work")
	}
	if strings.Contains(b.get(app).body, second) {
		t.Fatal("the application's page shows the secret again")
	}

	p = b.postRedirected(e.base, app+"/secret", url.Values{"csrf_token": {csrf}, "grace": {"0"}})
	third := html.UnescapeString(field(t, secretField, p.body))
	if !strings.Contains(p.body, "The previous secret no longer works.") {
		t.Fatalf("rotate without grace:\n%s", p.body)
	}
	if tokenWith(third) != http.StatusOK || tokenWith(second) != http.StatusUnauthorized {
		t.Fatal("without a grace period only the new secret works")
	}
	// A grace period the form does not offer is refused next to the field.
	p = b.post(app+"/secret", url.Values{"csrf_token": {csrf}, "grace": {"9999h"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="grace_period-error"`) {
		t.Fatalf("odd grace period: %d", p.status)
	}
	// A public application has no secret to rotate.
	p = b.post(e.base+"/admin/t/acme/applications/"+f.spa.ClientID+"/secret", url.Values{"csrf_token": {csrf}, "grace": {"0"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "A public application has no secret.") {
		t.Fatalf("rotate a public client: %d", p.status)
	}
}

// TestConsoleRevokingConsentRevokesRefreshTokens revokes, in the console,
// a user's consent to an application: the application's refresh token
// stops working. Revoking a session ends it.
func TestConsoleRevokingConsentRevokesRefreshTokens(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	tok, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "offline_access"})
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	user := e.base + "/admin/t/acme/users/" + f.userID
	p := b.get(user)
	if !strings.Contains(p.body, `id="consents"`) || !strings.Contains(p.body, ">web<") || !strings.Contains(p.body, `id="sessions"`) {
		t.Fatalf("user page lacks the consent or the session:\n%s", p.body)
	}
	p = b.post(user+"/consents/"+f.web.ClientID+"/revoke", url.Values{"csrf_token": {csrf}})
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "?done=consent-revoked") {
		t.Fatalf("revoke consent: %d %s", p.status, p.location)
	}
	if status, body := f.refresh(tok.RefreshToken); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
		t.Fatalf("refresh after the consent was revoked: %d %v", status, body)
	}
	if p := b.post(user+"/consents/"+f.web.ClientID+"/revoke", url.Values{"csrf_token": {csrf}}); p.status != http.StatusNotFound {
		t.Fatalf("revoke it again: %d", p.status)
	}
	ss, _ := e.srv.Admin().ListSessions(f.adminCtx(), f.userID)
	p = b.post(user+"/sessions/"+ss[0].ID+"/revoke", url.Values{"csrf_token": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("revoke session: %d", p.status)
	}
	if ss, _ := e.srv.Admin().ListSessions(f.adminCtx(), f.userID); len(ss) != 0 {
		t.Fatalf("%d sessions after revocation", len(ss))
	}
}

// TestConsoleUsersSearchAndPaging lists users a page at a time, forward
// and back, and searches them.
func TestConsoleUsersSearchAndPaging(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	for i := range 29 {
		if _, err := e.srv.Admin().CreateUser(f.adminCtx(), admin.CreateUserInput{Email: fmt.Sprintf("user%02d@acme.test", i), Password: testPassword}); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := e.consoleAs(t, "ops@example.test", "")
	rows := regexp.MustCompile(`<a href="/admin/t/acme/users/[^"]+">([^<]+)</a>`)
	link := func(body, rel string) string {
		m := regexp.MustCompile(`href="([^"]+)" rel="` + rel + `"`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return e.base + html.UnescapeString(m[1])
	}
	first := b.get(e.base + "/admin/t/acme/users")
	emails := rows.FindAllStringSubmatch(first.body, -1)
	if len(emails) != 25 || emails[0][1] != "ann@acme.test" || link(first.body, "prev") != "" {
		t.Fatalf("first page: %d users, prev %q", len(emails), link(first.body, "prev"))
	}
	second := b.get(link(first.body, "next"))
	emails = rows.FindAllStringSubmatch(second.body, -1)
	if len(emails) != 5 || emails[4][1] != "user28@acme.test" || link(second.body, "next") != "" {
		t.Fatalf("second page: %v", emails)
	}
	back := b.get(link(second.body, "prev"))
	if got := rows.FindAllStringSubmatch(back.body, -1); len(got) != 25 || got[0][1] != "ann@acme.test" {
		t.Fatalf("back to the first page: %d users", len(got))
	}
	found := b.get(e.base + "/admin/t/acme/users?q=USER1")
	if got := rows.FindAllStringSubmatch(found.body, -1); len(got) != 10 {
		t.Fatalf("search: %d users", len(got))
	}
	none := b.get(e.base + "/admin/t/acme/users?q=nobody")
	if !strings.Contains(none.body, "No users match") {
		t.Fatal("no empty state for a search without results")
	}

	// The audit log pages the same way, keeping its filter.
	events := regexp.MustCompile(`<code>user\.created</code>`)
	log1 := b.get(e.base + "/admin/t/acme/audit?action=user.")
	next := link(log1.body, "next")
	if n := len(events.FindAllString(log1.body, -1)); n != 25 || !strings.Contains(next, "action=user.") {
		t.Fatalf("audit first page: %d events, next %q", n, next)
	}
	log2 := b.get(next)
	if n := len(events.FindAllString(log2.body, -1)); n != 5 || link(log2.body, "next") != "" || link(log2.body, "prev") == "" {
		t.Fatalf("audit second page: %d events", n)
	}
}

// TestConsoleSettingsAndTenantDeletion changes a tenant's settings, with
// errors next to their fields, and deletes it only when its slug is typed;
// a tenant admin cannot delete their tenant.
func TestConsoleSettingsAndTenantDeletion(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		settings := e.base + "/admin/t/acme/settings"
		form := url.Values{"csrf_token": {csrf}, "name": {"Acme Corp"}, "logo_url": {"https://cdn.acme.test/logo.svg"},
			"accent_color": {"purple"}, "access_token_lifetime": {"15"}, "id_token_lifetime": {"60"},
			"refresh_token_lifetime": {"30"}, "session_lifetime": {"12"}, "grant_types": {"authorization_code", "refresh_token"},
			"signup_mode": {"domains"}, "signup_domains": {"acme.test, Corp.acme.test"}, "password_min_length": {"10"},
			"mfa_policy": {"required"}, "email_from_name": {"Acme Accounts"}}
		p := b.post(settings, form)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="accent_color-error"`) || !strings.Contains(p.body, `value="purple"`) ||
			!strings.Contains(p.body, `value="Acme Corp"`) {
			t.Fatalf("bad accent colour: %d\n%s", p.status, p.body)
		}
		form.Set("accent_color", "#7048E8")
		if p := b.post(settings, form); p.status != http.StatusSeeOther {
			t.Fatalf("save settings: %d\n%s", p.status, p.body)
		}
		tv, _ := e.srv.Admin().GetTenant(tenantCtx(t, e, "acme"))
		if tv.Name != "Acme Corp" || tv.AccentColor != "#7048e8" || tv.AccessTokenLifetimeSeconds != 900 || tv.SessionLifetimeSeconds != 12*3600 ||
			tv.RefreshTokenLifetimeSeconds != 30*86400 || strings.Join(tv.GrantTypes, " ") != "authorization_code refresh_token" {
			t.Fatalf("settings saved: %+v", tv)
		}
		if tv.SignupMode != "domains" || strings.Join(tv.SignupDomains, " ") != "acme.test corp.acme.test" || tv.PasswordMinLength != 10 ||
			tv.MFAPolicy != "required" || tv.EmailFromName != "Acme Accounts" {
			t.Fatalf("sign-up and security settings saved: %+v", tv)
		}
		if p := b.get(settings); !strings.Contains(p.body, `value="domains" checked`) || !strings.Contains(p.body, `value="required" checked`) {
			t.Fatalf("settings form does not show the saved choices:\n%s", p.body)
		}
		for field, bad := range map[string]string{"password_min_length": "seven", "signup_domains": "", "mfa_policy": "always"} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set(field, bad)
			if p := b.post(settings, f); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+field+`-error"`) {
				t.Fatalf("bad %s: %d", field, p.status)
			}
		}
		form.Set("access_token_lifetime", "0")
		if p := b.post(settings, form); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="access_token_lifetime-error"`) {
			t.Fatalf("zero lifetime: %d", p.status)
		}

		// A tenant admin may change settings, not delete the tenant.
		ab, acsrf := e.consoleAs(t, "anna@acme.test", "acme")
		if p := ab.get(settings); strings.Contains(p.body, "Delete this tenant") {
			t.Fatal("a tenant admin is offered deletion")
		}
		if p := ab.post(e.base+"/admin/t/acme/delete", url.Values{"csrf_token": {acsrf}, "confirm": {"acme"}}); p.status != http.StatusForbidden {
			t.Fatalf("tenant admin deletes: %d", p.status)
		}

		del := e.base + "/admin/t/acme/delete"
		if p := b.post(del, url.Values{"csrf_token": {csrf}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="confirm-error"`) {
			t.Fatalf("delete without confirmation: %d", p.status)
		}
		if p := b.post(del, url.Values{"csrf_token": {csrf}, "confirm": {"Acme Corp"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("delete with the name, not the slug: %d", p.status)
		}
		p = b.post(del, url.Values{"csrf_token": {csrf}, "confirm": {"acme"}})
		if p.status != http.StatusSeeOther || p.location != "/admin?done=tenant-deleted" {
			t.Fatalf("delete: %d %s", p.status, p.location)
		}
		if p := b.get(settings); p.status != http.StatusNotFound {
			t.Fatalf("deleted tenant's settings: %d", p.status)
		}
	})
}

// TestConsoleTryCallbackNeedsItsOwnState answers a "Try it" callback that
// this session did not start, or with the wrong state, with an error and
// no token exchange.
func TestConsoleTryCallbackNeedsItsOwnState(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	if p := b.get(e.base + "/admin/try/callback?code=x&state=y&iss=" + url.QueryEscape(f.issuer)); p.status != http.StatusBadRequest {
		t.Fatalf("callback without a try: %d", p.status)
	}
	p := b.post(e.base+"/admin/t/acme/applications/"+f.web.ClientID+"/try", url.Values{"csrf_token": {csrf}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, f.issuer+"/authorize?") {
		t.Fatalf("start a try: %d %s", p.status, p.location)
	}
	auth, _ := url.Parse(p.location)
	q := auth.Query()
	if q.Get("client_id") != admin.TryClientID || q.Get("resource") != f.api || !strings.Contains(q.Get("scope"), "read:orders") ||
		q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("prompt") != "login" {
		t.Fatalf("authorization request: %v", q)
	}
	p = b.get(e.base + "/admin/try/callback?code=x&state=wrong&iss=" + url.QueryEscape(f.issuer))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "started in another session") {
		t.Fatalf("wrong state: %d\n%s", p.status, p.body)
	}
	// The state was spent by that answer.
	p = b.get(e.base + "/admin/try/callback?code=x&state=" + q.Get("state") + "&iss=" + url.QueryEscape(f.issuer))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "nothing to finish") {
		t.Fatalf("state reused: %d", p.status)
	}
	// The try client is internal: not among the applications, here or in
	// the API.
	cs, _ := e.srv.Admin().ListClients(f.adminCtx())
	for _, c := range cs {
		if c.ClientID == admin.TryClientID {
			t.Fatal("ListClients shows the try client")
		}
	}
	if p := b.get(e.base + "/admin/t/acme/applications/" + admin.TryClientID); p.status != http.StatusNotFound {
		t.Fatalf("the try client's page: %d", p.status)
	}
	// A machine-to-machine application cannot be tried.
	if p := b.post(e.base+"/admin/t/acme/applications/"+f.worker.ClientID+"/try", url.Values{"csrf_token": {csrf}}); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("try a machine: %d", p.status)
	}
}

func tenantCtx(t *testing.T, e *env, slug string) context.Context {
	t.Helper()
	ctx, _, err := e.srv.Admin().WithTenant(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestConsoleChangesAndDeletions makes the console's changes that the
// browser journeys do not, through its forms: a user's profile, status,
// password and deletion; an application's and an API's deletion, and a
// scope's removal. Each is refused with the error next to its field when
// the input is wrong.
func TestConsoleChangesAndDeletions(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	svc, ctx := e.srv.Admin(), f.adminCtx()
	base := e.base + "/admin/t/acme"
	user := base + "/users/" + f.userID
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf_token": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	wantDone := func(what string, p *page, flash string) {
		t.Helper()
		if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "?done="+flash) {
			t.Fatalf("%s: %d %s\n%s", what, p.status, p.location, p.body)
		}
	}

	// Profile: an email taken by nobody else, verified explicitly.
	p := b.post(user, form("email", "not an email", "name", "Ann"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="email-error"`) || !strings.Contains(p.body, `value="not an email"`) {
		t.Fatalf("bad email: %d", p.status)
	}
	wantDone("profile", b.post(user, form("email", "ann.new@acme.test", "name", "Ann New", "given_name", "Ann", "email_verified", "true")), "user-updated")
	if u, _ := svc.GetUser(ctx, f.userID); u.Email != "ann.new@acme.test" || u.GivenName != "Ann" || !u.EmailVerified {
		t.Fatalf("profile saved: %+v", u)
	}
	// Disable and enable.
	wantDone("disable", b.post(user+"/disable", form()), "user-disabled")
	if u, _ := svc.GetUser(ctx, f.userID); !u.Disabled {
		t.Fatal("not disabled")
	}
	if !strings.Contains(b.get(user).body, "Enable user") {
		t.Fatal("a disabled user's page offers no way back")
	}
	wantDone("enable", b.post(user+"/enable", form()), "user-enabled")
	// Password: too short, then set.
	p = b.post(user+"/password", form("password", "short"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="password-error"`) || strings.Contains(p.body, `value="short"`) {
		t.Fatalf("short password: %d", p.status)
	}
	wantDone("password", b.post(user+"/password", form("password", "an entirely new passphrase")), "password-set")
	// A new user with a taken email.
	p = b.post(base+"/users/new", form("email", "ann.new@acme.test", "password", testPassword))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "exists already") {
		t.Fatalf("taken email: %d", p.status)
	}
	wantDone("delete user", b.post(user+"/delete", form()), "user-deleted")
	if _, err := svc.GetUser(ctx, f.userID); err == nil {
		t.Fatal("user not deleted")
	}

	// An application: a wildcard redirect URI, then deletion.
	app := base + "/applications/" + f.web.ClientID
	p = b.post(app, form("name", "web", "redirect_uris", "https://*.acme.test/cb", "grant_types", "authorization_code"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="redirect_uris-error"`) {
		t.Fatalf("wildcard redirect: %d", p.status)
	}
	p = b.post(app, form("name", "web", "redirect_uris", "http://shop.acme.test/cb", "grant_types", "authorization_code"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "must use https") {
		t.Fatalf("http redirect: %d", p.status)
	}
	p = b.post(app, form("name", "web", "redirect_uris", redirectURI))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="grant_types-error"`) {
		t.Fatalf("no grant type: %d", p.status)
	}
	wantDone("delete app", b.post(app+"/delete", form()), "app-deleted")
	if p := b.get(app); p.status != http.StatusNotFound {
		t.Fatalf("deleted app: %d", p.status)
	}

	// New applications: a native app may use a private-use scheme, a web
	// app may not.
	p = b.post(base+"/applications/new/web", form("name", "Shop", "redirect_uris", "com.acme.shop:/cb"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="redirect_uris-error"`) || !strings.Contains(p.body, "com.acme.shop:/cb") {
		t.Fatalf("web app with a private-use scheme: %d", p.status)
	}
	p = b.post(base+"/applications/new/native", form("name", "Mobile", "redirect_uris", "com.acme.shop:/cb"))
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "?done=app-created") {
		t.Fatalf("native app: %d", p.status)
	}
	if p := b.get(base + "/applications/new/desktop"); p.status != http.StatusNotFound {
		t.Fatalf("unknown kind: %d", p.status)
	}

	// An API: a duplicate audience, a scope removed, then deletion.
	apis, _ := svc.ListAPIs(ctx)
	api := base + "/apis/" + apis[0].ID
	p = b.post(base+"/apis/new", form("audience", f.api))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="audience-error"`) {
		t.Fatalf("duplicate audience: %d", p.status)
	}
	p = b.post(base+"/apis/new", form("audience", "https://api2.acme.test", "scopes", "openid = no"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="scopes-error"`) {
		t.Fatalf("an OpenID scope for an API: %d", p.status)
	}
	wantDone("remove scope", b.post(api+"/scopes/delete", form("scope", "write:orders")), "scope-removed")
	if a, _ := svc.GetAPI(ctx, apis[0].ID); len(a.Scopes) != 1 {
		t.Fatalf("scopes: %v", a.Scopes)
	}
	if p := b.post(api+"/scopes/delete", form("scope", "write:orders")); p.status != http.StatusNotFound {
		t.Fatalf("remove it again: %d", p.status)
	}
	wantDone("delete API", b.post(api+"/delete", form()), "api-deleted")
	if p := b.get(base + "/apis"); !strings.Contains(p.body, "No APIs yet") {
		t.Fatal("no empty state after the last API went")
	}

	// Audit: filtered by action prefix and actor, and each change is there.
	p = b.get(base + "/audit?action=user.")
	for _, want := range []string{"user.updated", "user.disabled", "user.enabled", "user.password_set", "user.deleted"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if strings.Contains(p.body, "api.deleted") {
		t.Error("the action filter let api.deleted through")
	}
	if p := b.get(base + "/audit?actor=nobody"); !strings.Contains(p.body, "No events match") {
		t.Error("no empty state for an actor with no events")
	}
}
