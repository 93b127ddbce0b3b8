package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// exportTenant gets the document of slug through the API.
func (a *apiClient) exportTenant(t *testing.T, slug, query string) []byte {
	t.Helper()
	status, hdr, raw := a.raw(t, http.MethodGet, "/tenants/"+slug+"/export"+query, "", nil)
	if status != http.StatusOK || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("export of %s: %d %s", slug, status, raw)
	}
	return raw
}

// TestTenantExportImportElsewhere moves a tenant to another server (its own
// database, the same master key): a relying party configured for the old
// tenant signs its users in at the new one after changing only the issuer,
// with the same client_id and secret, and its users keep their sub.
func TestTenantExportImportElsewhere(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		src := newEnv(t, db.URL(t))
		acme := src.fixture("acme")
		svc, ctx := src.srv.Admin(), acme.adminCtx()
		perms := []admin.Permission{{Audience: acme.api, Scope: "read:orders"}}
		name, desc := "clerk", "Reads orders"
		if _, err := svc.CreateRole(ctx, admin.RoleInput{Name: &name, Description: &desc, Permissions: &perms}); err != nil {
			t.Fatal(err)
		}
		gname := "staff"
		if _, err := svc.CreateGroup(ctx, admin.GroupInput{Name: &gname}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddGroupRole(ctx, "staff", "clerk"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddGroupMember(ctx, "staff", acme.userID); err != nil {
			t.Fatal(err)
		}
		cname := "GitHub"
		if _, err := svc.CreateConnection(ctx, admin.ConnectionInput{Type: tenants.ConnectionGitHub, Name: &cname, ClientID: ptr("gh-client"), ClientSecret: ptr("gh-secret")}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateWebhook(ctx, admin.WebhookInput{URL: ptr("https://hooks.acme.test/in"), Events: []string{"user.created"}}); err != nil {
			t.Fatal(err)
		}
		logo := "https://cdn.acme.test/logo.png"
		if _, err := svc.UpdateTenant(ctx, admin.TenantSettings{LogoURL: &logo, AccentColor: ptr("#3b5bdb")}); err != nil {
			t.Fatal(err)
		}

		reader := src.managementClient(t, "", admin.ScopeTenantsRead)
		status, _, raw := reader.raw(t, http.MethodGet, "/tenants/acme/export", "", nil)
		if status != http.StatusForbidden {
			t.Fatalf("export with secrets and tenants:read only: %d %s", status, raw)
		}
		if doc := reader.exportTenant(t, "acme", "?omit_secrets=true"); bytes.Contains(doc, []byte("secret_hash")) || bytes.Contains(doc, []byte("_sealed")) {
			t.Fatalf("export without secrets carries some: %s", doc)
		}
		exporter := src.managementClient(t, "", admin.ScopeTenantsWrite, admin.ScopeExportHashes)
		doc := exporter.exportTenant(t, "acme", "?users=true&password_hashes=true")
		var parsed admin.TenantDocument
		if err := json.Unmarshal(doc, &parsed); err != nil || parsed.Format != admin.TenantDocumentFormat || len(parsed.Applications) != 3 ||
			len(parsed.Users) != 1 || len(parsed.Connections) != 1 || len(parsed.Webhooks) != 1 || parsed.Settings.LogoURL != logo {
			t.Fatalf("document: %v %s", err, doc)
		}

		// Another server, its own database, the same master key.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		dst := startNode(t, db.URL(t), src.masterKey, ln, "http://localhost:"+port)
		op := dst.managementClient(t, "", admin.ScopeTenantsWrite, admin.ScopeTenantsRead)
		status, _, raw = op.raw(t, http.MethodPost, "/tenants/import", "application/json", doc)
		if status != http.StatusCreated {
			t.Fatalf("import: %d %s", status, raw)
		}
		var res admin.TenantImportResult
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.Tenant.Slug != "acme" || res.Tenant.Issuer == acme.issuer || len(res.Secrets) != 0 || res.Users != 1 ||
			res.IDs["tenant"][acme.tenant.ID] != res.Tenant.ID || len(res.IDs["users"]) != 0 || len(res.IDs["roles"]) != 1 {
			t.Fatalf("import result: %s", raw)
		}

		// The relying party changes its issuer, nothing else.
		moved := *acme
		moved.e, moved.issuer = dst, res.Tenant.Issuer
		tn, err := dst.store.TenantBySlug(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		moved.tenant = tn
		tok, nonce := moved.codeFlow(dst.browser(), acme.web, []string{"openid", "email", "offline_access"})
		octx := oidc.ClientContext(dst.ctx(), dst.httpClient(true))
		prov, err := oidc.NewProvider(octx, moved.issuer)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = json.Marshal(tok.Extra("id_token"))
		var rawID string
		_ = json.Unmarshal(raw, &rawID)
		idt, err := prov.Verifier(&oidc.Config{ClientID: acme.web.ClientID}).Verify(octx, rawID)
		if err != nil || idt.Subject != acme.userID || idt.Nonce != nonce {
			t.Fatalf("ID token at the new tenant: %v %+v", err, idt)
		}
		// The refresh token and the machine client's secret work there too.
		if _, err := moved.oauth2Config(acme.web).TokenSource(dst.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Fatalf("refresh at the new tenant: %v", err)
		}
		if s, _, b := moved.post("/oauth/token", acme.worker.ClientID, acme.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:orders"}}); s != http.StatusOK {
			t.Fatalf("client credentials at the new tenant: %d %v", s, b)
		}
		// The upstream secret opens at the new server; roles come along.
		conns := op.items(t, "/tenants/acme/connections")
		if len(conns) != 1 || conns[0]["has_client_secret"] != true {
			t.Fatalf("connections: %v", conns)
		}
		ct, err := dst.store.ListConnections(tenants.WithTenant(t.Context(), tn))
		if err != nil || len(ct) != 1 {
			t.Fatal(err)
		}
		st, err := dst.srv.Federation().Settings(tn, &ct[0])
		if err != nil || st.ClientSecret != "gh-secret" {
			t.Fatalf("the imported connection's secret: %v %q", err, st.ClientSecret)
		}
		if perms, err := dst.store.UserPermissions(tenants.WithTenant(t.Context(), tn), acme.userID, acme.api); err != nil || len(perms) != 1 {
			t.Fatalf("permissions through the group at the new tenant: %v %v", perms, err)
		}

		// Importing again is refused: the slug is taken. With --slug it
		// is a second copy, whose users need new ids.
		if status, _, raw := op.raw(t, http.MethodPost, "/tenants/import", "application/json", doc); status != http.StatusConflict {
			t.Fatalf("second import: %d %s", status, raw)
		}
		status, _, raw = op.raw(t, http.MethodPost, "/tenants/import?slug=acme-copy", "application/json", doc)
		if status != http.StatusCreated {
			t.Fatalf("import as acme-copy: %d %s", status, raw)
		}
		res = admin.TenantImportResult{}
		_ = json.Unmarshal(raw, &res)
		if res.IDs["users"][acme.userID] == "" {
			t.Fatalf("copy's users kept ids taken at acme: %s", raw)
		}

		// Without secrets, the import makes new ones and says so once.
		bare := exporter.exportTenant(t, "acme", "?omit_secrets=true")
		status, _, raw = op.raw(t, http.MethodPost, "/tenants/import?slug=acme-bare", "application/json", bare)
		if status != http.StatusCreated || strings.Count(string(raw), `"kind":"application"`) != 2 || strings.Count(string(raw), `"kind":"webhook"`) != 1 ||
			strings.Count(string(raw), `"kind":"connection"`) != 1 {
			t.Fatalf("import without secrets: %d %s", status, raw)
		}
	})
}

// TestTenantImportRefusesHostileDocuments sends documents that are
// malformed, hostile or fail late (in the transaction): each is refused
// with a 4xx and nothing of it is written.
func TestTenantImportRefusesHostileDocuments(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		acme := e.fixture("acme")
		cname := "GitHub"
		if _, err := e.srv.Admin().CreateConnection(acme.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionGitHub, Name: &cname, ClientID: ptr("gh"), ClientSecret: ptr("gh-secret")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Admin().CreateWebhook(acme.adminCtx(), admin.WebhookInput{URL: ptr("https://hooks.acme.test/in"), Events: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
		exporter := e.managementClient(t, "", admin.ScopeTenantsWrite, admin.ScopeExportHashes)
		good := exporter.exportTenant(t, "acme", "?users=true&password_hashes=true")
		edit := func(fn func(d map[string]any)) []byte {
			var d map[string]any
			if err := json.Unmarshal(good, &d); err != nil {
				t.Fatal(err)
			}
			fn(d)
			b, _ := json.Marshal(d)
			return b
		}
		list := func(d map[string]any, key string) []any { return d[key].([]any) }
		obj := func(d map[string]any, key string, i int) map[string]any { return list(d, key)[i].(map[string]any) }
		user := func(v map[string]any) json.RawMessage { b, _ := json.Marshal(v); return b }
		tenantsBefore := len(exporter.items(t, "/tenants"))
		count := func(table string) int64 {
			var n int64
			sqldb, err := e.store.SQLDB()
			if err != nil {
				t.Fatal(err)
			}
			if err := sqldb.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		rowsBefore := map[string]int64{}
		for _, table := range []string{"tenants", "signing_keys", "clients", "client_grants", "apis", "api_scopes", "roles", "role_permissions",
			"user_groups", "group_roles", "connections", "webhook_endpoints", "users", "group_members", "claim_rules", "tenant_strings", "saml_apps"} {
			rowsBefore[table] = count(table)
		}

		cases := []struct {
			name   string
			body   []byte
			status int
			field  string
			query  string
		}{
			{"not JSON", []byte(`{"format": "gatehouse.tenant",`), 400, "", ""},
			{"trailing data", append(append([]byte{}, good...), []byte(` {}`)...), 400, "", ""},
			{"unknown field", edit(func(d map[string]any) { d["superuser"] = true }), 400, "", ""},
			{"another format", edit(func(d map[string]any) { d["format"] = "keycloak.realm" }), 400, "format", ""},
			{"a future version", edit(func(d map[string]any) { d["version"] = 2 }), 400, "format", ""},
			{"a bad slug", edit(func(d map[string]any) { d["source"].(map[string]any)["slug"] = "../system" }), 400, "", "?slug="},
			{"a script as redirect URI", edit(func(d map[string]any) {
				obj(d, "applications", 0)["redirect_uris"] = []any{"javascript:alert(1)"}
			}), 400, "", ""},
			{"a forged secret hash", edit(func(d map[string]any) {
				for _, a := range list(d, "applications") {
					if a.(map[string]any)["secret_hash"] != nil {
						a.(map[string]any)["secret_hash"] = "not-a-hash"
					}
				}
			}), 400, "", ""},
			{"a secret for a public app", edit(func(d map[string]any) {
				for _, a := range list(d, "applications") {
					if a.(map[string]any)["token_endpoint_auth_method"] == "none" {
						a.(map[string]any)["secret_hash"] = strings.Repeat("a", 64)
					}
				}
			}), 400, "", ""},
			{"a grant of an API it lacks", edit(func(d map[string]any) { obj(d, "apis", 0)["audience"] = "https://other.test" }), 400, "", ""},
			{"a duplicate client_id", edit(func(d map[string]any) {
				d["applications"] = append(list(d, "applications"), list(d, "applications")[0])
			}), 400, "", ""},
			{"a sealed secret from another key", edit(func(d map[string]any) {
				obj(d, "connections", 0)["client_secret_sealed"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			}), 400, "", ""},
			{"a loopback webhook", edit(func(d map[string]any) { obj(d, "webhooks", 0)["url"] = "http://127.0.0.1:1/in" }), 400, "", ""},
			{"a huge name", edit(func(d map[string]any) { d["settings"].(map[string]any)["name"] = strings.Repeat("x", 10000) }), 400, "", ""},
			{"a bad password hash", edit(func(d map[string]any) {
				d["users"] = append(list(d, "users"), user(map[string]any{"email": "x@acme.test", "password_hash": "$2b$31$abc"}))
			}), 400, "", ""},
			// The document's last objects, of this round's kinds, each
			// refused after everything before them was checked.
			{"a claim rule that does not compile", edit(func(d map[string]any) {
				d["claim_rules"] = []any{map[string]any{"name": "ok", "position": 1, "enabled": true, "id_token": map[string]any{"a": "'b'"}},
					map[string]any{"name": "broken", "position": 2, "enabled": true, "id_token": map[string]any{"a": "1 +"}}}
			}), 400, "claim_rules[1]", ""},
			{"two claim rules of one name", edit(func(d map[string]any) {
				r := map[string]any{"name": "twin", "position": 1, "enabled": true, "id_token": map[string]any{"a": "'b'"}}
				d["claim_rules"] = []any{r, r}
			}), 400, "claim_rules[1]", ""},
			{"wording of no message", edit(func(d map[string]any) {
				d["strings"] = []any{map[string]any{"locale": "de", "message_id": "consent.heading", "text": "Ja?"},
					map[string]any{"locale": "de", "message_id": "no.such.message", "text": "x"}}
			}), 400, "strings[1]", ""},
			{"wording naming a variable the message lacks", edit(func(d map[string]any) {
				d["strings"] = []any{map[string]any{"locale": "de", "message_id": "consent.heading", "text": "{{.Password}}"}}
			}), 400, "strings[0]", ""},
			{"a SAML application for a role the document lacks", edit(func(d map[string]any) {
				d["saml_apps"] = []any{map[string]any{"name": "Wiki", "entity_id": "https://wiki.test/sp", "acs": []any{map[string]any{"url": "https://wiki.test/acs"}},
					"name_id_format": "", "name_id_source": "email", "attributes": []any{}, "sign_response": true, "sign_assertion": true,
					"access": "roles", "access_roles": []any{"ghost"}, "enabled": true}}
			}), 400, "saml_apps[0].access_roles", ""},
			{"a SAML application sending assertions over http", edit(func(d map[string]any) {
				d["saml_apps"] = []any{map[string]any{"name": "Wiki", "entity_id": "https://wiki.test/sp", "acs": []any{map[string]any{"url": "http://wiki.test/acs"}},
					"name_id_format": "", "name_id_source": "email", "attributes": []any{}, "sign_response": true, "sign_assertion": true,
					"access": "everyone", "enabled": true}}
			}), 400, "saml_apps[0].acs", ""},
			{"a public resource server", edit(func(d map[string]any) {
				for _, a := range list(d, "applications") {
					if a.(map[string]any)["token_endpoint_auth_method"] == "none" {
						obj(d, "apis", 0)["resource_server_client_id"] = a.(map[string]any)["client_id"]
					}
				}
			}), 400, "apis[0].resource_server_client_id", ""},
			{"consent skipped by a self-registered application", edit(func(d map[string]any) {
				obj(d, "applications", 0)["registered"] = true
				obj(d, "applications", 0)["consent"] = "skip"
			}), 400, "applications[0].consent", ""},
			{"a loopback back-channel logout URI", edit(func(d map[string]any) {
				obj(d, "applications", 0)["backchannel_logout_uri"] = "http://127.0.0.1:1/logout"
			}), 400, "applications[0].backchannel_logout_uri", ""},
			{"a refresh grace period of an hour", edit(func(d map[string]any) { obj(d, "applications", 0)["refresh_token_grace_period"] = 3600 }), 400, "", ""},
			{"a previous secret without its expiry", edit(func(d map[string]any) {
				for _, a := range list(d, "applications") {
					if a.(map[string]any)["secret_hash"] != nil {
						a.(map[string]any)["previous_secret_hash"] = strings.Repeat("b", 64)
					}
				}
			}), 400, "", ""},
			// Fails in the transaction, after the tenant and its objects
			// were written: the same email twice.
			{"two users with one email", edit(func(d map[string]any) {
				d["users"] = append(list(d, "users"), user(map[string]any{"email": "twin@acme.test"}), user(map[string]any{"email": "TWIN@acme.test"}))
			}), 400, "", ""},
		}
		for _, c := range cases {
			if c.query == "" {
				c.query = "?slug=hostile"
			}
			status, _, raw := exporter.raw(t, http.MethodPost, "/tenants/import"+c.query, "application/json", c.body)
			if status != c.status || (c.field != "" && !strings.Contains(string(raw), `"`+c.field)) {
				t.Errorf("%s: %d %s, want %d", c.name, status, raw, c.status)
			}
			if status, _, _ := exporter.raw(t, http.MethodGet, "/tenants/hostile", "", nil); status != http.StatusNotFound {
				t.Fatalf("%s: the tenant exists after a refused import", c.name)
			}
		}
		if n := len(exporter.items(t, "/tenants")); n != tenantsBefore {
			t.Fatalf("tenants after refused imports: %d, want %d", n, tenantsBefore)
		}
		for table, before := range rowsBefore {
			if after := count(table); after != before {
				t.Fatalf("rows of refused imports were left behind in %s: %d, before %d", table, after, before)
			}
		}

		// Only operators import; a tenant admin is refused.
		tenantAdmin := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		if status, _, raw := tenantAdmin.raw(t, http.MethodPost, "/tenants/import?slug=mine", "application/json", good); status != http.StatusForbidden {
			t.Fatalf("tenant admin import: %d %s", status, raw)
		}
		// The good document goes in.
		if status, _, raw := exporter.raw(t, http.MethodPost, "/tenants/import?slug=hostile", "application/json", good); status != http.StatusCreated {
			t.Fatalf("good import: %d %s", status, raw)
		}
	})
}
