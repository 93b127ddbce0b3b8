package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// jwtClaims returns the payload of a JWT, unverified (the tests verify
// signatures elsewhere: oauth4webapi, go-oidc).
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := decodeSegment(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// scopesOf is the scope claim of verified access token claims.
func scopesOf(claims map[string]any) []string {
	s, _ := claims["scope"].(string)
	return strings.Fields(s)
}

// rbacFlow runs a code flow for the web client asking for scopes, and
// returns the token and the bodies of the consent pages it went through.
func (f *fixture) rbacFlow(b *browser, scopes ...string) (*oauth2.Token, []string) {
	t := b.t
	t.Helper()
	cfg := f.oauth2Config(f.web, scopes...)
	verifier := oauth2.GenerateVerifier()
	state := secret.Token(8)
	p := b.get(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	var consents []string
	for range 6 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			loc := resolve(f.issuer, p.location)
			if strings.HasPrefix(loc, redirectURI) {
				u, _ := url.Parse(loc)
				if u.Query().Get("error") != "" {
					t.Fatalf("authorization failed: %v", u.Query())
				}
				tok, err := cfg.Exchange(f.e.ctx(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				return tok, consents
			}
			p = b.get(loc)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password}})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			consents = append(consents, p.body)
			p = b.post(f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return nil, nil
}

// rbacSetup switches the fixture's API to RBAC over the management API and
// creates the roles reader (read:orders) and writer (write:orders); the
// user holds reader directly. It returns the API's id.
func rbacSetup(t *testing.T, op *apiClient, f *fixture) string {
	t.Helper()
	base := "/tenants/" + f.slug
	apiID := op.items(t, base+"/apis")[0]["id"].(string)
	got := op.must(t, http.StatusOK, http.MethodPatch, base+"/apis/"+apiID, map[string]any{"rbac": true})
	if got["rbac"] != true || len(got["token_claims"].([]any)) != 0 {
		t.Fatalf("PATCH rbac: %v", got)
	}
	op.must(t, http.StatusCreated, http.MethodPost, base+"/roles", map[string]any{"name": "reader", "description": "Reads orders",
		"permissions": []any{map[string]any{"audience": f.api, "scope": "read:orders"}}})
	op.must(t, http.StatusCreated, http.MethodPost, base+"/roles", map[string]any{"name": "writer",
		"permissions": []any{map[string]any{"audience": f.api, "scope": "write:orders"}}})
	op.must(t, http.StatusOK, http.MethodPost, base+"/users/"+f.userID+"/roles", map[string]any{"role": "reader"})
	return apiID
}

// TestRBACScopesFollowRoles: on an RBAC API, a user gets write:orders only
// while a role grants it — directly, then through a group — as
// oauth4webapi's strict RFC 9068 resource server sees the tokens; taking
// the role away takes the scope at the next refresh; the consent page asks
// only for what will be granted; client credentials keep the client's
// grant.
func TestRBACScopesFollowRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/" + f.slug
		rbacSetup(t, op, f)
		b := e.browser()
		check := func(what, token string, want, wantNot string) {
			t.Helper()
			claims, err := validateWithOAuth4WebAPI(t, f.issuer, f.api, token)
			if err != nil {
				t.Fatalf("%s: token refused by the resource server: %v", what, err)
			}
			got := scopesOf(claims)
			if want != "" && !slices.Contains(got, want) {
				t.Fatalf("%s: scopes %v, want %s", what, got, want)
			}
			if wantNot != "" && slices.Contains(got, wantNot) {
				t.Fatalf("%s: scopes %v, want no %s", what, got, wantNot)
			}
		}
		refresh := func(what, rt string) (string, string) {
			t.Helper()
			status, body := f.refresh(rt)
			if status != http.StatusOK {
				t.Fatalf("%s: refresh %d %v", what, status, body)
			}
			return mustToken(t, body, "access_token"), mustToken(t, body, "refresh_token")
		}

		// Without writer: asked for, not granted, not shown.
		tok, consents := f.rbacFlow(b, "openid", "offline_access", "read:orders", "write:orders")
		if len(consents) != 1 || !strings.Contains(consents[0], "Read your orders") || strings.Contains(consents[0], "Write orders") {
			t.Fatalf("consent page without the writer role: %v", consents)
		}
		check("without the role", tok.AccessToken, "read:orders", "write:orders")
		if s, _ := tok.Extra("scope").(string); strings.Contains(s, "write:orders") {
			t.Fatalf("token response scope %q grants write:orders", s)
		}
		at, rt := refresh("without the role", tok.RefreshToken)
		check("refreshed without the role", at, "read:orders", "write:orders")

		// With writer, directly: the consent page asks for it now.
		op.must(t, http.StatusOK, http.MethodPost, base+"/users/"+f.userID+"/roles", map[string]any{"role": "writer"})
		tok, consents = f.rbacFlow(b, "openid", "offline_access", "read:orders", "write:orders")
		if len(consents) != 1 || !strings.Contains(consents[0], "Write orders") {
			t.Fatalf("consent page with the writer role: %v", consents)
		}
		check("with the role", tok.AccessToken, "write:orders", "")
		// A refresh token of the family issued before the role does not
		// widen: it keeps what was granted.
		at, rt = refresh("old family after the role was given", rt)
		check("old family after the role was given", at, "read:orders", "write:orders")

		// Taken away: gone at the next refresh.
		rt2 := tok.RefreshToken
		op.must(t, http.StatusNoContent, http.MethodDelete, base+"/users/"+f.userID+"/roles/writer", nil)
		at, rt2 = refresh("after the role was taken", rt2)
		check("after the role was taken", at, "read:orders", "write:orders")

		// Through a group.
		group := op.must(t, http.StatusCreated, http.MethodPost, base+"/groups", map[string]any{"name": "staff"})
		gid := group["id"].(string)
		op.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+gid+"/members", map[string]any{"user": f.userID})
		op.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+gid+"/roles", map[string]any{"role": "writer"})
		roles := op.items(t, base+"/users/"+f.userID+"/roles")
		if len(roles) != 2 || roles[1]["name"] != "writer" || roles[1]["direct"] != false ||
			roles[1]["groups"].([]any)[0].(map[string]any)["name"] != "staff" || roles[0]["direct"] != true {
			t.Fatalf("effective roles: %v", roles)
		}
		at, rt2 = refresh("through the group", rt2)
		check("refresh through the group", at, "write:orders", "")
		tok, consents = f.rbacFlow(b, "openid", "offline_access", "read:orders", "write:orders")
		if len(consents) != 0 {
			t.Fatalf("consent asked again for what was consented: %d pages", len(consents))
		}
		check("through the group", tok.AccessToken, "write:orders", "")
		// The group loses the role: gone at the next refresh.
		op.must(t, http.StatusNoContent, http.MethodDelete, base+"/groups/"+gid+"/roles/writer", nil)
		at, _ = refresh("group lost the role", tok.RefreshToken)
		check("group lost the role", at, "read:orders", "write:orders")
		// Deleting the role the user holds directly takes read:orders too.
		op.must(t, http.StatusNoContent, http.MethodDelete, base+"/roles/reader", nil)
		at, _ = refresh("role deleted", rt2)
		check("role deleted", at, "", "read:orders")

		// Client credentials: the client's grant, whatever the roles.
		status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusOK {
			t.Fatalf("client_credentials: %d %v", status, body)
		}
		check("client credentials", mustToken(t, body, "access_token"), "read:orders", "")
	})
}

// TestRBACClaims: the roles and groups claims are in access tokens only
// when the API asks for them; the groups scope puts groups in the ID token
// and userinfo.
func TestRBACClaims(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/" + f.slug
		apiID := rbacSetup(t, op, f)
		group := op.must(t, http.StatusCreated, http.MethodPost, base+"/groups", map[string]any{"name": "staff"})
		op.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+group["id"].(string)+"/members", map[string]any{"user": f.userID})
		op.must(t, http.StatusOK, http.MethodPost, base+"/groups/staff/roles", map[string]any{"role": "writer"})

		tok, _ := f.rbacFlow(e.browser(), "openid", "offline_access", "read:orders")
		claims := jwtClaims(t, tok.AccessToken)
		if _, ok := claims["roles"]; ok {
			t.Fatalf("roles claim without token_claims: %v", claims)
		}
		if _, ok := claims["groups"]; ok {
			t.Fatalf("groups claim without token_claims: %v", claims)
		}
		if _, ok := jwtClaims(t, tok.Extra("id_token").(string))["groups"]; ok {
			t.Fatal("groups in the ID token without the groups scope")
		}

		op.must(t, http.StatusOK, http.MethodPatch, base+"/apis/"+apiID, map[string]any{"token_claims": []any{"roles"}})
		status, body := f.refresh(tok.RefreshToken)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		at := mustToken(t, body, "access_token")
		verified, err := validateWithOAuth4WebAPI(t, f.issuer, f.api, at)
		if err != nil {
			t.Fatalf("token with roles refused: %v", err)
		}
		if fmtAny(verified["roles"]) != "[reader writer]" {
			t.Fatalf("roles claim = %v, want [reader writer]", verified["roles"])
		}
		if _, ok := verified["groups"]; ok {
			t.Fatalf("groups claim when only roles is asked for: %v", verified)
		}

		op.must(t, http.StatusOK, http.MethodPatch, base+"/apis/"+apiID, map[string]any{"token_claims": []any{"roles", "groups"}})
		status, body = f.refresh(mustToken(t, body, "refresh_token"))
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		claims = jwtClaims(t, mustToken(t, body, "access_token"))
		if fmtAny(claims["groups"]) != "[staff]" || fmtAny(claims["roles"]) != "[reader writer]" {
			t.Fatalf("claims with roles and groups: %v", claims)
		}

		// The groups scope: ID token and userinfo.
		tok, _ = f.rbacFlow(e.browser(), "openid", "groups")
		if g := jwtClaims(t, tok.Extra("id_token").(string))["groups"]; fmtAny(g) != "[staff]" {
			t.Fatalf("ID token groups = %v", g)
		}
		req, _ := http.NewRequest(http.MethodGet, f.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := e.httpClient(false).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var info map[string]any
		if err := json.Unmarshal(raw, &info); err != nil || fmtAny(info["groups"]) != "[staff]" {
			t.Fatalf("userinfo: %d %s", resp.StatusCode, raw)
		}
	})
}

// TestRBACDeviceGrant: the device grant on an RBAC API grants what the
// user's roles hold, like the code flow: write:orders asked for by a CLI
// for a user without the writer role is not in the token, and is once
// the role is given.
func TestRBACDeviceGrant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		dc := f.offerDevice(t)
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		rbacSetup(t, op, f)
		token := func(what string) []string {
			t.Helper()
			scopes := []string{"openid", "read:orders", "write:orders"}
			da := f.deviceAuth(t, dc.cli, scopes...)
			if p := f.answerDevice(e.browser(), da.UserCode, "allow"); p.status != http.StatusOK {
				t.Fatalf("%s: after allow: %d\n%s", what, p.status, p.body)
			}
			ctx, cancel := context.WithTimeout(e.ctx(), 30*time.Second)
			defer cancel()
			tok, err := f.deviceConfig(dc.cli, scopes...).DeviceAccessToken(ctx, da)
			if err != nil {
				t.Fatalf("%s: device access token: %v", what, err)
			}
			claims, err := validateWithOAuth4WebAPI(t, f.issuer, f.api, tok.AccessToken)
			if err != nil {
				t.Fatalf("%s: token refused by the resource server: %v", what, err)
			}
			return scopesOf(claims)
		}
		if got := token("without the role"); !slices.Contains(got, "read:orders") || slices.Contains(got, "write:orders") {
			t.Fatalf("without the writer role: scopes %v, want read:orders and no write:orders", got)
		}
		op.must(t, http.StatusOK, http.MethodPost, "/tenants/"+f.slug+"/users/"+f.userID+"/roles", map[string]any{"role": "writer"})
		if got := token("with the role"); !slices.Contains(got, "write:orders") {
			t.Fatalf("with the writer role: scopes %v, want write:orders", got)
		}
	})
}
