package e2e

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestRBACClaimFormatIDs: an application whose claim format is ids gets
// the stable ids of the user's roles and groups in its roles and groups
// claims (access token at the next refresh, ID token for the groups
// scope), names again when switched back; a bad format is a 400.
func TestRBACClaimFormatIDs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/" + f.slug
		apiID := rbacSetup(t, op, f)
		group := op.must(t, http.StatusCreated, http.MethodPost, base+"/groups", map[string]any{"name": "staff"})
		groupID := group["id"].(string)
		op.must(t, http.StatusOK, http.MethodPost, base+"/groups/"+groupID+"/members", map[string]any{"user": f.userID})
		op.must(t, http.StatusOK, http.MethodPost, base+"/groups/staff/roles", map[string]any{"role": "writer"})
		op.must(t, http.StatusOK, http.MethodPatch, base+"/apis/"+apiID, map[string]any{"token_claims": []any{"roles", "groups"}})
		var roleIDs []string
		for _, r := range op.items(t, base+"/roles") {
			roleIDs = append(roleIDs, r["id"].(string))
		}
		slices.Sort(roleIDs)

		app := base + "/applications/" + f.web.ClientID
		if got := op.must(t, http.StatusOK, http.MethodGet, app, nil); got["claim_format"] != "names" {
			t.Fatalf("default claim_format = %v", got["claim_format"])
		}
		for _, bad := range []any{"uuid", 5, "IDS", ""} {
			if status, _, body := op.do(t, http.MethodPatch, app, map[string]any{"claim_format": bad}); status != http.StatusBadRequest {
				// "" is the default (names): accepted.
				if bad != "" || status != http.StatusOK {
					t.Fatalf("claim_format %v: %d %v", bad, status, body)
				}
			}
		}
		if got := op.must(t, http.StatusOK, http.MethodPatch, app, map[string]any{"claim_format": "ids"}); got["claim_format"] != "ids" {
			t.Fatalf("PATCH claim_format: %v", got)
		}

		tok, _ := f.rbacFlow(e.browser(), "openid", "offline_access", "groups", "read:orders")
		claims := jwtClaims(t, tok.AccessToken)
		if fmtAny(claims["roles"]) != fmtAny(roleIDs) || fmtAny(claims["groups"]) != "["+groupID+"]" {
			t.Fatalf("access token claims by id: roles %v (want %v), groups %v (want [%s])", claims["roles"], roleIDs, claims["groups"], groupID)
		}
		if g := jwtClaims(t, tok.Extra("id_token").(string))["groups"]; fmtAny(g) != "["+groupID+"]" {
			t.Fatalf("ID token groups by id = %v", g)
		}

		op.must(t, http.StatusOK, http.MethodPatch, app, map[string]any{"claim_format": "names"})
		status, body := f.refresh(tok.RefreshToken)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		claims = jwtClaims(t, mustToken(t, body, "access_token"))
		if fmtAny(claims["roles"]) != "[reader writer]" || fmtAny(claims["groups"]) != "[staff]" {
			t.Fatalf("claims by name after switching back: %v", claims)
		}
	})
}
