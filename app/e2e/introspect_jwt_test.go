package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
)

// TestIntrospectionJWT checks JWT introspection answers (RFC 9701): a
// caller that accepts application/token-introspection+jwt gets a JWT of
// that media type, typ token-introspection+jwt, signed with the tenant's
// key (it verifies against the JWKS, go-oidc), with iss the issuer, aud
// the caller, iat, and the RFC 7662 answer in token_introspection — the
// token's sub and exp inside it, not beside it; an inactive token is
// signed too; another tenant's token is inactive; errors stay JSON;
// without the Accept header (or with q=0) the answer is JSON as before;
// discovery names the algorithms.
func TestIntrospectionJWT(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f, g := e.fixture("acme"), e.fixture("globex")
		ask := func(fx *fixture, user, pass, token, accept string) (int, http.Header, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, fx.issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			req.SetBasicAuth(user, pass)
			resp, err := e.httpClient(false).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, string(b)
		}
		verify := func(fx *fixture, raw, caller string) map[string]any {
			t.Helper()
			ctx := oidc.ClientContext(e.ctx(), e.httpClient(true))
			v := oidc.NewVerifier(fx.issuer, oidc.NewRemoteKeySet(ctx, fx.issuer+"/.well-known/jwks.json"), &oidc.Config{ClientID: caller, SkipExpiryCheck: true, SupportedSigningAlgs: []string{"RS256", "ES256", "PS256", "EdDSA"}})
			if _, err := v.Verify(ctx, raw); err != nil {
				t.Fatalf("the answer does not verify against the tenant's JWKS: %v", err)
			}
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
			if err != nil {
				t.Fatal(err)
			}
			if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != "token-introspection+jwt" {
				t.Fatalf("typ %v, want token-introspection+jwt", typ)
			}
			var claims map[string]any
			if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
				t.Fatal(err)
			}
			if claims["iss"] != fx.issuer || claims["aud"] != caller || claims["iat"] == nil || claims["sub"] != nil || claims["exp"] != nil {
				t.Fatalf("claims %v", claims)
			}
			ti, ok := claims["token_introspection"].(map[string]any)
			if !ok {
				t.Fatalf("no token_introspection: %v", claims)
			}
			return ti
		}
		status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusOK {
			t.Fatalf("token: %d %v", status, body)
		}
		at := mustToken(t, body, "access_token")

		s, h, raw := ask(f, f.worker.ClientID, f.worker.ClientSecret, at, "application/token-introspection+jwt")
		if s != http.StatusOK || h.Get("Content-Type") != "application/token-introspection+jwt" || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("JWT introspection: %d %v %s", s, h, raw)
		}
		ti := verify(f, raw, f.worker.ClientID)
		if ti["active"] != true || ti["client_id"] != f.worker.ClientID || ti["sub"] == nil || ti["exp"] == nil || ti["iss"] != f.issuer {
			t.Fatalf("token_introspection %v", ti)
		}
		// A list, with parameters.
		if s, h, _ := ask(f, f.worker.ClientID, f.worker.ClientSecret, at, "application/json;q=0.5, application/token-introspection+jwt; charset=utf-8"); s != http.StatusOK || h.Get("Content-Type") != "application/token-introspection+jwt" {
			t.Fatalf("Accept list: %d %v", s, h)
		}
		// Inactive answers are signed too: a made-up token, another
		// tenant's token.
		for name, tok := range map[string]string{"made up": "not-a-token", "another tenant's": func() string {
			_, _, b := g.post("/oauth/token", g.worker.ClientID, g.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
			return mustToken(t, b, "access_token")
		}()} {
			_, _, raw := ask(f, f.worker.ClientID, f.worker.ClientSecret, tok, "application/token-introspection+jwt")
			if ti := verify(f, raw, f.worker.ClientID); ti["active"] != false || len(ti) != 1 {
				t.Fatalf("%s token: %v", name, ti)
			}
		}
		// The JSON answer is unchanged without the header, or with q=0.
		for _, accept := range []string{"", "application/json", "application/token-introspection+jwt;q=0"} {
			s, h, raw := ask(f, f.worker.ClientID, f.worker.ClientSecret, at, accept)
			if s != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || !strings.Contains(raw, `"active":true`) {
				t.Fatalf("Accept %q: %d %v %s", accept, s, h, raw)
			}
		}
		// A failed authentication is still a JSON error.
		s, h, raw = ask(f, f.worker.ClientID, "wrong", at, "application/token-introspection+jwt")
		if s != http.StatusUnauthorized || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || !strings.Contains(raw, "invalid_client") {
			t.Fatalf("bad credentials: %d %v %s", s, h, raw)
		}
		// Another tenant's client at this tenant: invalid_client, as for
		// an unknown one.
		if s, _, raw := ask(f, g.worker.ClientID, g.worker.ClientSecret, at, "application/token-introspection+jwt"); s != http.StatusUnauthorized {
			t.Fatalf("another tenant's client: %d %s", s, raw)
		}
		// An ES256 caller gets an ES256 answer.
		es, err := e.srv.Admin().CreateClient(f.adminCtx(), admin.CreateClientInput{Name: "es", Kind: admin.KindMachine, GrantTypes: []string{"client_credentials"},
			IDTokenSignedResponseAlg: "ES256"})
		if err != nil {
			t.Fatal(err)
		}
		{
			_, _, raw := ask(f, es.ClientID, es.ClientSecret, at, "application/token-introspection+jwt")
			if jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256}); err != nil || len(jws.Signatures) != 1 {
				t.Fatalf("an ES256 caller's answer: %v %s", err, raw)
			}
			verify(f, raw, es.ClientID)
		}

		var d map[string]any
		if err := json.Unmarshal([]byte(fetch(t, e, f.issuer+"/.well-known/openid-configuration")), &d); err != nil {
			t.Fatal(err)
		}
		if algs, _ := d["introspection_signing_alg_values_supported"].([]any); len(algs) == 0 || algs[0] != "RS256" {
			t.Fatalf("introspection_signing_alg_values_supported = %v", d["introspection_signing_alg_values_supported"])
		}
	})
}
