package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleProtocolSettings manages through the console what the API
// already could: an application's authentication method (chosen at
// creation, client_secret_jwt and private_key_jwt included; a secret
// method switches only to the other secret method), its private_key_jwt
// keys, PAR, DPoP and refresh token grace period; an API's resource
// server; and the tenant's initial access tokens (made and shown once,
// deleted). Bad input is 422 with the field named, never a change; another
// tenant's initial access token is 404.
func TestConsoleProtocolSettings(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	g := e.fixture("globex")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	svc, ctx := e.srv.Admin(), f.adminCtx()
	base := e.base + "/admin/t/acme"
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
	want422 := func(what string, p *page, field string) {
		t.Helper()
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+field+`-error"`) {
			t.Fatalf("%s: %d, want 422 naming %s\n%s", what, p.status, field, p.body)
		}
	}

	// Creation: a machine application with client_secret_jwt gets a
	// secret, and the page says it is kept sealed.
	p := b.postRedirected(e.base, base+"/applications/new/machine", form("name", "hmac", "token_endpoint_auth_method", "client_secret_jwt"))
	if p.status != http.StatusOK || !strings.Contains(p.body, "client_secret_jwt") || !strings.Contains(p.body, `id="client-secret"`) || strings.Contains(p.body, "keeps only a hash") {
		t.Fatalf("create client_secret_jwt: %d\n%s", p.status, p.body)
	}
	// Rotating it says the same.
	var hm *admin.Client
	all, _ := svc.ListClients(ctx)
	for _, c := range all {
		if c.ClientName == "hmac" {
			hm = c
		}
	}
	if hm == nil || hm.TokenEndpointAuthMethod != tenants.AuthMethodSecretJWT {
		t.Fatalf("client_secret_jwt application: %+v", hm)
	}
	if p := b.postRedirected(e.base, base+"/applications/"+hm.ClientID+"/secret", form("grace", "1h")); p.status != http.StatusOK || !strings.Contains(p.body, "encrypted under the master key") {
		t.Fatalf("rotate a client_secret_jwt secret: %d\n%s", p.status, p.body)
	}
	// private_key_jwt without keys, with bad keys, with a public one.
	want422("private_key_jwt without keys", b.post(base+"/applications/new/web", form("name", "pk", "redirect_uris", redirectURI,
		"token_endpoint_auth_method", "private_key_jwt")), "jwks")
	want422("private_key_jwt with garbage keys", b.post(base+"/applications/new/web", form("name", "pk", "redirect_uris", redirectURI,
		"token_endpoint_auth_method", "private_key_jwt", "jwks", `{"keys":"no"}`)), "jwks")
	want422("unknown method", b.post(base+"/applications/new/web", form("name", "pk", "redirect_uris", redirectURI,
		"token_endpoint_auth_method", "tls_client_auth")), "token_endpoint_auth_method")
	rsaKey, ecKey, _ := newSigners(t)
	p = b.post(base+"/applications/new/web", form("name", "pk", "redirect_uris", redirectURI, "token_endpoint_auth_method", "private_key_jwt",
		"jwks", string(jwksOf(ecKey.public()))))
	if p.status != http.StatusSeeOther {
		t.Fatalf("create private_key_jwt: %d\n%s", p.status, p.body)
	}
	var pk *admin.Client
	cs, _ := svc.ListClients(ctx)
	for _, c := range cs {
		if c.ClientName == "pk" {
			pk = c
		}
	}
	if pk == nil || pk.TokenEndpointAuthMethod != tenants.AuthMethodPrivateKey || len(pk.JWKS) == 0 {
		t.Fatalf("private_key_jwt application: %+v", pk)
	}

	// Settings of the web application: post, PAR, DPoP, a grace period.
	app := base + "/applications/" + f.web.ClientID
	page := b.get(app)
	for _, name := range []string{`name="token_endpoint_auth_method"`, `name="require_pushed_authorization_requests"`, `name="dpop_bound_access_tokens"`, `name="refresh_token_grace_period"`, `name="protocol_form"`} {
		if !strings.Contains(page.body, name) {
			t.Fatalf("the settings form has no %s", name)
		}
	}
	settings := func(kv ...string) url.Values {
		return form(append([]string{"name", "web", "redirect_uris", redirectURI, "grant_types", "authorization_code", "grant_types", "refresh_token", "protocol_form", "1"}, kv...)...)
	}
	want422("grace 61", b.post(app, settings("refresh_token_grace_period", "61")), "refresh_token_grace_period")
	want422("grace not a number", b.post(app, settings("refresh_token_grace_period", "ten")), "refresh_token_grace_period")
	want422("switch to private_key_jwt", b.post(app, settings("token_endpoint_auth_method", "private_key_jwt")), "token_endpoint_auth_method")
	if c, _ := svc.GetClient(ctx, f.web.ClientID); c.RefreshTokenGraceSeconds != 0 || c.TokenEndpointAuthMethod != tenants.AuthMethodBasic {
		t.Fatalf("a refused form changed the application: %+v", c)
	}
	wantDone("protocol settings", b.post(app, settings("token_endpoint_auth_method", "client_secret_post", "require_pushed_authorization_requests", "on",
		"dpop_bound_access_tokens", "on", "refresh_token_grace_period", "30")), "app-updated")
	c, _ := svc.GetClient(ctx, f.web.ClientID)
	if c.TokenEndpointAuthMethod != tenants.AuthMethodPost || !c.RequirePushedAuthorizationRequests || !c.DPoPBoundAccessTokens || c.RefreshTokenGraceSeconds != 30 {
		t.Fatalf("saved: %+v", c)
	}
	// Unchecked boxes turn them off; a form without protocol_form (an
	// older page) leaves them.
	wantDone("older form", b.post(app, form("name", "web", "redirect_uris", redirectURI, "grant_types", "authorization_code", "grant_types", "refresh_token")), "app-updated")
	if c, _ := svc.GetClient(ctx, f.web.ClientID); !c.DPoPBoundAccessTokens || c.RefreshTokenGraceSeconds != 30 {
		t.Fatalf("a form without the protocol fields changed them: %+v", c)
	}
	wantDone("boxes off", b.post(app, settings("token_endpoint_auth_method", "client_secret_post", "refresh_token_grace_period", "0")), "app-updated")
	if c, _ := svc.GetClient(ctx, f.web.ClientID); c.DPoPBoundAccessTokens || c.RequirePushedAuthorizationRequests || c.RefreshTokenGraceSeconds != 0 {
		t.Fatalf("boxes off: %+v", c)
	}

	// A private_key_jwt application's keys: replaced by a set, then by a
	// URL that is refused (loopback), then by both (refused).
	pkPage := base + "/applications/" + pk.ClientID
	if body := b.get(pkPage).body; !strings.Contains(body, `name="jwks"`) || strings.Contains(body, `name="token_endpoint_auth_method"`) {
		t.Fatal("a private_key_jwt application's form: keys, and no method to switch to")
	}
	pkForm := func(kv ...string) url.Values {
		return form(append([]string{"name", "pk", "redirect_uris", redirectURI, "grant_types", "authorization_code", "protocol_form", "1"}, kv...)...)
	}
	wantDone("replace keys", b.post(pkPage, pkForm("jwks", string(jwksOf(rsaKey.public())))), "app-updated")
	if c, _ := svc.GetClient(ctx, pk.ClientID); !strings.Contains(string(c.JWKS), `"kid":"rsa-1"`) {
		t.Fatalf("keys not replaced: %s", c.JWKS)
	}
	want422("loopback jwks_uri", b.post(pkPage, pkForm("jwks_uri", "https://127.0.0.1/jwks")), "jwks_uri")
	want422("both", b.post(pkPage, pkForm("jwks", string(jwksOf(rsaKey.public())), "jwks_uri", "https://keys.example.com/jwks")), "jwks")
	want422("no keys", b.post(pkPage, pkForm("jwks", "")), "jwks")

	// An API's resource server: a confidential application of the
	// tenant; not a public one, not another tenant's.
	apis, _ := svc.ListAPIs(ctx)
	apiPage := base + "/apis/" + apis[0].ID
	if !strings.Contains(b.get(apiPage).body, `name="resource_server_client_id"`) {
		t.Fatal("the API form has no resource server")
	}
	apiForm := func(rs string) url.Values { return form("name", "Orders API", "resource_server_client_id", rs) }
	want422("public resource server", b.post(apiPage, apiForm(f.spa.ClientID)), "resource_server_client_id")
	want422("another tenant's resource server", b.post(apiPage, apiForm(g.worker.ClientID)), "resource_server_client_id")
	wantDone("resource server", b.post(apiPage, apiForm(f.worker.ClientID)), "api-updated")
	if a, _ := svc.GetAPI(ctx, apis[0].ID); a.ResourceServerClientID != f.worker.ClientID {
		t.Fatalf("resource server: %+v", a)
	}
	wantDone("no resource server", b.post(apiPage, apiForm("")), "api-updated")
	if a, _ := svc.GetAPI(ctx, apis[0].ID); a.ResourceServerClientID != "" {
		t.Fatalf("resource server not cleared: %+v", a)
	}

	// Initial access tokens.
	reg := base + "/registration"
	if p := b.get(reg); p.status != http.StatusOK || !strings.Contains(p.body, "No usable initial access tokens") {
		t.Fatalf("registration page: %d\n%s", p.status, p.body)
	}
	want422("uses 0", b.post(reg+"/tokens", form("name", "partner", "uses", "0", "lifetime", "7")), "uses")
	want422("uses text", b.post(reg+"/tokens", form("name", "partner", "uses", "many", "lifetime", "7")), "uses")
	want422("lifetime 91", b.post(reg+"/tokens", form("name", "partner", "uses", "1", "lifetime", "91")), "lifetime")
	want422("huge name", b.post(reg+"/tokens", form("name", strings.Repeat("n", 300), "uses", "1", "lifetime", "7")), "name")
	p = b.post(reg+"/tokens", form("name", "partner", "uses", "3", "lifetime", "2"))
	m := regexp.MustCompile(`id="initial-access-token">(gh_iat_[A-Za-z0-9_-]+)<`).FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("create token: %d\n%s", p.status, p.body)
	}
	ts, _ := svc.ListInitialAccessTokens(ctx)
	if len(ts) != 1 || ts[0].UsesLeft != 3 || ts[0].Name != "partner" {
		t.Fatalf("tokens: %+v", ts)
	}
	if strings.Contains(b.get(reg).body, m[1]) {
		t.Fatal("the token is shown again")
	}
	// The token registers a client once the tenant takes tokens.
	if _, err := svc.UpdateTenant(ctx, admin.TenantSettings{ClientRegistration: ptr(tenants.RegistrationToken)}); err != nil {
		t.Fatal(err)
	}
	s, _, body := regCall(t, e, http.MethodPost, f.issuer+"/oauth/register", m[1], map[string]any{"redirect_uris": []string{redirectURI}})
	if s != http.StatusCreated {
		t.Fatalf("register with the console's token: %d %v", s, body)
	}
	// Another tenant's token through this tenant's path: not found.
	gt, err := svc.CreateInitialAccessToken(g.adminCtx(), admin.InitialAccessTokenInput{Name: "globex"})
	if err != nil {
		t.Fatal(err)
	}
	if p := b.post(reg+"/tokens/"+gt.ID+"/delete", form()); p.status != http.StatusNotFound {
		t.Fatalf("delete another tenant's token: %d", p.status)
	}
	if gts, _ := svc.ListInitialAccessTokens(g.adminCtx()); len(gts) != 1 {
		t.Fatal("another tenant's token was deleted")
	}
	wantDone("delete token", b.post(reg+"/tokens/"+ts[0].ID+"/delete", form()), "initial-token-deleted")
	if ts, _ := svc.ListInitialAccessTokens(ctx); len(ts) != 0 {
		t.Fatalf("tokens after delete: %+v", ts)
	}
	if p := b.post(reg+"/tokens/"+ts[0].ID+"/delete", form()); p.status != http.StatusNotFound {
		t.Fatalf("delete twice: %d", p.status)
	}
}
