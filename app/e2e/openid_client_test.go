package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// openIDClient runs client.mjs (openid-client 6 with PrivateKeyJwt) in
// Node and decodes what it prints.
func openIDClient(t *testing.T, args ...string) map[string]any {
	t.Helper()
	return openIDClientScript(t, "client.mjs", args...)
}

// openIDClientScript runs script, an openid-client 6 program of
// testdata/resource-server taking ISSUER CLIENT_ID CREDENTIAL MODE ..., in
// Node and decodes what it prints.
func openIDClientScript(t *testing.T, script string, args ...string) map[string]any {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client check skipped: node not found (install Node.js 20+)")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "resource-server"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		t.Skip("openid-client check skipped: run `npm ci --prefix app/e2e/testdata/resource-server` (.ci/run does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openid-client %s: %v: %s", args[3], err, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s printed %q", script, out)
	}
	return v
}

// TestOpenIDClientPrivateKeyJWTAndPAR runs openid-client 6, a strict
// relying party, against Gatehouse with private_key_jwt client
// authentication (its PrivateKeyJwt, assertions for the issuer): the
// client credentials grant, and the code flow with a pushed authorization
// request (buildAuthorizationUrlWithPAR) whose code it redeems and whose ID
// token it validates (iss in the callback, RFC 9207, included).
func TestOpenIDClientPrivateKeyJWTAndPAR(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		key := signer{key: mustEC(t), kid: "node-1", alg: jose.ES256}
		private, err := json.Marshal(jose.JSONWebKey{Key: key.key, KeyID: key.kid})
		if err != nil {
			t.Fatal(err)
		}
		svc := e.srv.Admin()
		machine, err := svc.CreateClient(f.adminCtx(), admin.CreateClientInput{Name: "node machine", Kind: admin.KindMachine, Audiences: []string{f.api},
			TokenEndpointAuthMethod: "private_key_jwt", JWKS: string(jwksOf(key.public()))})
		if err != nil {
			t.Fatal(err)
		}
		web, err := svc.CreateClient(f.adminCtx(), admin.CreateClientInput{Name: "node web", Kind: admin.KindWeb, RedirectURIs: []string{redirectURI},
			TokenEndpointAuthMethod: "private_key_jwt", JWKS: string(jwksOf(key.public())), RequirePushedAuthorizationRequests: true})
		if err != nil {
			t.Fatal(err)
		}

		cc := openIDClient(t, f.issuer, machine.ClientID, string(private), "cc")
		if tok, _ := cc["access_token"].(string); tok == "" {
			t.Fatalf("client credentials: %v", cc)
		}
		f.verifyAccessToken(t, cc["access_token"].(string), f.api)

		par := openIDClient(t, f.issuer, web.ClientID, string(private), "par", redirectURI)
		authURL, _ := par["url"].(string)
		if !strings.Contains(authURL, "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A") || strings.Contains(authURL, "code_challenge") {
			t.Fatalf("authorization URL %q", authURL)
		}
		cb := f.login(e.browser(), authURL)
		if cb.Get("code") == "" {
			t.Fatalf("callback %v", cb)
		}
		out := openIDClient(t, f.issuer, web.ClientID, string(private), "exchange", redirectURI+"?"+cb.Encode(), par["verifier"].(string), par["state"].(string))
		claims, _ := out["claims"].(map[string]any)
		if aud, _ := claims["aud"].([]any); claims["sub"] != f.userID || claims["iss"] != f.issuer || len(aud) != 1 || aud[0] != web.ClientID {
			t.Fatalf("ID token claims %v", claims)
		}
		// The client requires PAR: its plain request is refused.
		p := e.browser().get(f.authorizeURL(web.ClientID, nil))
		if p.status != http.StatusFound || !strings.Contains(p.location, "error=invalid_request") {
			t.Fatalf("plain request of a PAR client: %d %s", p.status, p.location)
		}
	})
}
