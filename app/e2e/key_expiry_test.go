package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// jwtHeader decodes the protected header of a compact JWS.
func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var h map[string]any
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil {
		t.Fatalf("header of %q: %v", token, err)
	}
	return h
}

// jwksKids returns the key ids the tenant's JWKS publishes.
func jwksKids(t *testing.T, e *env, issuer string) map[string]bool {
	t.Helper()
	var set struct {
		Keys []struct{ Kid string } `json:"keys"`
	}
	if err := json.Unmarshal([]byte(fetch(t, e, issuer+"/.well-known/jwks.json")), &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.Kid] = true
	}
	return out
}

// TestRetiredKeyExpiresOnARunningNode (issue 8, finding 9): once a retired
// signing key's expiry passes on the store's clock, a running node drops it
// from its JWKS and its verifier refuses what it signed (introspection
// inactive, userinfo 401), with no change to the tenant that would make
// the node reload its keys. The tokens outlive the key (their lifetime was
// cut after they were issued), so nothing but the key's expiry refuses them.
func TestRetiredKeyExpiresOnARunningNode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		clk := &testClock{}
		e := newEnv(t, db.URL(t), withClock(clk))
		f := e.fixture("acme")
		svc := e.srv.Admin()
		// The tenant as stored now, as a request of the management API
		// sees it (the fixture's copy keeps the lifetimes it was made with).
		current := func() context.Context {
			t.Helper()
			ctx, _, err := svc.WithTenant(context.Background(), f.slug)
			if err != nil {
				t.Fatal(err)
			}
			return ctx
		}
		lifetimes := func(access, id time.Duration) {
			t.Helper()
			if _, err := svc.UpdateTenant(current(), admin.TenantSettings{AccessTokenLifetime: &access, IDTokenLifetime: &id}); err != nil {
				t.Fatal(err)
			}
		}
		lifetimes(24*time.Hour, 24*time.Hour)
		var machine string
		eventually(t, 3*time.Second, "a 24h access token", func() bool {
			status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
			if status != http.StatusOK {
				t.Fatalf("client_credentials: %d %v", status, body)
			}
			machine = mustToken(t, body, "access_token")
			n, _ := body["expires_in"].(float64)
			return n > 23*3600
		})
		tok, _ := f.codeFlow(e.browser(), f.web, []string{"openid"})
		oldKid := jwtHeader(t, tok.AccessToken)["kid"].(string)
		if k := jwtHeader(t, machine)["kid"]; k != oldKid {
			t.Fatalf("two tokens, two keys: %v %v", k, oldKid)
		}
		if time.Until(tok.Expiry) < 23*time.Hour {
			t.Fatalf("user's access token expires at %v, want in 24h", tok.Expiry)
		}

		// Shorter lifetimes, then a rotation: the old key is kept for the
		// new longest lifetime plus the margin, far less than 24h.
		lifetimes(time.Minute, time.Minute)
		if _, err := svc.RotateKey(current(), admin.RotateKeyInput{Now: true}); err != nil {
			t.Fatal(err)
		}
		introspect := func(token string) map[string]any {
			_, _, body := f.post("/oauth/introspect", f.worker.ClientID, f.worker.ClientSecret, url.Values{"token": {token}})
			return body
		}
		eventually(t, 3*time.Second, "the rotation seen by the node", func() bool {
			status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
			return status == http.StatusOK && jwtHeader(t, mustToken(t, body, "access_token"))["kid"] != oldKid
		})
		// Retired but not expired: published, and it verifies.
		if !jwksKids(t, e, f.issuer)[oldKid] {
			t.Fatal("the retired key left the JWKS at once")
		}
		if b := introspect(machine); b["active"] != true {
			t.Fatalf("introspection of a token of the retired key: %v", b)
		}
		if s, _ := f.userinfo(tok.AccessToken); s != http.StatusOK {
			t.Fatalf("userinfo with a token of the retired key: %d", s)
		}

		// Past the key's expiry (not the tokens'), nothing else changed.
		clk.Advance(30 * time.Minute)
		if jwksKids(t, e, f.issuer)[oldKid] {
			t.Error("the expired key is still in the JWKS")
		}
		if b := introspect(machine); b["active"] != false {
			t.Errorf("introspection of a token of the expired key: %v", b)
		}
		if s, h := f.userinfo(tok.AccessToken); s != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("userinfo with a token of the expired key: %d %q", s, h.Get("WWW-Authenticate"))
		}
		// The node's current key still works.
		status, _, body := f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusOK || introspect(mustToken(t, body, "access_token"))["active"] != true {
			t.Errorf("a fresh token after the expiry: %d %v", status, body)
		}
	})
}
