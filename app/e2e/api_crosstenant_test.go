package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/admin/api"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// validBodies are well-formed bodies for every route that takes one, so
// that walking the routes fails for the reason under test only. A route
// with a body and no entry here fails the walks: add one.
var validBodies = map[string]any{
	"POST /tenants":                                             map[string]any{"slug": "walked"},
	"POST /tenants/import":                                      map[string]any{"format": "gatehouse.tenant", "version": 1, "source": map[string]any{"slug": "walked-import"}},
	"PATCH /tenants/:slug":                                      map[string]any{"name": "Changed"},
	"POST /tenants/:slug/applications":                          map[string]any{"kind": "machine", "client_name": "walker"},
	"PATCH /tenants/:slug/applications/:client_id":              map[string]any{"client_name": "changed"},
	"POST /tenants/:slug/applications/:client_id/secret":        map[string]any{"grace_period_seconds": 0},
	"PUT /tenants/:slug/applications/:client_id/grants":         []any{},
	"POST /tenants/:slug/apis":                                  map[string]any{"audience": "https://walked.test"},
	"PATCH /tenants/:slug/apis/:id":                             map[string]any{"name": "changed", "scopes": []any{}},
	"POST /tenants/:slug/users":                                 map[string]any{"email": "walker@walked.test", "password": testPassword},
	"PATCH /tenants/:slug/users/:id":                            map[string]any{"name": "changed"},
	"POST /tenants/:slug/users/import":                          map[string]any{"email": "walker-import@walked.test"},
	"POST /tenants/:slug/users/import-jobs":                     map[string]any{"email": "walker-job@walked.test"},
	"PUT /tenants/:slug/users/:id/password":                     map[string]any{"password": "another long password"},
	"POST /tenants/:slug/connections":                           map[string]any{"type": "github", "name": "Walker", "client_id": "walker", "client_secret": "walker-secret"},
	"PATCH /tenants/:slug/connections/:id":                      map[string]any{"name": "Changed"},
	"POST /tenants/:slug/webhooks":                              map[string]any{"url": "https://hooks.walked.test/in", "events": []any{"*"}},
	"POST /tenants/:slug/initial-access-tokens":                 map[string]any{"name": "walker", "uses": 2},
	"PATCH /tenants/:slug/webhooks/:id":                         map[string]any{"events": []any{"user.created"}},
	"POST /tenants/:slug/saml-apps":                             map[string]any{"name": "Walker", "entity_id": "https://walked.test/sp", "acs": []any{map[string]any{"url": "https://walked.test/acs"}}},
	"PATCH /tenants/:slug/saml-apps/:id":                        map[string]any{"name": "Changed"},
	"POST /tenants/:slug/keys/rotate":                           map[string]any{"alg": "ES256", "now": true},
	"PUT /tenants/:slug/keys/rotation":                          map[string]any{"rotation_period": 86400},
	"PATCH /administrators/:id":                                 map[string]any{"scopes": []any{"tenants:read"}},
	"POST /tenants/:slug/roles":                                 map[string]any{"name": "walker"},
	"PATCH /tenants/:slug/roles/:role":                          map[string]any{"description": "changed"},
	"POST /tenants/:slug/users/:id/roles":                       map[string]any{"role": "walker"},
	"POST /tenants/:slug/groups":                                map[string]any{"name": "walkers"},
	"PATCH /tenants/:slug/groups/:id":                           map[string]any{"description": "changed"},
	"POST /tenants/:slug/groups/:id/members":                    map[string]any{"user": "0190aaaa-0000-7000-8000-000000000001"},
	"POST /tenants/:slug/groups/:id/roles":                      map[string]any{"role": "walker"},
	"PATCH /management-clients/:client_id":                      map[string]any{"scopes": []any{"tenants:read"}},
	"PUT /tenants/:slug/strings/:locale/:message":               map[string]any{"text": "Walked {{.App}}"},
	"PUT /tenants/:slug/email-templates/:kind/:locale":          map[string]any{"subject": "Walked", "text": "Open {{link}}"},
	"POST /tenants/:slug/email-templates/:kind/:locale/preview": map[string]any{"subject": "Walked", "text": "Open {{link}}"},
	"POST /tenants/:slug/claim-rules":                           map[string]any{"name": "walker", "id_token": map[string]any{"walked": "true"}},
	"PATCH /tenants/:slug/claim-rules/:id":                      map[string]any{"enabled": false},
	"POST /tenants/:slug/claim-rules/preview":                   map[string]any{"user": "0190aaaa-0000-7000-8000-000000000001", "client": "no-such-client"},
	"POST /tenants/:slug/domains":                               map[string]any{"domain": "walked.example.org"},
	"PUT /tenants/:slug/connections/:id/group-mappings":         map[string]any{"mappings": []any{}},
	"POST /tenants/:slug/users/invite":                          map[string]any{"email": "invited@example.test"},
}

// naturalKeys name an object by what it is, not by an id of its own: a
// tenant's wording of a message in a language. Under acme's slug they name
// acme's object, so only beta's slug is walked with them.
var naturalKeys = map[string]bool{"strings/locale": true, "email-templates/kind": true}

func bodyFor(t *testing.T, r api.Route) any {
	t.Helper()
	if r.Body == nil {
		return nil
	}
	b, ok := validBodies[routeKey(r)]
	if !ok {
		t.Fatalf("%s takes a body: add a valid one to validBodies", routeKey(r))
	}
	return b
}

// snapshot returns what the API shows of f's tenant: settings, applications,
// APIs, keys, connections, users with their sessions and consents.
func snapshot(t *testing.T, c *apiClient, f *fixture) string {
	t.Helper()
	var b strings.Builder
	get := func(p string) {
		status, _, raw := c.raw(t, http.MethodGet, p, "", nil)
		if status != http.StatusOK {
			t.Fatalf("snapshot %s: %d %s", p, status, raw)
		}
		b.Write(raw)
		b.WriteByte('\n')
	}
	base := "/tenants/" + f.slug
	for _, p := range []string{"", "/applications?limit=200", "/apis?limit=200", "/keys", "/connections?limit=200", "/users?limit=200", "/roles?limit=200", "/groups?limit=200", "/strings", "/claim-rules", "/saml-apps?limit=200", "/domains"} {
		get(base + p)
	}
	for _, u := range c.items(t, base+"/users?limit=200") {
		id := u["id"].(string)
		get(base + "/users/" + id + "/sessions")
		get(base + "/users/" + id + "/consents")
		get(base + "/users/" + id + "/roles")
		get(base + "/users/" + id + "/groups")
		get(base + "/users/" + id + "/factors")
	}
	for _, g := range c.items(t, base+"/groups?limit=200") {
		id := g["id"].(string)
		get(base + "/groups/" + id + "/members")
		get(base + "/groups/" + id + "/roles")
	}
	return b.String()
}

// objectParams counts the path parameters other than the tenant's slug.
func objectParams(p string) []string {
	var out []string
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, ":"); ok && name != "slug" {
			out = append(out, parts[i-1]+"/"+name)
		}
	}
	return out
}

func with(ids map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range ids {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestAPICrossTenantWalk walks every route of the API as the admin of
// tenant acme against tenant beta: with beta's slug, and with beta's object
// ids under acme's slug. Every call answers 404, exactly as a made-up slug
// or id does, and beta is unchanged afterwards. An operator reaches both.
func TestAPICrossTenantWalk(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, b := e.fixture("acme"), e.fixture("beta")
		tokB, _ := b.codeFlow(e.browser(), b.web, []string{"openid", "offline_access"})
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		idsOf := func(f *fixture) map[string]string {
			base := "/tenants/" + f.slug
			adm, mc := e.principalsOf(t, f.slug)
			ids := map[string]string{"slug": f.slug, "applications/client_id": f.web.ClientID, "apis/id": op.items(t, base+"/apis")[0]["id"].(string),
				"users/id": f.userID, "consents/client_id": f.web.ClientID, "sessions/session_id": "no-session",
				"connections/id": e.addConnection(t, f, "GitHub").ID, "administrators/id": adm, "management-clients/client_id": mc,
				"members/user": f.userID}
			// A role the user holds directly and through a group.
			role := op.must(t, http.StatusCreated, http.MethodPost, base+"/roles", map[string]any{"name": "clerk"})
			group := op.must(t, http.StatusCreated, http.MethodPost, base+"/groups", map[string]any{"name": "staff"})
			ids["roles/role"], ids["groups/id"] = role["id"].(string), group["id"].(string)
			op.must(t, http.StatusOK, http.MethodPost, base+"/users/"+f.userID+"/roles", map[string]any{"role": ids["roles/role"]})
			op.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+ids["groups/id"]+"/members", map[string]any{"user": f.userID})
			op.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+ids["groups/id"]+"/roles", map[string]any{"role": ids["roles/role"]})
			ids["webhooks/id"], ids["deliveries/delivery"] = e.addWebhook(t, f)
			// The same SP in both tenants: its entity ID names nothing across them.
			ids["saml-apps/id"] = op.must(t, http.StatusCreated, http.MethodPost, base+"/saml-apps", map[string]any{"name": "Expenses",
				"entity_id": "https://expenses.example.com/sp", "acs": []any{map[string]any{"url": "https://expenses.example.com/acs"}}})["id"].(string)
			ids["initial-access-tokens/id"] = op.must(t, http.StatusCreated, http.MethodPost, base+"/initial-access-tokens", map[string]any{"name": "walked"})["id"].(string)
			ids["strings/locale"], ids[":locale/message"] = "de", "consent.heading"
			ids["email-templates/kind"], ids[":kind/locale"] = "reset", "de"
			if f == b {
				op.must(t, http.StatusOK, http.MethodPut, base+"/email-templates/reset/de", map[string]any{"subject": "Beta", "text": "Beta {{link}}"})
			}
			if f == b {
				op.must(t, http.StatusOK, http.MethodPut, base+"/strings/de/consent.heading", map[string]any{"text": "Beta bittet: {{.App}}"})
			}
			rule := op.must(t, http.StatusCreated, http.MethodPost, base+"/claim-rules", map[string]any{"name": "plan", "id_token": map[string]any{"plan": "'gold'"}})
			ids["claim-rules/id"] = rule["id"].(string)
			ids["domains/domain"] = op.must(t, http.StatusCreated, http.MethodPost, base+"/domains", map[string]any{"domain": "login." + f.slug + ".example.org"})["domain"].(string)
			// A passkey of the user, for the factor routes.
			fac := &tenants.MFAFactor{UserID: f.userID, Type: tenants.FactorWebAuthn, Name: "Key", CredentialID: "cred-" + f.slug, Credential: "{}", Confirmed: true}
			if err := e.store.CreateFactor(tenants.WithTenant(context.Background(), f.tenant), fac); err != nil {
				t.Fatal(err)
			}
			ids["factors/factor"] = fac.ID
			// A linked identity of the user, for the identity routes.
			conn := e.addConnection(t, f, "GitHub Walk")
			x := &tenants.ExternalIdentity{UserID: f.userID, ConnectionID: conn.ID, Issuer: "https://github.com", Subject: "walk-" + f.slug}
			if err := e.store.CreateExternalIdentity(tenants.WithTenant(context.Background(), f.tenant), x); err != nil {
				t.Fatal(err)
			}
			ids["identities/identity"] = x.ID
			if status, _, raw := op.raw(t, http.MethodPost, base+"/users/import-jobs", "application/x-ndjson", nil); status == http.StatusAccepted {
				var j map[string]any
				_ = json.Unmarshal(raw, &j)
				ids["import-jobs/id"], _ = j["id"].(string)
			}
			if ss := op.items(t, base+"/users/"+f.userID+"/sessions"); len(ss) > 0 {
				ids["sessions/session_id"] = ss[0]["id"].(string)
			}
			return ids
		}
		aIDs, bIDs := idsOf(a), idsOf(b)
		if bIDs["sessions/session_id"] == "no-session" {
			t.Fatal("beta's user has no session")
		}
		made := map[string]string{"slug": "no-such-tenant", "applications/client_id": "no-such-client", "apis/id": "0190aaaa-0000-7000-8000-000000000000",
			"users/id": "0190aaaa-0000-7000-8000-000000000001", "consents/client_id": "no-such-client", "sessions/session_id": "00000000000000000000",
			"connections/id": "0190aaaa-0000-7000-8000-000000000002", "administrators/id": "0190aaaa-0000-7000-8000-000000000003",
			"management-clients/client_id": "no-such-client", "roles/role": "0190aaaa-0000-7000-8000-000000000004",
			"groups/id": "0190aaaa-0000-7000-8000-000000000005", "members/user": "0190aaaa-0000-7000-8000-000000000001",
			"webhooks/id": "0190aaaa-0000-7000-8000-000000000006", "deliveries/delivery": "0190aaaa-0000-7000-8000-000000000007",
			"import-jobs/id": "0190aaaa-0000-7000-8000-000000000008", "initial-access-tokens/id": "0190aaaa-0000-7000-8000-000000000009", "strings/locale": "de", ":locale/message": "login.title", "email-templates/kind": "verify", ":kind/locale": "fr", "claim-rules/id": "0190aaaa-0000-7000-8000-00000000000b",
			"factors/factor": "0190aaaa-0000-7000-8000-00000000000a", "identities/identity": "0190aaaa-0000-7000-8000-00000000000c", "saml-apps/id": "0190aaaa-0000-7000-8000-000000000010",
			"domains/domain": "login.nobody.example.org"}
		// Operators: no tenant admin reaches them.
		opAdmin, opClient := e.principalsOf(t, "")
		opIDs := with(made, "administrators/id", opAdmin, "management-clients/client_id", opClient)
		before := snapshot(t, op, b)
		principals := func() string {
			var out strings.Builder
			for _, p := range []string{"/administrators/" + bIDs["administrators/id"], "/management-clients/" + bIDs["management-clients/client_id"],
				"/administrators/" + opAdmin, "/management-clients/" + opClient} {
				_, _, raw := op.raw(t, http.MethodGet, p, "", nil)
				out.Write(raw)
			}
			return out.String()
		}
		principalsBefore := principals()
		lastB := op.items(t, "/tenants/beta/audit?limit=1")[0]["id"]

		adminA := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		calls := 0
		check := func(r api.Route, ids, fake map[string]string) {
			t.Helper()
			path := fill(r.Path, ids)
			status, hdr, body := adminA.do(t, r.Method, path, bodyFor(t, r))
			wantProblem(t, r.Method+" "+path, status, hdr, body, http.StatusNotFound, "")
			_, _, fakeBody := adminA.do(t, r.Method, fill(r.Path, fake), bodyFor(t, r))
			if fmtAny(body) != fmtAny(fakeBody) {
				t.Fatalf("%s %s: beta's answer %v differs from a made-up one's %v", r.Method, path, body, fakeBody)
			}
			calls++
		}
		for _, r := range apiRoutes() {
			if !strings.Contains(r.Path, ":slug") {
				// Administrators and management clients: beta's, and
				// operators, against made-up ones.
				if len(objectParams(r.Path)) > 0 {
					check(r, bIDs, made)
					check(r, opIDs, made)
				}
				continue
			}
			// Beta's slug (and beta's ids), against a slug that does not exist.
			check(r, bIDs, with(bIDs, "slug", made["slug"]))
			params := objectParams(r.Path)
			if len(params) == 0 || naturalKeys[params[0]] {
				continue
			}
			// Acme's slug with beta's ids, against made-up ids.
			check(r, with(bIDs, "slug", "acme"), with(made, "slug", "acme"))
			// Acme's slug and objects, beta's innermost id.
			if len(params) > 1 {
				last := params[len(params)-1]
				check(r, with(aIDs, last, bIDs[last]), with(aIDs, last, made[last]))
			}
		}
		if calls < len(apiRoutes()) {
			t.Fatalf("only %d calls for %d routes", calls, len(apiRoutes()))
		}
		// The routes without a tenant: acme's admin lists acme only, and
		// creates no tenant.
		if ts := adminA.items(t, "/tenants"); len(ts) != 1 || ts[0]["slug"] != "acme" {
			t.Fatalf("acme's admin lists %v", ts)
		}
		status, hdr, body := adminA.do(t, http.MethodPost, "/tenants", validBodies["POST /tenants"])
		wantProblem(t, "acme's admin creating a tenant", status, hdr, body, http.StatusForbidden, "")
		// It lists acme's administrators and management clients only.
		for _, a := range adminA.items(t, "/administrators") {
			if a["user"].(map[string]any)["id"] != aIDs["administrators/id"] {
				t.Fatalf("acme's admin lists %v", a)
			}
		}
		for _, c := range adminA.items(t, "/management-clients") {
			if id := c["client_id"]; id != aIDs["management-clients/client_id"] && id != adminA.clientID {
				t.Fatalf("acme's admin lists %v", c)
			}
		}
		if after := principals(); after != principalsBefore {
			t.Fatalf("beta's principals or the operators changed:\nbefore %s\nafter  %s", principalsBefore, after)
		}

		// Beta is as it was; its log holds the denied attempts, nothing else.
		if after := snapshot(t, op, b); after != before {
			t.Fatalf("beta changed:\nbefore %s\nafter  %s", before, after)
		}
		for _, ev := range op.items(t, "/tenants/beta/audit?limit=200") {
			if ev["id"] == lastB {
				break
			}
			if ev["action"] != admin.ActionCrossTenantDenied || ev["outcome"] != "denied" || ev["actor_id"] != adminA.clientID {
				t.Fatalf("beta's log after the walk: %v", ev)
			}
		}
		if status, _ := b.refresh(tokB.RefreshToken); status != http.StatusOK {
			t.Fatalf("beta's refresh token after the walk: %d", status)
		}

		// An operator reads both tenants on every read route.
		for _, r := range apiRoutes() {
			if r.Method != http.MethodGet {
				continue
			}
			for _, ids := range []map[string]string{aIDs, bIDs} {
				if status, _, raw := op.raw(t, r.Method, fill(r.Path, ids), "", nil); status != http.StatusOK {
					t.Fatalf("operator %s %s: %d %s", r.Method, fill(r.Path, ids), status, raw)
				}
			}
		}
	})
}
