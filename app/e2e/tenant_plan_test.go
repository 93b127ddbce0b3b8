package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// planFile is a tenant file with the settings and objects of this round:
// the tenant's language, reply-to and registration; an API's registration
// scopes and resource server; applications with every setting; claim
// rules and the tenant's wording.
func planFile(jwks, cert string) string {
	return `tenant: moving
settings:
  name: Moving Inc
  default_locale: de
  email_reply_to: help@moving.test
  client_registration: token
  token_exchange_impersonation: true
  user_metadata_fields:
    - {name: team, label: Team, type: string, max_length: 40}
    - {name: newsletter, type: boolean}
apis:
  - audience: https://api.moving.test
    scopes:
      - value: read:boxes
      - value: write:boxes
    registration_scopes: [read:boxes]
    resource_server: Inspector
applications:
  - name: Portal
    kind: web
    redirect_uris: [https://portal.moving.test/cb]
    grant_types: [authorization_code, refresh_token]
    token_endpoint_auth_method: client_secret_post
    consent: skip
    refresh_token_grace_period: 30
    dpop_bound_access_tokens: true
    require_pushed_authorization_requests: true
    backchannel_logout_uri: http://` + hooksHost + `:9/logout
    backchannel_logout_session_required: true
    id_token_signed_response_alg: ES256
    claim_format: ids
    logo_uri: https://portal.moving.test/logo.png
  - name: Inspector
    kind: machine
    grant_types: [client_credentials]
  - name: Signer
    kind: machine
    grant_types: [client_credentials]
    token_endpoint_auth_method: private_key_jwt
    jwks: ` + jwks + `
claim_rules:
  - name: plan
    condition: user.email.endsWith('@moving.test')
    id_token: {plan: "'gold'"}
  - name: no-guests
    enabled: false
    condition: user.email.endsWith('@guest.test')
    deny: Guests may not sign in
roles:
  - name: mover
groups:
  - name: crew
    roles: [mover]
saml_apps:
  - entity_id: https://expenses.moving.test/sp
    name: Expenses
    acs:
      - {url: https://expenses.moving.test/acs}
      - {url: https://expenses.moving.test/acs2, index: 5}
    slo_url: https://expenses.moving.test/slo
    name_id_source: persistent
    attributes: [{name: mail, source: email}, {name: roles, source: roles}]
    sign_response: false
    require_signed_requests: true
    signing_certificates: ["` + cert + `"]
    access: roles
    access_roles: [mover]
  - entity_id: https://wiki.moving.test/sp
    name: Wiki
    acs: [{url: https://wiki.moving.test/acs}]
    access: groups
    access_groups: [crew]
    enabled: false
strings:
  - {locale: de, message_id: consent.heading, text: "Zugriff für {{.App}}?"}
`
}

// TestPlanApplyNewFields applies a file with this round's fields to a new
// tenant, applies it again (no change), makes drift through the admin
// services (as the console does) and checks the plan shows exactly it,
// then applies files whose last object the server refuses: nothing of
// them is left behind, on a new tenant or an existing one.
func TestPlanApplyNewFields(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e := newEnv(t, db.URL(t), withHooksHost())
		svc := e.srv.Admin()
		ctx := admin.WithPrincipal(context.Background(), admin.CLI())
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		jwks := string(jwksOf(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}))
		parse := func(src string) *admin.TenantFile {
			t.Helper()
			f, err := admin.ParseTenantFile([]byte(src))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			return f
		}
		summary := func(p *admin.Plan) string {
			var b []string
			for _, c := range p.Changes {
				b = append(b, c.Action+" "+c.Kind+" "+c.Key)
			}
			return strings.Join(b, "; ")
		}
		cert := base64.StdEncoding.EncodeToString(samltest.NewSigner(t, "sp").Cert.Raw)
		file := planFile(jwks, cert)

		p, err := svc.ApplyTenant(ctx, parse(file), false)
		if err != nil {
			t.Fatal(err)
		}
		want := "create tenant moving; create api https://api.moving.test; create role mover; create group crew; create application Portal; " +
			"create application Inspector; create application Signer; create claim_rule plan; create claim_rule no-guests; " +
			"create string de/consent.heading; create saml_app https://expenses.moving.test/sp; create saml_app https://wiki.moving.test/sp"
		if summary(p) != want {
			t.Fatalf("apply: %s, want %s", summary(p), want)
		}
		if p.Changes[1].Fields["resource_server"].To != "Inspector" || p.Changes[4].Fields["consent"].To != "skip" {
			t.Fatalf("apply's fields: %+v", p.Changes)
		}
		for _, apply := range []bool{true, false, true} {
			var p *admin.Plan
			if apply {
				p, err = svc.ApplyTenant(ctx, parse(file), false)
			} else {
				p, err = svc.PlanTenant(ctx, parse(file), false)
			}
			if err != nil || len(p.Changes) != 0 {
				t.Fatalf("apply %v after apply: %v %+v", apply, err, p)
			}
		}

		// What the apply made is what the file says.
		tctx, _, err := svc.WithTenant(ctx, "moving")
		if err != nil {
			t.Fatal(err)
		}
		tn, _ := svc.GetTenant(tctx)
		apis, _ := svc.ListAPIs(tctx)
		apps, _ := svc.ListClients(tctx)
		byName := map[string]*admin.Client{}
		for _, a := range apps {
			byName[a.ClientName] = a
		}
		portal, inspector := byName["Portal"], byName["Inspector"]
		if tn.DefaultLocale != "de" || tn.EmailReplyTo != "help@moving.test" || tn.ClientRegistration != tenants.RegistrationToken || !tn.TokenExchangeImpersonation ||
			len(apis) != 1 || apis[0].ResourceServerClientID != inspector.ClientID || len(apis[0].RegistrationScopes) != 1 ||
			portal.Consent != tenants.ConsentSkip || portal.RefreshTokenGraceSeconds != 30 || !portal.DPoPBoundAccessTokens ||
			!portal.RequirePushedAuthorizationRequests || !portal.BackchannelLogoutSessionRequired || portal.IDTokenSignedResponseAlg != "ES256" ||
			portal.TokenEndpointAuthMethod != tenants.AuthMethodPost || byName["Signer"].TokenEndpointAuthMethod != tenants.AuthMethodPrivateKey ||
			portal.ClaimFormat != tenants.ClaimFormatIDs || portal.LogoURI != "https://portal.moving.test/logo.png" || byName["Inspector"].ClaimFormat != tenants.ClaimFormatNames ||
			len(tn.UserMetadataFields) != 2 || tn.UserMetadataFields[0].Name != "team" || tn.UserMetadataFields[0].MaxLength != 40 || tn.UserMetadataFields[1].Type != tenants.MetadataBoolean {
			t.Fatalf("applied: %+v %+v %+v", tn, apis[0], portal)
		}

		// Drift, made as the console makes it. The file does not say
		// whether the rule "plan" is enabled: disabling it is no drift.
		grace, consent, locale, off, names, noLogo := int64(5), tenants.ConsentRequired, "fr", false, tenants.ClaimFormatNames, ""
		if _, err := svc.UpdateClient(tctx, portal.ClientID, admin.UpdateClientInput{Consent: &consent, RefreshTokenGracePeriod: &grace,
			DPoPBoundAccessTokens: &off, ClaimFormat: &names, LogoURI: &noLogo}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateTenant(tctx, admin.TenantSettings{DefaultLocale: &locale,
			UserMetadataFields: []tenants.MetadataField{{Name: "team", Label: "Team", Type: tenants.MetadataString, MaxLength: 40}}}); err != nil {
			t.Fatal(err)
		}
		empty := ""
		if _, err := svc.UpdateAPI(tctx, apis[0].ID, admin.UpdateAPIInput{ResourceServerClientID: &empty}); err != nil {
			t.Fatal(err)
		}
		rules, _ := svc.ListClaimRules(tctx)
		for _, r := range rules {
			if r.Name == "plan" {
				if _, err := svc.UpdateClaimRule(tctx, r.ID, admin.ClaimRuleInput{Enabled: &off, IDToken: &map[string]string{"plan": "'silver'"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := svc.SetString(tctx, "de", "consent.heading", "Darf {{.App}}?"); err != nil {
			t.Fatal(err)
		}
		samlApps, _ := svc.ListSAMLApps(tctx)
		for _, a := range samlApps {
			if a.Name == "Expenses" {
				if _, err := svc.UpdateSAMLApp(tctx, a.ID, admin.SAMLAppInput{Access: ptr(tenants.SAMLAccessEveryone),
					ACS: []admin.SAMLEndpoint{{URL: "https://expenses.moving.test/acs"}}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		p, err = svc.PlanTenant(ctx, parse(file), false)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range p.Changes {
			if c.Action != admin.ChangeUpdate {
				t.Fatalf("drift planned as %s %s %s", c.Action, c.Kind, c.Key)
			}
			b, _ := json.Marshal(c.Fields)
			got[c.Kind+" "+c.Key] = string(b)
		}
		wantDrift := map[string]string{
			"tenant moving": `{"default_locale":{"from":"fr","to":"de"},"user_metadata_fields":{"from":[{"name":"team","label":"Team","type":"string","max_length":40}],` +
				`"to":[{"name":"team","label":"Team","type":"string","max_length":40},{"name":"newsletter","type":"boolean"}]}}`,
			"api https://api.moving.test": `{"resource_server":{"from":"","to":"Inspector"}}`,
			"application Portal": `{"claim_format":{"from":"names","to":"ids"},"consent":{"from":"required","to":"skip"},"dpop_bound_access_tokens":{"from":false,"to":true},` +
				`"logo_uri":{"from":"","to":"https://portal.moving.test/logo.png"},"refresh_token_grace_period":{"from":5,"to":30}}`,
			"claim_rule plan":           `{"id_token":{"from":["plan='silver'"],"to":["plan='gold'"]}}`,
			"string de/consent.heading": `{"text":{"from":"Darf {{.App}}?","to":"Zugriff für {{.App}}?"}}`,
			"saml_app https://expenses.moving.test/sp": `{"access":{"from":"everyone","to":"roles"},"acs":{"from":["1 https://expenses.moving.test/acs"],` +
				`"to":["1 https://expenses.moving.test/acs","5 https://expenses.moving.test/acs2"]}}`,
		}
		if fmt.Sprint(got) != fmt.Sprint(wantDrift) {
			t.Fatalf("plan of the drift:\n%v\nwant\n%v", got, wantDrift)
		}
		if _, err := svc.ApplyTenant(ctx, parse(file), false); err != nil {
			t.Fatal(err)
		}
		if p, err := svc.PlanTenant(ctx, parse(file), false); err != nil || len(p.Changes) != 0 {
			t.Fatalf("plan after applying the drift away: %v %+v", err, p)
		}

		// --prune plans to delete rules and wording the file leaves out.
		trimmed := strings.Replace(file, "strings:\n  - {locale: de, message_id: consent.heading, text: \"Zugriff für {{.App}}?\"}\n", "", 1)
		if p, err := svc.PlanTenant(ctx, parse(trimmed), true); err != nil || summary(p) != "delete string de/consent.heading" {
			t.Fatalf("plan --prune: %v %s", err, summary(p))
		}

		// All or nothing: a file whose last object the server refuses
		// (an unknown message) leaves nothing of itself behind.
		audits := func() int {
			evs, err := e.store.ListAudit(tctx, tenants.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(evs)
		}
		before := audits()
		changed := strings.NewReplacer("default_locale: de", "default_locale: fr", "consent: skip", "consent: required",
			"  - name: no-guests\n", "  - name: newcomer\n    id_token: {x: \"'y'\"}\n  - name: no-guests\n").Replace(file)
		refused := changed + "  - {locale: de, message_id: no.such.message, text: x}\n"
		_, err = svc.ApplyTenant(ctx, parse(refused), false)
		var ve *tenants.ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, "strings[1]") {
			t.Fatalf("apply of a refused file: %v, want a problem of strings[1]", err)
		}
		if p, err := svc.PlanTenant(ctx, parse(file), false); err != nil || len(p.Changes) != 0 {
			t.Fatalf("a refused apply changed the tenant: %v %s", err, summary(p))
		}
		if n := audits(); n != before {
			t.Fatalf("a refused apply left %d audit events", n-before)
		}
		newTenant := strings.Replace(refused, "tenant: moving", "tenant: fresh", 1)
		if _, err := svc.ApplyTenant(ctx, parse(newTenant), false); err == nil {
			t.Fatal("apply of a refused file for a new tenant succeeded")
		}
		if _, _, err := svc.WithTenant(ctx, "fresh"); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("a refused apply left its new tenant: %v", err)
		}
		// A field the server refuses is named as the API names it.
		badLogo := strings.Replace(file, "logo_uri: https://portal.moving.test/logo.png", "logo_uri: http://portal.moving.test/logo.png", 1)
		if _, err := svc.ApplyTenant(ctx, parse(badLogo), false); !errors.As(err, &ve) || ve.Field != "applications[0].logo_uri" {
			t.Fatalf("apply of an http logo: %v, want a problem of applications[0].logo_uri", err)
		}
		// The file without the refused object goes in.
		if p, err := svc.ApplyTenant(ctx, parse(changed), false); err != nil || len(p.Changes) != 3 {
			t.Fatalf("apply of the good part: %v %s", err, summary(p))
		}
	})
}
