package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/admin/console"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// consoleIDs are the values of a console route's path parameters for one
// tenant's rows.
type consoleIDs map[string]string

// idsOf returns the ids of fixture f's rows, with a session and a consent
// of its user (made by a login).
func (e *env) consoleIDsOf(t *testing.T, f *fixture) consoleIDs {
	t.Helper()
	f.codeFlow(e.browser(), f.web, []string{"openid", "email"})
	ctx := f.adminCtx()
	svc := e.srv.Admin()
	ss, err := svc.ListSessions(ctx, f.userID)
	if err != nil || len(ss) == 0 {
		t.Fatalf("sessions of %s: %v %v", f.slug, ss, err)
	}
	apis, err := svc.ListAPIs(ctx)
	if err != nil || len(apis) == 0 {
		t.Fatalf("APIs of %s: %v", f.slug, err)
	}
	adm, mc := e.principalsOf(t, f.slug)
	// A role the user holds directly and through a group.
	name := "clerk"
	role, err := svc.CreateRole(ctx, admin.RoleInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	gname := "staff"
	group, err := svc.CreateGroup(ctx, admin.GroupInput{Name: &gname})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		func() error { _, err := svc.AddUserRole(ctx, f.userID, role.ID); return err }(),
		func() error { _, err := svc.AddGroupMember(ctx, group.ID, f.userID); return err }(),
		func() error { _, err := svc.AddGroupRole(ctx, group.ID, role.ID); return err }(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	hook, delivery := e.addWebhook(t, f)
	samlName, samlEntity := "Expenses", "https://expenses.example.com/sp"
	sa, err := svc.CreateSAMLApp(ctx, admin.SAMLAppInput{Name: &samlName, EntityID: &samlEntity,
		ACS: []admin.SAMLEndpoint{{URL: "https://expenses.example.com/acs"}}})
	if err != nil {
		t.Fatal(err)
	}
	rname := "plan"
	rule, err := svc.CreateClaimRule(ctx, admin.ClaimRuleInput{Name: &rname, IDToken: &map[string]string{"plan": "'gold'"}})
	if err != nil {
		t.Fatal(err)
	}
	iat, err := svc.CreateInitialAccessToken(ctx, admin.InitialAccessTokenInput{Name: "partner"})
	if err != nil {
		t.Fatal(err)
	}
	// A template of the tenant's own: :email names a kind of email, the
	// same at every tenant.
	if _, err := svc.SetEmailTemplate(ctx, "reset", "en", admin.EmailTemplateInput{Subject: "Own " + f.slug, Text: "{{link}}"}); err != nil {
		t.Fatal(err)
	}
	dom, err := svc.AddDomain(ctx, "login."+f.slug+".example.org")
	if err != nil {
		t.Fatal(err)
	}
	conn := e.addConnection(t, f, "GitHub")
	identity := &tenants.ExternalIdentity{UserID: f.userID, ConnectionID: conn.ID, Issuer: "https://github.com", Subject: "gh-" + f.slug}
	if err := e.store.CreateExternalIdentity(tenants.WithTenant(context.Background(), f.tenant), identity); err != nil {
		t.Fatal(err)
	}
	return consoleIDs{"identity": identity.ID, "iat": iat.ID, "domain": dom.Domain, "email": "reset", "samlapp": sa.ID, "rule": rule.ID, "hook": hook, "delivery": delivery, "slug": f.slug, "app": f.web.ClientID, "api": apis[0].ID, "user": f.userID, "session": ss[0].ID,
		"client": f.web.ClientID, "kind": admin.KindWeb, "conn": conn.ID, "admin": adm, "mclient": mc,
		"role": role.ID, "group": group.ID}
}

var routeParam = regexp.MustCompile(`:[a-z]+`)

// consolePath fills a console route's parameters; it reports whether the
// route names anything besides the tenant (and the kind of a new app).
func consolePath(t *testing.T, r console.Route, ids consoleIDs) (string, bool) {
	t.Helper()
	owned := false
	p := routeParam.ReplaceAllStringFunc(r.Path, func(m string) string {
		name := m[1:]
		v, ok := ids[name]
		if !ok {
			t.Fatalf("route %s %s has a parameter %s this test does not know: add it to consoleIDsOf", r.Method, r.Path, m)
		}
		// A tenant, the kind of a new app and a kind of email name no
		// row of their own.
		if name != "slug" && name != "kind" && name != "email" {
			owned = true
		}
		return v
	})
	return admin.ConsolePath + p, owned
}

// everyField is a form that every console form would accept, so that a
// route's answer is decided by whose rows it names, not by its input.
func everyField(csrf, slug string) url.Values {
	return url.Values{"csrf_token": {csrf}, "confirm": {slug}, "name": {"Changed"}, "password": {"a brand new password 123"},
		"client_id": {"changed"}, "enabled": {"true"},
		"email": {"changed@example.test"}, "grace": {"0"}, "scope": {"read:orders"}, "description": {"x"},
		"redirect_uris": {redirectURI}, "audience": {""}, "grant_types": {"authorization_code"},
		"access_token_lifetime": {"5"}, "id_token_lifetime": {"5"}, "refresh_token_lifetime": {"5"}, "session_lifetime": {"5"},
		"signup_mode": {"off"}, "mfa_policy": {"optional"}, "password_min_length": {"12"}}
}

// auditCount counts a tenant's audit events other than denied attempts:
// every change the console can make writes one.
func (e *env) auditCount(t *testing.T, f *fixture) int {
	t.Helper()
	evs, err := e.srv.Admin().AuditLog(f.adminCtx(), admin.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Action != admin.ActionCrossTenantDenied {
			n++
		}
	}
	return n
}

// TestConsoleRoutesHideOtherTenants signs in the admin of tenant acme and
// sends every console route beta's slug, and acme's slug with beta's ids:
// each answers 404, exactly like a tenant or row that does not exist, and
// nothing of beta changes. The routes come from the console's own table,
// so a new route cannot be left out.
func TestConsoleRoutesHideOtherTenants(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		beta := e.fixture("beta")
		betaIDs := e.consoleIDsOf(t, beta)
		e.createAdmin(t, "anna@acme.test", "acme")
		b := e.browser()
		home := e.consoleLogin(b, "anna@acme.test", testPassword, "/admin")
		if home.status != http.StatusOK || strings.Contains(home.body, "Beta Inc") || !strings.Contains(home.body, "Acme Inc") {
			t.Fatalf("tenant admin's home: %d\n%s", home.status, home.body)
		}
		csrf := field(t, csrfField, home.body)
		before := e.auditCount(t, beta)
		missing := b.get(e.base + "/admin/t/no-such-tenant")

		checked := 0
		for _, r := range console.Routes() {
			if !strings.Contains(r.Path, ":slug") {
				continue
			}
			for _, slug := range []string{"beta", "acme"} {
				ids := consoleIDs{}
				for k, v := range betaIDs {
					ids[k] = v
				}
				ids["slug"] = slug
				path, owned := consolePath(t, r, ids)
				if slug == "acme" && !owned {
					continue // acme's own page: the admin may use it
				}
				var p *page
				if r.Method == http.MethodGet {
					p = b.get(e.base + path)
				} else {
					p = b.post(e.base+path, everyField(csrf, slug))
				}
				checked++
				if p.status != http.StatusNotFound {
					t.Errorf("%s %s: %d, want 404", r.Method, path, p.status)
					continue
				}
				if slug == "beta" && stripRequestID(p.body) != stripRequestID(missing.body) {
					t.Errorf("%s %s: the answer differs from a nonexistent tenant's", r.Method, path)
				}
			}
		}
		if checked < 40 {
			t.Fatalf("only %d requests checked", checked)
		}
		if after := e.auditCount(t, beta); after != before {
			t.Fatalf("beta's audit log grew from %d to %d events: something changed", before, after)
		}
		ctx := beta.adminCtx()
		if u, err := e.srv.Admin().GetUser(ctx, beta.userID); err != nil || u.Disabled || u.Email != beta.email {
			t.Fatalf("beta's user changed: %+v %v", u, err)
		}
		if ss, _ := e.srv.Admin().ListSessions(ctx, beta.userID); len(ss) != 1 {
			t.Fatalf("beta's sessions: %d", len(ss))
		}
		if _, err := e.srv.Admin().GetTenant(ctx); err != nil {
			t.Fatal(err)
		}
		// The attempts are recorded in beta's log.
		evs, _ := e.srv.Admin().AuditLog(ctx, admin.AuditFilter{Action: admin.ActionCrossTenantDenied})
		if len(evs) == 0 {
			t.Fatal("no denied attempt recorded at beta")
		}
	})
}

// forged returns token with its first character changed (to another one:
// a token that starts with x stays wrong).
func forged(token string) string {
	if strings.HasPrefix(token, "x") {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

// TestConsoleRefusesForgedForms posts to every state-changing console
// route without the anti-CSRF token, and with it from another origin: 403
// each time, and nothing changes.
func TestConsoleRefusesForgedForms(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		acme := e.fixture("acme")
		ids := e.consoleIDsOf(t, acme)
		e.createAdmin(t, "ops@example.test", "")
		b := e.browser()
		home := e.consoleLogin(b, "ops@example.test", testPassword, "/admin")
		csrf := field(t, csrfField, home.body)
		before := e.auditCount(t, acme)
		tenantsBefore, _ := e.srv.Admin().ListTenants(context.Background())

		n := 0
		for _, r := range console.Routes() {
			if r.Method != http.MethodPost {
				continue
			}
			path, _ := consolePath(t, r, ids)
			form := everyField(csrf, acme.slug)
			form.Set("slug", "forged")
			form.Del("csrf_token")
			if p := b.post(e.base+path, form); p.status != http.StatusForbidden {
				t.Errorf("POST %s without a token: %d, want 403", path, p.status)
			}
			form.Set("csrf_token", forged(csrf))
			if p := b.post(e.base+path, form); p.status != http.StatusForbidden {
				t.Errorf("POST %s with a wrong token: %d, want 403", path, p.status)
			}
			form.Set("csrf_token", csrf)
			req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "http://evil.localhost:"+e.port)
			if p := b.do(req); p.status != http.StatusForbidden {
				t.Errorf("POST %s from another origin: %d, want 403", path, p.status)
			}
			n++
		}
		if n < 20 {
			t.Fatalf("only %d POST routes", n)
		}
		if after := e.auditCount(t, acme); after != before {
			t.Fatalf("acme's audit log grew from %d to %d events", before, after)
		}
		if ts, _ := e.srv.Admin().ListTenants(context.Background()); len(ts) != len(tenantsBefore) {
			t.Fatalf("tenants: %d, were %d", len(ts), len(tenantsBefore))
		}
		// Sign-out is a form too.
		if p := b.post(e.base+"/admin/logout", url.Values{}); p.status != http.StatusForbidden {
			t.Fatalf("logout without a token: %d", p.status)
		}
		if p := b.get(e.base + "/admin"); p.status != http.StatusOK {
			t.Fatalf("the session ended: %d", p.status)
		}
	})
}

// TestConsoleRequiresSignIn requests every console route without a
// session: pages send the browser to sign in (and back), forms too.
func TestConsoleRequiresSignIn(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	acme := e.fixture("acme")
	ids := consoleIDs{"identity": "x", "slug": acme.slug, "app": acme.web.ClientID, "api": "x", "user": acme.userID, "session": "x", "client": acme.web.ClientID, "kind": "web", "email": "reset", "conn": "x", "hook": "x", "delivery": "x",
		"admin": "x", "mclient": "x", "role": "x", "group": "x", "rule": "x", "samlapp": "x", "domain": "x", "iat": "x"}
	b := e.browser()
	routes := append(console.Routes(), console.Route{Method: http.MethodGet, Path: ""}, console.Route{Method: http.MethodGet, Path: "/"})
	for _, r := range routes {
		path, _ := consolePath(t, r, ids)
		var p *page
		if r.Method == http.MethodGet {
			p = b.get(e.base + path + "?q=1")
			want := "/admin/login?next=" + url.QueryEscape(path+"?q=1")
			if p.status != http.StatusFound || p.location != want {
				t.Errorf("GET %s: %d %q, want 302 to %q", path, p.status, p.location, want)
			}
		} else {
			p = b.post(e.base+path, everyField("x", acme.slug))
			if p.status != http.StatusSeeOther || p.location != "/admin/login" {
				t.Errorf("POST %s: %d %q, want 303 to /admin/login", path, p.status, p.location)
			}
		}
	}
	// A forged session cookie is no session.
	u := mustURL(e.base)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gh_console", Value: "forged", Path: "/"}})
	if p := b.get(e.base + "/admin/t/acme"); p.status != http.StatusFound || !strings.HasPrefix(p.location, "/admin/login") {
		t.Fatalf("forged session: %d %q", p.status, p.location)
	}
}
