package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestAPIAuditTrail makes every change the API offers, once, and checks
// that each wrote an audit event naming the actor, the tenant and the
// target, with the resource before and after where that applies, and that
// no event (and no answer) holds a secret, a password or a hash.
func TestAPIAuditTrail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		c := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		type want struct {
			action, target string
			before, after  bool
		}
		var wants []want
		done := map[string]bool{}
		did := func(route, action, target string, before, after bool) {
			done[route] = true
			wants = append(wants, want{action, target, before, after})
		}
		var secrets []string
		passwords := []string{testPassword, "a brand new passphrase"}

		tv := c.must(t, http.StatusCreated, http.MethodPost, "/tenants", map[string]any{"slug": "gamma", "name": "Gamma"})
		gamma := tv["id"].(string)
		did("POST /tenants", admin.ActionTenantCreated, gamma, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/gamma", map[string]any{"name": "Gamma Inc", "accent_color": "#123456"})
		did("PATCH /tenants/:slug", admin.ActionTenantUpdated, gamma, true, true)
		c.must(t, http.StatusOK, http.MethodPut, "/tenants/gamma/strings/de/consent.heading", map[string]any{"text": "{{.App}} bittet"})
		did("PUT /tenants/:slug/strings/:locale/:message", admin.ActionTenantUpdated, "de/consent.heading", false, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, "/tenants/gamma/strings/de/consent.heading", nil)
		did("DELETE /tenants/:slug/strings/:locale/:message", admin.ActionTenantUpdated, "de/consent.heading", true, false)
		c.must(t, http.StatusOK, http.MethodPut, "/tenants/gamma/email-templates/reset/de", map[string]any{"subject": "Neues Passwort", "text": "{{link}}"})
		did("PUT /tenants/:slug/email-templates/:kind/:locale", admin.ActionEmailTemplateSet, "reset/de", false, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, "/tenants/gamma/email-templates/reset/de", nil)
		did("DELETE /tenants/:slug/email-templates/:kind/:locale", admin.ActionEmailTemplateDeleted, "reset/de", true, false)
		// A preview records nothing.
		c.must(t, http.StatusOK, http.MethodPost, "/tenants/gamma/email-templates/reset/de/preview", map[string]any{"subject": "Vorschau", "text": "{{link}}"})
		done["POST /tenants/:slug/email-templates/:kind/:locale/preview"] = true

		base := "/tenants/gamma"
		av := c.must(t, http.StatusCreated, http.MethodPost, base+"/apis", map[string]any{"audience": "https://api.gamma.test", "scopes": []any{map[string]any{"value": "read"}}})
		apiID := av["id"].(string)
		did("POST /tenants/:slug/apis", admin.ActionAPICreated, apiID, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/apis/"+apiID, map[string]any{"scopes": []any{map[string]any{"value": "read"}, map[string]any{"value": "write"}}})
		did("PATCH /tenants/:slug/apis/:id", admin.ActionAPIUpdated, apiID, true, true)

		cv := c.must(t, http.StatusCreated, http.MethodPost, base+"/applications", map[string]any{"kind": "web", "client_name": "Gamma web", "redirect_uris": []string{redirectURI}})
		cid := cv["client_id"].(string)
		secrets = append(secrets, cv["client_secret"].(string))
		did("POST /tenants/:slug/applications", admin.ActionClientCreated, cid, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/applications/"+cid, map[string]any{"client_name": "Gamma portal"})
		did("PATCH /tenants/:slug/applications/:client_id", admin.ActionClientUpdated, cid, true, true)
		c.must(t, http.StatusOK, http.MethodPut, base+"/applications/"+cid+"/grants", []any{map[string]any{"audience": "https://api.gamma.test", "scopes": []string{"read"}}})
		did("PUT /tenants/:slug/applications/:client_id/grants", admin.ActionClientGrants, cid, true, true)
		rv := c.must(t, http.StatusOK, http.MethodPost, base+"/applications/"+cid+"/secret", map[string]any{"grace_period_seconds": 60})
		secrets = append(secrets, rv["client_secret"].(string))
		did("POST /tenants/:slug/applications/:client_id/secret", admin.ActionClientSecret, cid, false, true)

		uv := c.must(t, http.StatusCreated, http.MethodPost, base+"/users", map[string]any{"email": "gil@gamma.test", "password": passwords[0]})
		uid := uv["id"].(string)
		did("POST /tenants/:slug/users", admin.ActionUserCreated, uid, false, true)
		if st, _, rep := c.raw(t, http.MethodPost, base+"/users/import", "application/x-ndjson", []byte(`{"email":"imported@gamma.test","name":"Imp"}`+"\n")); st != http.StatusOK {
			t.Fatalf("import: %d %s", st, rep)
		}
		did("POST /tenants/:slug/users/import", admin.ActionUsersImported, gamma, false, true)
		if st, _, rep := c.raw(t, http.MethodPost, base+"/users/import-jobs", "application/x-ndjson", []byte(`{"email":"job@gamma.test"}`+"\n")); st != http.StatusAccepted {
			t.Fatalf("import job: %d %s", st, rep)
		} else {
			var j map[string]any
			_ = json.Unmarshal(rep, &j)
			did("POST /tenants/:slug/users/import-jobs", admin.ActionUsersImportStarted, fmt.Sprint(j["id"]), false, true)
		}
		c.must(t, http.StatusOK, http.MethodPatch, base+"/users/"+uid, map[string]any{"name": "Gil"})
		did("PATCH /tenants/:slug/users/:id", admin.ActionUserUpdated, uid, true, true)
		c.must(t, http.StatusOK, http.MethodPost, base+"/users/"+uid+"/disable", nil)
		did("POST /tenants/:slug/users/:id/disable", admin.ActionUserDisabled, uid, true, true)
		c.must(t, http.StatusOK, http.MethodPost, base+"/users/"+uid+"/enable", nil)
		did("POST /tenants/:slug/users/:id/enable", admin.ActionUserEnabled, uid, true, true)
		c.must(t, http.StatusNoContent, http.MethodPut, base+"/users/"+uid+"/password", map[string]any{"password": passwords[1]})
		did("PUT /tenants/:slug/users/:id/password", admin.ActionUserPassword, uid, false, false)

		// Gil signs in to the web app: a session and a consent to end.
		g := &fixture{e: e, slug: "gamma", issuer: tv["issuer"].(string), email: "gil@gamma.test", password: passwords[1]}
		g.codeFlow(e.browser(), &admin.Client{ClientID: cid, ClientSecret: rv["client_secret"].(string)}, []string{"openid"})
		sess := c.items(t, base+"/users/"+uid+"/sessions")[0]["id"].(string)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+uid+"/sessions/"+sess, nil)
		did("DELETE /tenants/:slug/users/:id/sessions/:session_id", admin.ActionSessionRevoked, uid, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+uid+"/consents/"+cid, nil)
		did("DELETE /tenants/:slug/users/:id/consents/:client_id", admin.ActionConsentRevoked, uid, true, false)
		// A lost passkey removed; a reset email sent.
		fac := &tenants.MFAFactor{UserID: uid, Type: tenants.FactorWebAuthn, Name: "Key", CredentialID: "cred-gamma", Credential: "{}", Confirmed: true}
		if err := e.store.CreateFactor(tenants.WithTenant(context.Background(), &tenants.Tenant{ID: gamma}), fac); err != nil {
			t.Fatal(err)
		}
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+uid+"/factors/"+fac.ID, nil)
		did("DELETE /tenants/:slug/users/:id/factors/:factor", admin.ActionUserFactorRemoved, uid, true, false)
		c.must(t, http.StatusAccepted, http.MethodPost, base+"/users/"+uid+"/password-reset", nil)
		did("POST /tenants/:slug/users/:id/password-reset", admin.ActionUserPasswordResetSent, uid, false, true)
		// A claim rule: made, previewed (which records nothing), changed, deleted.
		rule := c.must(t, http.StatusCreated, http.MethodPost, base+"/claim-rules", map[string]any{"name": "plan", "id_token": map[string]any{"plan": "'gold'"}})
		ruleID := rule["id"].(string)
		did("POST /tenants/:slug/claim-rules", admin.ActionClaimRuleCreated, ruleID, false, true)
		c.must(t, http.StatusOK, http.MethodPost, base+"/claim-rules/preview", map[string]any{"user": uid, "client": cid})
		done["POST /tenants/:slug/claim-rules/preview"] = true
		c.must(t, http.StatusOK, http.MethodPatch, base+"/claim-rules/"+ruleID, map[string]any{"enabled": false})
		did("PATCH /tenants/:slug/claim-rules/:id", admin.ActionClaimRuleUpdated, ruleID, true, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/claim-rules/"+ruleID, nil)
		did("DELETE /tenants/:slug/claim-rules/:id", admin.ActionClaimRuleDeleted, ruleID, true, false)

		kv := c.must(t, http.StatusOK, http.MethodPost, base+"/keys/rotate", nil)
		did("POST /tenants/:slug/keys/rotate", admin.ActionKeyRotated, kv["kid"].(string), false, true)
		c.must(t, http.StatusOK, http.MethodPut, base+"/keys/rotation", map[string]any{"rotation_period": 30 * 24 * 3600})
		did("PUT /tenants/:slug/keys/rotation", admin.ActionKeyRotationSet, gamma, true, true)

		// A connection; its upstream client secrets are never shown at all.
		upstream := []string{"upstream-" + secret.Token(16), "upstream-" + secret.Token(16)}
		conn := c.must(t, http.StatusCreated, http.MethodPost, base+"/connections", map[string]any{"type": "github", "client_id": "gamma-gh",
			"client_secret": upstream[0], "domains": []string{"gamma.test"}})
		connID := conn["id"].(string)
		did("POST /tenants/:slug/connections", admin.ActionConnectionCreated, connID, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/connections/"+connID, map[string]any{"name": "GitHub SSO", "client_secret": upstream[1]})
		did("PATCH /tenants/:slug/connections/:id", admin.ActionConnectionUpdated, connID, true, true)
		// An identity it brought, unlinked; an invitation, and a
		// verification email to the invited address.
		x := &tenants.ExternalIdentity{UserID: uid, ConnectionID: connID, Issuer: "https://github.com", Subject: "gamma-77"}
		if err := e.store.CreateExternalIdentity(tenants.WithTenant(context.Background(), &tenants.Tenant{ID: gamma}), x); err != nil {
			t.Fatal(err)
		}
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+uid+"/identities/"+x.ID, nil)
		did("DELETE /tenants/:slug/users/:id/identities/:identity", admin.ActionUserIdentityUnlinked, uid, true, false)
		invited := c.must(t, http.StatusCreated, http.MethodPost, base+"/users/invite", map[string]any{"email": "invited@gamma.test"})["id"].(string)
		did("POST /tenants/:slug/users/invite", admin.ActionUserInvited, invited, false, true)
		c.must(t, http.StatusAccepted, http.MethodPost, base+"/users/"+invited+"/verification-email", nil)
		did("POST /tenants/:slug/users/:id/verification-email", admin.ActionUserVerificationSent, invited, false, true)

		// A connection's group mapping (an empty one: the connection
		// here is a social one).
		c.must(t, http.StatusOK, http.MethodPut, base+"/connections/"+connID+"/group-mappings", map[string]any{"mappings": []any{}})
		did("PUT /tenants/:slug/connections/:id/group-mappings", admin.ActionConnectionGroupsMapped, connID, true, true)
		// A custom domain, added and removed; verifying one needs its TXT
		// record, which TestCustomDomainIssuesTokensWithItsIssuer serves
		// and checks the audit of.
		c.must(t, http.StatusCreated, http.MethodPost, base+"/domains", map[string]any{"domain": "login.gamma.example.org"})
		did("POST /tenants/:slug/domains", admin.ActionDomainAdded, "login.gamma.example.org", false, true)
		done["POST /tenants/:slug/domains/:domain/verify"] = true
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/domains/login.gamma.example.org", nil)
		did("DELETE /tenants/:slug/domains/:domain", admin.ActionDomainRemoved, "login.gamma.example.org", true, false)

		// An initial access token: shown at creation only.
		iv := c.must(t, http.StatusCreated, http.MethodPost, base+"/initial-access-tokens", map[string]any{"name": "ci", "uses": 3})
		iid := iv["id"].(string)
		secrets = append(secrets, iv["token"].(string))
		did("POST /tenants/:slug/initial-access-tokens", admin.ActionInitialTokenCreated, iid, false, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/initial-access-tokens/"+iid, nil)
		did("DELETE /tenants/:slug/initial-access-tokens/:id", admin.ActionInitialTokenDeleted, iid, false, false)

		// A webhook endpoint: its secret shown at creation and rotation only.
		hv := c.must(t, http.StatusCreated, http.MethodPost, base+"/webhooks", map[string]any{"url": "https://hooks.gamma.test/in", "events": []string{"*"}})
		hid := hv["id"].(string)
		secrets = append(secrets, hv["secret"].(string))
		did("POST /tenants/:slug/webhooks", tenants.ActionWebhookCreated, hid, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/webhooks/"+hid, map[string]any{"events": []string{"*", "user.created"}})
		did("PATCH /tenants/:slug/webhooks/:id", tenants.ActionWebhookUpdated, hid, true, true)
		hr := c.must(t, http.StatusOK, http.MethodPost, base+"/webhooks/"+hid+"/rotate-secret", nil)
		secrets = append(secrets, hr["secret"].(string))
		did("POST /tenants/:slug/webhooks/:id/rotate-secret", tenants.ActionWebhookSecretRotated, hid, false, true)
		hd := c.items(t, base+"/webhooks/"+hid+"/deliveries")[0]["id"].(string)
		c.must(t, http.StatusAccepted, http.MethodPost, base+"/webhooks/"+hid+"/deliveries/"+hd+"/redeliver", nil)
		did("POST /tenants/:slug/webhooks/:id/deliveries/:delivery/redeliver", tenants.ActionWebhookRedelivered, hid, false, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/webhooks/"+hid, nil)
		did("DELETE /tenants/:slug/webhooks/:id", tenants.ActionWebhookDeleted, hid, true, false)
		sa := c.must(t, http.StatusCreated, http.MethodPost, base+"/saml-apps", map[string]any{"name": "Expenses", "entity_id": "urn:expenses",
			"acs": []any{map[string]any{"url": "https://expenses.gamma.test/acs"}}})
		said := sa["id"].(string)
		did("POST /tenants/:slug/saml-apps", admin.ActionSAMLAppCreated, said, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/saml-apps/"+said, map[string]any{"name": "Expenses EU"})
		did("PATCH /tenants/:slug/saml-apps/:id", admin.ActionSAMLAppUpdated, said, true, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/saml-apps/"+said, nil)
		did("DELETE /tenants/:slug/saml-apps/:id", admin.ActionSAMLAppDeleted, said, true, false)

		// An administrator and a management client of gamma: narrowed,
		// then deleted, each change in gamma's log too.
		adm, mc := e.principalsOf(t, "gamma")
		c.must(t, http.StatusOK, http.MethodPatch, "/administrators/"+adm, map[string]any{"scopes": []string{"tenants:read"}})
		did("PATCH /administrators/:id", admin.ActionAdminUpdated, adm, true, true)
		c.must(t, http.StatusOK, http.MethodPatch, "/management-clients/"+mc, map[string]any{"scopes": []string{"tenants:read"}})
		did("PATCH /management-clients/:client_id", admin.ActionAdminClientUpdated, mc, true, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, "/administrators/"+adm, nil)
		did("DELETE /administrators/:id", admin.ActionAdminDeleted, adm, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, "/management-clients/"+mc, nil)
		did("DELETE /management-clients/:client_id", admin.ActionAdminClientDeleted, mc, true, false)

		// A role and a group: made, given, taken and deleted.
		role := c.must(t, http.StatusCreated, http.MethodPost, base+"/roles", map[string]any{"name": "clerk",
			"permissions": []any{map[string]any{"audience": "https://api.gamma.test", "scope": "read"}}})
		roleID := role["id"].(string)
		did("POST /tenants/:slug/roles", admin.ActionRoleCreated, roleID, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/roles/"+roleID, map[string]any{"description": "Reads"})
		did("PATCH /tenants/:slug/roles/:role", admin.ActionRoleUpdated, roleID, true, true)
		c.must(t, http.StatusOK, http.MethodPost, base+"/users/"+uid+"/roles", map[string]any{"role": "clerk"})
		did("POST /tenants/:slug/users/:id/roles", admin.ActionUserRoleAdded, uid, false, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+uid+"/roles/"+roleID, nil)
		did("DELETE /tenants/:slug/users/:id/roles/:role", admin.ActionUserRoleRemoved, uid, true, false)
		group := c.must(t, http.StatusCreated, http.MethodPost, base+"/groups", map[string]any{"name": "staff"})
		groupID := group["id"].(string)
		did("POST /tenants/:slug/groups", admin.ActionGroupCreated, groupID, false, true)
		c.must(t, http.StatusOK, http.MethodPatch, base+"/groups/"+groupID, map[string]any{"description": "Everyone"})
		did("PATCH /tenants/:slug/groups/:id", admin.ActionGroupUpdated, groupID, true, true)
		c.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+groupID+"/members", map[string]any{"user": uid})
		did("POST /tenants/:slug/groups/:id/members", admin.ActionGroupMemberAdded, groupID, false, true)
		c.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+groupID+"/roles", map[string]any{"role": roleID})
		did("POST /tenants/:slug/groups/:id/roles", admin.ActionGroupRoleAdded, groupID, false, true)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/groups/"+groupID+"/roles/clerk", nil)
		did("DELETE /tenants/:slug/groups/:id/roles/:role", admin.ActionGroupRoleRemoved, groupID, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/groups/"+groupID+"/members/"+uid, nil)
		did("DELETE /tenants/:slug/groups/:id/members/:user", admin.ActionGroupMemberRemove, groupID, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/groups/staff", nil)
		did("DELETE /tenants/:slug/groups/:id", admin.ActionGroupDeleted, groupID, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/roles/clerk", nil)
		did("DELETE /tenants/:slug/roles/:role", admin.ActionRoleDeleted, roleID, true, false)

		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/applications/"+cid, nil)
		did("DELETE /tenants/:slug/applications/:client_id", admin.ActionClientDeleted, cid, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/apis/"+apiID, nil)
		did("DELETE /tenants/:slug/apis/:id", admin.ActionAPIDeleted, apiID, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+uid, nil)
		did("DELETE /tenants/:slug/users/:id", admin.ActionUserDeleted, uid, true, false)
		c.must(t, http.StatusNoContent, http.MethodDelete, base+"/connections/"+connID, nil)
		did("DELETE /tenants/:slug/connections/:id", admin.ActionConnectionDeleted, connID, true, false)

		// The log, oldest first, holds the events in the order of the calls.
		events := c.items(t, base+"/audit?limit=200")
		slices.Reverse(events)
		checkEvents := func(events []map[string]any, wants []want) {
			t.Helper()
			i := 0
			for _, w := range wants {
				for i < len(events) && (events[i]["action"] != w.action || events[i]["target_id"] != w.target) {
					i++
				}
				if i == len(events) {
					t.Fatalf("no event %s of %s (in order)", w.action, w.target)
				}
				ev := events[i]
				if ev["actor_kind"] != admin.KindClient || ev["actor_id"] != c.clientID || ev["actor_name"] != "ci" || ev["tenant_id"] != gamma ||
					ev["outcome"] != "success" || ev["ip_address"] == nil || ev["request_id"] == nil || ev["time"] == nil {
					t.Fatalf("event %s lacks who, where or when: %v", w.action, ev)
				}
				if (ev["before"] != nil) != w.before || (ev["after"] != nil) != w.after {
					t.Fatalf("event %s: before %v after %v, want before %v after %v", w.action, ev["before"], ev["after"], w.before, w.after)
				}
				i++
			}
		}
		checkEvents(events, wants)

		// An export is audited at its tenant, an import at the tenant it
		// makes. Another client does both: an export with secrets carries
		// their hashes, which c's answers must not.
		ops := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		doc := ops.exportTenant(t, "gamma", "")
		if status, _, raw := ops.raw(t, http.MethodPost, "/tenants/import?slug=gamma-copy", "application/json", doc); status != http.StatusCreated {
			t.Fatalf("import of gamma: %d %s", status, raw)
		}
		done["POST /tenants/import"] = true
		if evs := ops.items(t, "/tenants/gamma-copy/audit?action=tenant.imported"); len(evs) != 1 || evs[0]["actor_id"] != ops.clientID || evs[0]["after"] == nil {
			t.Fatalf("tenant.imported: %v", evs)
		}
		if evs := ops.items(t, "/tenants/gamma/audit?action=tenant.exported"); len(evs) != 1 || evs[0]["actor_id"] != ops.clientID {
			t.Fatalf("tenant.exported: %v", evs)
		}

		// Deleting the tenant is the last event of its log, which the API
		// no longer shows: read it from the store.
		c.must(t, http.StatusNoContent, http.MethodDelete, base, nil)
		did("DELETE /tenants/:slug", admin.ActionTenantDeleted, gamma, true, false)
		evs, err := e.store.ListAudit(tenants.WithTenant(context.Background(), &tenants.Tenant{ID: gamma}), tenants.AuditFilter{Action: "tenant.deleted"})
		if err != nil || len(evs) != 1 || evs[0].ActorID != c.clientID || evs[0].Before == "" {
			t.Fatalf("tenant.deleted event: %v %+v", err, evs)
		}
		for _, r := range writeRoutes() {
			if !done[routeKey(r)] {
				t.Errorf("%s was not exercised: add it to this test", routeKey(r))
			}
		}

		// Nothing secret in the log nor in any answer.
		var texts []string
		for _, ev := range events {
			b, _ := json.Marshal(ev)
			texts = append(texts, string(b))
		}
		for _, ev := range evs {
			texts = append(texts, ev.Before, ev.After)
		}
		noSecretsIn(t, texts, append(append(slices.Clone(secrets), passwords...), upstream...), 0)
		noSecretsIn(t, *c.transcript, secrets, 1)
		noSecretsIn(t, *c.transcript, append(slices.Clone(passwords), upstream...), 0)
		for _, x := range texts {
			if strings.Contains(x, `"client_secret"`) { // has_client_secret is a fact, not a secret
				t.Fatalf("an event names a client secret: %s", x)
			}
		}
	})
}

// TestAPIAuditLog pages, filters and exports a tenant's audit log.
func TestAPIAuditLog(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		for i := range 4 {
			c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/users/"+f.userID, map[string]any{"name": "Ann " + string(rune('A'+i))})
		}
		all := c.items(t, "/tenants/acme/audit?limit=200")
		if len(all) < 10 {
			t.Fatalf("%d events", len(all))
		}
		// Newest first, and pages of 3 walk the same list.
		var paged []any
		before := ""
		for {
			p := c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/audit?limit=3&before="+url.QueryEscape(before), nil)
			for _, ev := range objects(t, p["items"]) {
				paged = append(paged, ev["id"])
			}
			n, _ := p["next"].(string)
			if n == "" {
				break
			}
			before = n
		}
		var ids []any
		for i, ev := range all {
			ids = append(ids, ev["id"])
			if i > 0 && parseTime(t, ev["time"]).After(parseTime(t, all[i-1]["time"])) {
				t.Fatalf("not newest first: %v after %v", ev["time"], all[i-1]["time"])
			}
		}
		if fmtAny(paged) != fmtAny(ids) {
			t.Fatalf("pages %v\nall   %v", paged, ids)
		}
		// Filters.
		count := func(q string) int { return len(c.items(t, "/tenants/acme/audit?limit=200&"+q)) }
		if n := count("action=user.updated"); n != 4 {
			t.Fatalf("action=user.updated: %d", n)
		}
		if n := count("action=client."); n != 3 {
			t.Fatalf("action=client.: %d", n)
		}
		if n := count("actor=" + url.QueryEscape(c.clientID)); n != 4 {
			t.Fatalf("actor: %d", n)
		}
		if n := count("target=" + f.userID); n != 5 {
			t.Fatalf("target (created and 4 updates): %d", n)
		}
		now := time.Now().UTC()
		if n := count("since=" + url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))); n != 0 {
			t.Fatalf("since the future: %d", n)
		}
		if n := count("until=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))); n != 0 {
			t.Fatalf("until the past: %d", n)
		}
		if n := count("since=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)) + "&until=" + url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))); n != len(all) {
			t.Fatalf("since and until around now: %d", n)
		}
		for _, tc := range []struct{ q, field string }{
			{"since=yesterday", "since"},
			{"until=2025-13-01T00:00:00Z", "until"},
			{"since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z", "until"},
			{"limit=0", "limit"},
			{"limit=1000", "limit"},
			{"before=***", "before"},
			{"action=a%00", "action"},
		} {
			status, hdr, body := c.do(t, http.MethodGet, "/tenants/acme/audit?"+tc.q, nil)
			wantProblem(t, tc.q, status, hdr, body, http.StatusBadRequest, tc.field)
			status, hdr, body = c.do(t, http.MethodGet, "/tenants/acme/audit/export?"+tc.q, nil)
			if tc.field != "limit" && tc.field != "before" {
				wantProblem(t, "export "+tc.q, status, hdr, body, http.StatusBadRequest, tc.field)
			}
		}

		// The export: every event, as JSON lines, newest first, across
		// several of its pages.
		sctx := tenants.WithTenant(context.Background(), f.tenant)
		for range 1010 {
			if err := e.store.AppendAudit(sctx, &tenants.AuditEvent{Action: "test.filler", ActorKind: "test", ActorID: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		lines := export(t, c, "/tenants/acme/audit/export")
		if len(lines) != len(all)+1010 {
			t.Fatalf("export: %d lines, want %d", len(lines), len(all)+1010)
		}
		seen := map[string]bool{}
		for i, l := range lines {
			if seen[l["id"].(string)] {
				t.Fatalf("event %v exported twice", l["id"])
			}
			seen[l["id"].(string)] = true
			if i > 0 && l["id"].(string) > lines[i-1]["id"].(string) {
				t.Fatal("export not newest first")
			}
		}
		if got := export(t, c, "/tenants/acme/audit/export?action=user."); len(got) != 5 {
			t.Fatalf("export of user events: %d", len(got))
		}
		// The export needs audit:read.
		status, hdr, body := e.managementClient(t, "acme", admin.ScopeTenantsWrite).do(t, http.MethodGet, "/tenants/acme/audit/export", nil)
		wantProblem(t, "export without audit:read", status, hdr, body, http.StatusForbidden, "")
	})
}

// export reads an audit export as JSON lines.
func export(t *testing.T, c *apiClient, path string) []map[string]any {
	t.Helper()
	status, hdr, raw := c.raw(t, http.MethodGet, path, "", nil)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/x-ndjson" || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", status, hdr)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// TestAPIKeys lists and rotates a tenant's signing keys through the API.
func TestAPIKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		keys := c.items(t, "/tenants/acme/keys")
		if len(keys) != 1 || keys[0]["status"] != "active" || keys[0]["alg"] != "RS256" {
			t.Fatalf("keys: %v", keys)
		}
		for _, k := range keys {
			for name := range k {
				if name != "kid" && name != "alg" && name != "status" && name != "created_at" && name != "activates_at" {
					t.Fatalf("a key shows %s", name)
				}
			}
		}
		old := keys[0]["kid"].(string)
		token := func() string {
			t.Helper()
			_, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
			tok, _ := body["access_token"].(string)
			if tok == "" {
				t.Fatalf("no token: %v", body)
			}
			return tok
		}
		// A rotation publishes the next key first: the JWKS has both, tokens
		// are still signed with the old one.
		next := c.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/keys/rotate", nil)
		if next["status"] != "next" || next["kid"] == old || parseTime(t, next["activates_at"]).Sub(parseTime(t, next["created_at"])) < 5*time.Minute {
			t.Fatalf("rotate: %v", next)
		}
		keys = c.items(t, "/tenants/acme/keys")
		if len(keys) != 2 || keys[0]["kid"] != next["kid"] || keys[1]["kid"] != old || keys[1]["status"] != "active" {
			t.Fatalf("keys after rotation: %v", keys)
		}
		jwks := fetch(t, e, f.issuer+"/.well-known/jwks.json")
		if !strings.Contains(jwks, old) || !strings.Contains(jwks, next["kid"].(string)) {
			t.Fatalf("JWKS after rotation: %s", jwks)
		}
		if kid := kidOf(t, token()); kid != old {
			t.Fatalf("a token during pre-publication is signed with %s, want the old key %s", kid, old)
		}
		// "now" signs with a new key at once; the waiting one is dropped.
		k := c.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/keys/rotate", map[string]any{"now": true})
		if k["status"] != "active" || k["kid"] == old {
			t.Fatalf("rotate now: %v", k)
		}
		keys = c.items(t, "/tenants/acme/keys")
		if len(keys) != 3 || keys[0]["kid"] != k["kid"] || keys[1]["status"] != "expired" || keys[2]["kid"] != old || keys[2]["status"] != "retired" {
			t.Fatalf("keys after rotating now: %v", keys)
		}
		eventually(t, 2*time.Second, "new key in use", func() bool { return kidOf(t, token()) == k["kid"] })
		jwks = fetch(t, e, f.issuer+"/.well-known/jwks.json")
		if !strings.Contains(jwks, old) || !strings.Contains(jwks, k["kid"].(string)) || strings.Contains(jwks, next["kid"].(string)) {
			t.Fatalf("JWKS after rotating now: %s", jwks)
		}
	})
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %v: %v", v, err)
	}
	return tm
}
