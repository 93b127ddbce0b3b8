package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestClaimRules: claim rules over the management API, seen by real
// clients (x/oauth2, go-oidc): a rule that sets sub, or does not
// type-check, is refused at save naming the field; a rule adds claims to
// the ID token and the access token; a deny rule sends the client
// access_denied with its message, refuses the next refresh and a code
// issued before it without spending it; the preview
// says what the rules do; a rule that fails at run time refuses the
// sign-in with an error page, never a 500; each is audited.
func TestClaimRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		base := "/tenants/" + f.slug

		// Refused at save, with the field named.
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "evil", "id_token": map[string]any{"sub": "'admin'"}}, "id_token.sub"},
			{map[string]any{"name": "evil", "access_token": map[string]any{"client_id": "'other'"}}, "access_token.client_id"},
			{map[string]any{"name": "typo", "condition": "user.rolez.size() > 0", "id_token": map[string]any{"x": "1"}}, "condition"},
			{map[string]any{"name": "not a bool", "condition": "user.email", "id_token": map[string]any{"x": "1"}}, "condition"},
			{map[string]any{"name": "both", "deny": "no", "id_token": map[string]any{"x": "1"}}, "deny"},
		} {
			raw, _ := json.Marshal(tc.body)
			status, _, got := op.raw(t, http.MethodPost, base+"/claim-rules", "application/json", raw)
			if status != http.StatusBadRequest || !strings.Contains(string(got), `"field":"`+tc.field+`"`) {
				t.Fatalf("POST %s = %d %s, want 400 on %s", raw, status, got, tc.field)
			}
		}
		if rs := op.items(t, base+"/claim-rules"); len(rs) != 0 {
			t.Fatalf("refused rules were saved: %v", rs)
		}

		// A rule adds claims to both tokens.
		op.must(t, http.StatusCreated, http.MethodPost, base+"/claim-rules", map[string]any{
			"name":         "plan",
			"condition":    "client.id == '" + f.web.ClientID + "'",
			"id_token":     map[string]any{"plan": "has(user.app_metadata.plan) ? user.app_metadata.plan : 'free'", "email_domain": "user.email.split('@')[1]"},
			"access_token": map[string]any{"https://gatehouse.test/tier": "'gold'", "api_name": "api.name"},
		})
		b := e.browser()
		tok, _ := f.codeFlow(b, f.web, []string{"openid", "email", "offline_access", "read:orders"}, oauth2.SetAuthURLParam("resource", f.api))
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := f.idTokenVerifier().Verify(e.ctx(), rawID)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		var idc map[string]any
		if err := idt.Claims(&idc); err != nil {
			t.Fatal(err)
		}
		if idc["plan"] != "free" || idc["email_domain"] != strings.Split(f.email, "@")[1] || idt.Subject != f.userID {
			t.Fatalf("ID token claims: %v", idc)
		}
		at := jwtClaims(t, tok.AccessToken)
		if at["https://gatehouse.test/tier"] != "gold" || at["api_name"] == nil || at["sub"] != f.userID {
			t.Fatalf("access token claims: %v", at)
		}
		if _, ok := at["plan"]; ok {
			t.Fatalf("an ID token claim is in the access token: %v", at)
		}

		// A code issued before the deny rule, redeemed after it.
		cfg := f.oauth2Config(f.web, "openid")
		heldVerifier := oauth2.GenerateVerifier()
		held := f.login(b, cfg.AuthCodeURL(secret.Token(8), oauth2.S256ChallengeOption(heldVerifier))).Get("code")
		if held == "" {
			t.Fatal("no code before the deny rule")
		}

		// A deny rule: the client gets access_denied with its message, and
		// a refresh of the earlier sign-in is refused with it too.
		const msg = "Ada may not use this application."
		deny := op.must(t, http.StatusCreated, http.MethodPost, base+"/claim-rules", map[string]any{
			"name": "no ada", "condition": "user.email == '" + f.email + "'", "deny": msg,
		})
		// At the exchange, the deny is invalid_grant with its message and
		// spends nothing: once the rule is off, the same code works.
		denials := len(op.items(t, base+"/audit?action=token.claim_rule_denied"))
		_, err = cfg.Exchange(e.ctx(), held, oauth2.VerifierOption(heldVerifier))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != msg {
			t.Fatalf("exchange under a deny rule: %v", err)
		}
		if n := len(op.items(t, base+"/audit?action=token.claim_rule_denied")); n != denials+1 {
			t.Errorf("the refused exchange was audited %d times, want once", n-denials)
		}
		cb := f.login(b, cfg.AuthCodeURL(secret.Token(8), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if cb.Get("error") != "access_denied" || cb.Get("error_description") != msg || cb.Get("code") != "" {
			t.Fatalf("deny rule: callback %v", cb)
		}
		_, err = cfg.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != msg {
			t.Fatalf("refresh under a deny rule: %v", err)
		}

		// The preview says so, and with a draft runs that instead.
		p := op.must(t, http.StatusOK, http.MethodPost, base+"/claim-rules/preview", map[string]any{"user": f.email, "client": f.web.ClientID})
		if d, _ := p["denied"].(map[string]any); d["rule"] != "no ada" || d["message"] != msg {
			t.Fatalf("preview: %v", p)
		}
		p = op.must(t, http.StatusOK, http.MethodPost, base+"/claim-rules/preview", map[string]any{"user": f.userID, "client": f.web.ClientID,
			"rules": []any{map[string]any{"name": "draft", "id_token": map[string]any{"roles_n": "user.roles.size()"}}}})
		if c, _ := p["id_token"].(map[string]any); c["roles_n"] != float64(0) {
			t.Fatalf("preview of a draft: %v", p)
		}

		// A rule that fails at run time refuses the sign-in with a page.
		op.must(t, http.StatusOK, http.MethodPatch, base+"/claim-rules/"+deny["id"].(string), map[string]any{"enabled": false})
		if tok, err := cfg.Exchange(e.ctx(), held, oauth2.VerifierOption(heldVerifier)); err != nil || tok.AccessToken == "" {
			t.Fatalf("the code a deny refused, once the rule is off: %v", err)
		}
		op.must(t, http.StatusCreated, http.MethodPost, base+"/claim-rules", map[string]any{
			"name": "broken", "id_token": map[string]any{"x": "user.app_metadata.missing"},
		})
		pg := b.get(cfg.AuthCodeURL(secret.Token(8), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		for i := 0; i < 6 && (pg.status == http.StatusFound || pg.status == http.StatusSeeOther); i++ {
			loc := resolve(f.issuer, pg.location)
			if strings.HasPrefix(loc, redirectURI) {
				t.Fatalf("a failed rule redirected to the client: %s", loc)
			}
			pg = b.get(loc)
		}
		if pg.status != http.StatusForbidden || !strings.Contains(pg.body, "could not be evaluated") {
			t.Fatalf("failed rule: %d %s", pg.status, pg.body)
		}
		_, err = cfg.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("refresh under a failed rule: %v", err)
		}

		for _, action := range []string{"token.claim_rule_denied", "token.claim_rule_failed", "claim_rule.created"} {
			if evs := op.items(t, base+"/audit?action="+action); len(evs) == 0 {
				t.Errorf("no %s audit event", action)
			}
		}
	})
}

// TestClaimRulesSeeRolesAndGroups: at the code exchange and at a refresh,
// rules see the roles the user holds directly and through groups and the
// groups, as they are at that token (read with the claim); a rule that
// names neither still runs; a role taken away is gone from the next
// token's claim, and a group joined since makes a deny rule refuse the
// refresh.
func TestClaimRulesSeeRolesAndGroups(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		svc, ctx := e.srv.Admin(), f.adminCtx()
		name := func(s string) *string { return &s }
		direct, err := svc.CreateRole(ctx, admin.RoleInput{Name: name("auditor")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateRole(ctx, admin.RoleInput{Name: name("operator")}); err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{"oncall", "banned"} {
			if _, err := svc.CreateGroup(ctx, admin.GroupInput{Name: name(g)}); err != nil {
				t.Fatal(err)
			}
		}
		must := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(svc.AddUserRole(ctx, f.userID, "auditor"))
		must(svc.AddGroupRole(ctx, "oncall", "operator"))
		must(svc.AddGroupMember(ctx, "oncall", f.userID))
		for _, r := range []map[string]any{
			{"name": "access", "access_token": map[string]any{"r": "user.roles", "g": "user.groups"}},
			{"name": "mail", "id_token": map[string]any{"domain": "user.email.split('@')[1]"}},
			{"name": "no banned", "condition": "'banned' in user.groups", "deny": "Banned."},
		} {
			raw, _ := json.Marshal(r)
			if _, err := svc.CreateClaimRule(ctx, claimRuleInputOf(t, raw)); err != nil {
				t.Fatal(err)
			}
		}
		b := e.browser()
		tok, _ := f.codeFlow(b, f.web, []string{"openid", "email", "offline_access", "read:orders"}, oauth2.SetAuthURLParam("resource", f.api))
		at := jwtClaims(t, tok.AccessToken)
		if fmt.Sprint(at["r"]) != "[auditor operator]" || fmt.Sprint(at["g"]) != "[oncall]" {
			t.Fatalf("at the exchange: roles %v, groups %v; want [auditor operator] and [oncall]", at["r"], at["g"])
		}
		idt, err := f.idTokenVerifier().Verify(e.ctx(), tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var idc map[string]any
		if err := idt.Claims(&idc); err != nil || idc["domain"] != strings.Split(f.email, "@")[1] {
			t.Fatalf("ID token: %v %v", idc, err)
		}

		must(nil, svc.RemoveUserRole(ctx, f.userID, direct.ID))
		cfg := f.oauth2Config(f.web, "openid")
		next, err := cfg.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if at := jwtClaims(t, next.AccessToken); fmt.Sprint(at["r"]) != "[operator]" {
			t.Fatalf("after the role was taken away: roles %v", at["r"])
		}
		must(svc.AddGroupMember(ctx, "banned", f.userID))
		_, err = cfg.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Banned." {
			t.Fatalf("refresh once banned: %v", err)
		}
	})
}

// claimRuleInputOf reads a rule as the API takes it.
func claimRuleInputOf(t *testing.T, raw []byte) admin.ClaimRuleInput {
	t.Helper()
	var b struct {
		Name        string            `json:"name"`
		Condition   string            `json:"condition"`
		IDToken     map[string]string `json:"id_token"`
		AccessToken map[string]string `json:"access_token"`
		Deny        string            `json:"deny"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	enabled := true
	return admin.ClaimRuleInput{Name: &b.Name, Enabled: &enabled, Condition: &b.Condition, IDToken: &b.IDToken, AccessToken: &b.AccessToken, Deny: &b.Deny}
}
