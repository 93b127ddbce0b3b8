package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestClientSecretJWT registers client_secret_jwt applications (RFC 7523
// §2.2, OIDC Core §9) through the management API and checks that the one
// assertion verifier that serves private_key_jwt accepts exactly their
// HS256 assertions keyed by the client secret: openid-client 6's
// ClientSecretJwt runs the client credentials grant and introspection;
// the secret is kept sealed besides its hash, the sealed copy rotating in
// step (the previous secret verifies during the grace period, not after);
// and each of these is invalid_client, 401: another alg (RS256, HS384,
// none), a replayed jti, a wrong aud or another tenant's, an expired
// assertion, a wrong secret or another client's, the secret sent as Basic,
// and the client used at another tenant.
func TestClientSecretJWT(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		other := e.fixture("globex")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		base := "/tenants/acme/applications"
		created := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "hmac",
			"audiences": []string{f.api}, "token_endpoint_auth_method": "client_secret_jwt"})
		id, _ := created["client_id"].(string)
		plain, _ := created["client_secret"].(string)
		if created["token_endpoint_auth_method"] != "client_secret_jwt" || plain == "" || created["client_secret_expires_at"] == nil {
			t.Fatalf("registered: %v", created)
		}
		peer := c.must(t, http.StatusCreated, http.MethodPost, base, map[string]any{"kind": "machine", "client_name": "peer",
			"audiences": []string{f.api}, "token_endpoint_auth_method": "client_secret_jwt"})
		peerID, peerSecret := peer["client_id"].(string), peer["client_secret"].(string)

		// At rest: the hash, and a sealed copy that is not the secret.
		tctx := tenants.WithTenant(e.ctx(), f.tenant)
		row, err := e.store.ClientByClientID(tctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if row.SecretHash != secret.Hash(plain) || len(row.SecretSealed) == 0 || bytes.Contains(row.SecretSealed, []byte(plain)) {
			t.Fatalf("stored: hash %v, sealed %d bytes", row.SecretHash == secret.Hash(plain), len(row.SecretSealed))
		}
		if w, _ := e.store.ClientByClientID(tctx, f.worker.ClientID); len(w.SecretSealed) != 0 {
			t.Fatal("a client_secret_basic client's secret is kept sealed")
		}

		// A strict client library.
		cc := openIDClientScript(t, "secret_jwt.mjs", f.issuer, id, plain, "cc")
		at, _ := cc["access_token"].(string)
		if at == "" {
			t.Fatalf("openid-client client credentials: %v", cc)
		}
		f.verifyAccessToken(t, at, f.api)
		if in := openIDClientScript(t, "secret_jwt.mjs", f.issuer, id, plain, "introspect", at); in["active"] != true || in["client_id"] != id {
			t.Fatalf("openid-client introspection: %v", in)
		}

		tokenURL := f.issuer + "/oauth/token"
		grant := url.Values{"grant_type": {"client_credentials"}}
		hs := func(key string) signer { return signer{key: []byte(key), alg: jose.HS256} }
		for _, aud := range []string{tokenURL, f.issuer} {
			if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, hs(plain).sign(t, assertionClaims(id, aud)))); s != http.StatusOK {
				t.Fatalf("aud %s: %d %v", aud, s, b)
			}
		}

		refused := func(name string, form url.Values) {
			t.Helper()
			s, h, b := f.post("/oauth/token", "", "", form)
			if s != http.StatusUnauthorized || errorCode(b) != "invalid_client" || h.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: %d %v, want 401 invalid_client", name, s, b)
			}
		}
		with := func(s signer, clientID, aud string, change func(m map[string]any)) string {
			m := assertionClaims(clientID, aud)
			if change != nil {
				change(m)
			}
			return s.sign(t, m)
		}
		replayed := hs(plain).sign(t, assertionClaims(id, tokenURL))
		if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, replayed)); s != http.StatusOK {
			t.Fatalf("first use: %d %v", s, b)
		}
		refused("replayed jti", assertionForm(grant, replayed))
		refused("wrong aud", assertionForm(grant, with(hs(plain), id, "https://acme.example.com/oauth/token", nil)))
		refused("aud of another endpoint", assertionForm(grant, with(hs(plain), id, f.issuer+"/oauth/revoke", nil)))
		refused("aud of another tenant", assertionForm(grant, with(hs(plain), id, other.issuer+"/oauth/token", nil)))
		refused("expired", assertionForm(grant, with(hs(plain), id, tokenURL, func(m map[string]any) {
			m["iat"], m["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-10*time.Minute).Unix()
		})))
		refused("no jti", assertionForm(grant, with(hs(plain), id, tokenURL, func(m map[string]any) { delete(m, "jti") })))
		refused("iss another client", assertionForm(grant, with(hs(plain), id, tokenURL, func(m map[string]any) { m["iss"] = peerID })))
		refused("a wrong secret", assertionForm(grant, with(hs(secret.Token(32)), id, tokenURL, nil)))
		refused("another client's secret", assertionForm(grant, with(hs(peerSecret), id, tokenURL, nil)))
		refused("RS256", assertionForm(grant, with(signer{key: mustRSA(t), alg: jose.RS256}, id, tokenURL, nil)))
		refused("ES256", assertionForm(grant, with(signer{key: mustEC(t), alg: jose.ES256}, id, tokenURL, nil)))
		enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
		refused("alg none", assertionForm(grant, enc(map[string]any{"alg": "none", "typ": "JWT"})+"."+enc(assertionClaims(id, tokenURL))+"."))
		// HS384 keyed with the secret (go-jose will not sign with a key
		// that short, so by hand).
		in := enc(map[string]any{"alg": "HS384", "typ": "JWT"}) + "." + enc(assertionClaims(id, tokenURL))
		mac := hmac.New(sha512.New384, []byte(plain))
		mac.Write([]byte(in))
		refused("HS384", assertionForm(grant, in+"."+base64.RawURLEncoding.EncodeToString(mac.Sum(nil))))
		if s, _, b := f.post("/oauth/token", id, plain, grant); s != http.StatusUnauthorized || errorCode(b) != "invalid_client" {
			t.Errorf("Basic for a client_secret_jwt client: %d %v", s, b)
		}
		if s, _, b := f.post("/oauth/token", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {plain}}); s != http.StatusUnauthorized {
			t.Errorf("client_secret_post for a client_secret_jwt client: %d %v", s, b)
		}
		refused("an HS256 assertion for a client_secret_basic client", assertionForm(grant, with(hs(f.worker.ClientSecret), f.worker.ClientID, tokenURL, nil)))
		// Another tenant's client: the same assertion, meant for globex,
		// at globex, where no such client exists.
		if s, _, b := other.post("/oauth/token", "", "", assertionForm(grant, with(hs(plain), id, other.issuer+"/oauth/token", nil))); s != http.StatusUnauthorized || errorCode(b) != "invalid_client" {
			t.Errorf("at another tenant: %d %v", s, b)
		}

		// Rotation keeps the sealed copy in step: with a grace period
		// both secrets verify; rotated again without one, only the newest.
		rot := c.must(t, http.StatusOK, http.MethodPost, base+"/"+id+"/secret", map[string]any{"grace_period_seconds": 3600})
		second, _ := rot["client_secret"].(string)
		if second == "" || second == plain {
			t.Fatalf("rotated: %v", rot)
		}
		for name, key := range map[string]string{"new secret": second, "previous secret in its grace period": plain} {
			if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, hs(key).sign(t, assertionClaims(id, tokenURL)))); s != http.StatusOK {
				t.Fatalf("%s: %d %v", name, s, b)
			}
		}
		// After the grace period the previous secret no longer verifies
		// (the clock moved two hours on; the assertions' times with it).
		later := time.Now().Add(2 * time.Hour)
		e.store.SetClock(func() time.Time { return later })
		at2h := func(key string) string {
			m := assertionClaims(id, tokenURL)
			m["iat"], m["exp"] = later.Unix(), later.Add(time.Minute).Unix()
			return hs(key).sign(t, m)
		}
		refused("the previous secret after its grace period", assertionForm(grant, at2h(plain)))
		if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, at2h(second))); s != http.StatusOK {
			t.Fatalf("the new secret, two hours on: %d %v", s, b)
		}
		e.store.SetClock(time.Now)
		third := c.must(t, http.StatusOK, http.MethodPost, base+"/"+id+"/secret", map[string]any{"grace_period_seconds": 0})["client_secret"].(string)
		refused("a secret rotated away", assertionForm(grant, hs(second).sign(t, assertionClaims(id, tokenURL))))
		refused("the first secret", assertionForm(grant, hs(plain).sign(t, assertionClaims(id, tokenURL))))
		if s, _, b := f.post("/oauth/token", "", "", assertionForm(grant, hs(third).sign(t, assertionClaims(id, tokenURL)))); s != http.StatusOK {
			t.Fatalf("the newest secret: %d %v", s, b)
		}
		row, _ = e.store.ClientByClientID(tctx, id)
		if row.SecretHash != secret.Hash(third) || len(row.SecretSealed) == 0 || row.PreviousSecretHash != "" || len(row.PreviousSecretSealed) != 0 {
			t.Fatalf("after rotation without grace: previous hash %q, previous sealed %d bytes", row.PreviousSecretHash, len(row.PreviousSecretSealed))
		}

		// The method cannot be switched to or from client_secret_jwt: the
		// sealed copy exists only from registration on.
		s, h, b := c.do(t, http.MethodPatch, base+"/"+id, map[string]any{"token_endpoint_auth_method": "client_secret_basic"})
		wantProblem(t, "switch client_secret_jwt to basic", s, h, b, http.StatusBadRequest, "token_endpoint_auth_method")
		// Another tenant's application id through this tenant's path.
		oc := e.managementClient(t, "globex", admin.ScopeTenantsWrite)
		s, h, b = oc.do(t, http.MethodPost, "/tenants/globex/applications/"+id+"/secret", map[string]any{})
		if s != http.StatusNotFound {
			t.Errorf("rotate another tenant's client_secret_jwt application: %d %v %v", s, h, b)
		}

		// A tenant export leaves the hash out (it could not verify an
		// HMAC); an import given one refuses it.
		doc, err := e.srv.Admin().ExportTenant(f.adminCtx(), admin.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		idx := -1
		for i, a := range doc.Applications {
			if a.ClientID == id {
				idx = i
				if a.SecretHash != "" {
					t.Fatal("the export carries a client_secret_jwt application's secret hash")
				}
			}
		}
		if idx < 0 {
			t.Fatal("the export has no client_secret_jwt application")
		}
		ops := admin.WithPrincipal(e.ctx(), admin.CLI())
		doc.Applications[idx].SecretHash = secret.Hash(third)
		if _, err := e.srv.Admin().ImportTenant(ops, doc, admin.ImportTenantOptions{Slug: "acme-copy"}); err == nil || !strings.Contains(err.Error(), "secret_hash") {
			t.Fatalf("import with a client_secret_jwt secret hash: %v", err)
		}
		doc.Applications[idx].SecretHash = ""
		res, err := e.srv.Admin().ImportTenant(ops, doc, admin.ImportTenantOptions{Slug: "acme-copy"})
		if err != nil {
			t.Fatal(err)
		}
		var copied string
		for _, ns := range res.Secrets {
			if ns.ID == id {
				copied = ns.Secret
			}
		}
		if copied == "" {
			t.Fatalf("the import made no secret for the client_secret_jwt application: %+v", res.Secrets)
		}
		cp := *f
		cp.issuer = res.Tenant.Issuer
		if s, _, b := cp.post("/oauth/token", "", "", assertionForm(grant, hs(copied).sign(t, assertionClaims(id, cp.issuer)))); s != http.StatusOK {
			t.Fatalf("the imported application's new secret: %d %v", s, b)
		}
		if s, _, _ := cp.post("/oauth/token", "", "", assertionForm(grant, hs(third).sign(t, assertionClaims(id, cp.issuer)))); s != http.StatusUnauthorized {
			t.Fatalf("the source tenant's secret at the copy: %d", s)
		}

		// Dynamic client registration (RFC 7591) registers one too.
		if _, err := e.srv.Admin().UpdateTenant(f.adminCtx(), admin.TenantSettings{ClientRegistration: ptr(tenants.RegistrationOpen)}); err != nil {
			t.Fatal(err)
		}
		s, _, md := regCall(t, e, http.MethodPost, f.issuer+"/oauth/register", "", map[string]any{"client_name": "tool",
			"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "client_secret_jwt"})
		regID, _ := md["client_id"].(string)
		regSecret, _ := md["client_secret"].(string)
		if s != http.StatusCreated || regSecret == "" || md["token_endpoint_auth_method"] != "client_secret_jwt" {
			t.Fatalf("registration: %d %v", s, md)
		}
		// It holds no API access: it authenticates at introspection.
		if s, _, b := f.post("/oauth/introspect", "", "", assertionForm(url.Values{"token": {"made-up"}}, hs(regSecret).sign(t, assertionClaims(regID, f.issuer+"/oauth/introspect")))); s != http.StatusOK || b["active"] != false {
			t.Fatalf("a registered client_secret_jwt client: %d %v", s, b)
		}
		if s, _, _ := f.post("/oauth/introspect", "", "", assertionForm(url.Values{"token": {"made-up"}}, hs(plain).sign(t, assertionClaims(regID, f.issuer+"/oauth/introspect")))); s != http.StatusUnauthorized {
			t.Fatalf("a registered client with another client's secret: %d", s)
		}
	})
}

func mustRSA(t *testing.T) any {
	t.Helper()
	r, _, _ := newSigners(t)
	return r.key
}
