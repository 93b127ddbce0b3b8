package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validateWithOAuth4WebAPI runs oauth4webapi's validateJwtAccessToken (a
// strict RFC 9068 resource server) on token, in Node.
func validateWithOAuth4WebAPI(t *testing.T, issuer, audience, token string) (map[string]any, error) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("resource-server check skipped: node not found (install Node.js 20+)")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "resource-server"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oauth4webapi")); err != nil {
		t.Skip("resource-server check skipped: run `npm ci --prefix app/e2e/testdata/resource-server` (.ci/run does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "validate.mjs", issuer, audience, token)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &nodeError{strings.TrimSpace(stderr.String())}
	}
	var claims map[string]any
	if err := json.Unmarshal(out, &claims); err != nil {
		t.Fatalf("validate.mjs printed %q", out)
	}
	return claims, nil
}

type nodeError struct{ msg string }

func (e *nodeError) Error() string { return e.msg }

// TestStrictResourceServerAcceptsAccessTokens checks Gatehouse's access
// tokens against oauth4webapi's validateJwtAccessToken, which refuses any
// token that is not exactly RFC 9068 (typ at+jwt, iss, sub, aud, client_id,
// exp, iat, jti, a signature by the issuer's JWKS).
func TestStrictResourceServerAcceptsAccessTokens(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/g.db")
	f := e.fixture("acme")
	status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	machine := mustToken(t, body, "access_token")
	claims, err := validateWithOAuth4WebAPI(t, f.issuer, f.api, machine)
	if err != nil {
		t.Fatalf("client credentials token refused: %v", err)
	}
	if claims["client_id"] != f.worker.ClientID || claims["scope"] != "read:orders" {
		t.Fatalf("claims: %v", claims)
	}

	user, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "read:orders"})
	if _, err := validateWithOAuth4WebAPI(t, f.issuer, f.api, user.AccessToken); err != nil {
		t.Fatalf("user's access token refused: %v", err)
	}
	// And it refuses what it must.
	if _, err := validateWithOAuth4WebAPI(t, f.issuer, "https://other.test", machine); err == nil {
		t.Fatal("a token for another audience was accepted")
	}
	if _, err := validateWithOAuth4WebAPI(t, f.issuer, f.web.ClientID, user.Extra("id_token").(string)); err == nil {
		t.Fatal("an ID token was accepted as an access token")
	}
}
