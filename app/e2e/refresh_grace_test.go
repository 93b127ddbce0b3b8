package e2e

import (
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestRefreshGracePeriod: a client with a refresh token grace period, set
// through the management API, may present its just-rotated refresh token
// again within the period and gets the same successor, from either of two
// nodes; after the period, or once the successor was itself used, or from
// another client, the reuse revokes the family as without a grace period.
// Time moves on the store's clock, never by sleeping.
func TestRefreshGracePeriod(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		dbURL := db.URL(t)
		clk := &testClock{}
		key, _ := secret.ParseMasterKey(secret.NewMasterKey())
		lnA, _ := net.Listen("tcp", "127.0.0.1:0")
		lnB, _ := net.Listen("tcp", "127.0.0.1:0")
		_, port, _ := net.SplitHostPort(lnA.Addr().String())
		a := startNode(t, dbURL, key, lnA, "http://localhost:"+port, withClock(clk))
		b := startNode(t, dbURL, key, lnB, "http://localhost:"+port, withClock(clk))
		f := a.fixture("acme")
		fb := *f
		fb.e = b

		api := a.managementClient(t, "acme", admin.ScopeTenantsWrite)
		path := "/tenants/acme/applications/" + f.web.ClientID
		for _, bad := range []any{61, -1, 1 << 40, "30"} {
			if status, _, body := api.do(t, http.MethodPatch, path, map[string]any{"refresh_token_grace_period": bad}); status != http.StatusBadRequest {
				t.Fatalf("grace period %v: %d %v", bad, status, body)
			}
		}
		v := api.must(t, http.StatusOK, http.MethodPatch, path, map[string]any{"refresh_token_grace_period": 30})
		if v["refresh_token_grace_period"] != float64(30) {
			t.Fatalf("application after PATCH: %v", v)
		}

		signIn := func() string {
			t.Helper()
			code, verifier := f.authCode(a.browser(), f.web.ClientID, "openid offline_access")
			status, body := f.exchange(code, verifier)
			if status != http.StatusOK {
				t.Fatalf("code exchange: %d %v", status, body)
			}
			return mustToken(t, body, "refresh_token")
		}
		refresh := func(f *fixture, rt string) (int, string, string) {
			t.Helper()
			status, body := f.refresh(rt)
			next, _ := body["refresh_token"].(string)
			at, _ := body["access_token"].(string)
			if status == http.StatusOK && (next == "" || at == "") {
				t.Fatalf("refresh answered without tokens: %v", body)
			}
			if status != http.StatusOK && errorCode(body) != "invalid_grant" {
				t.Fatalf("refresh refused with %v", body)
			}
			return status, next, at
		}

		// Within the period: the same successor, on A and on B, each with
		// a working access token.
		rt1 := signIn()
		status, rt2, at1 := refresh(f, rt1)
		if status != http.StatusOK {
			t.Fatalf("first refresh: %d", status)
		}
		clk.Advance(20 * time.Second)
		status, again, at2 := refresh(&fb, rt1)
		if status != http.StatusOK || again != rt2 {
			t.Fatalf("rt1 again on B within the grace period: %d, successor %q, want %q", status, again, rt2)
		}
		status, again, _ = refresh(f, rt1)
		if status != http.StatusOK || again != rt2 || at1 == at2 {
			t.Fatalf("rt1 again on A within the grace period: %d, same successor %v", status, again == rt2)
		}
		if s, _ := f.userinfo(at2); s != http.StatusOK {
			t.Fatalf("userinfo with the grace answer's access token: %d", s)
		}
		// After the period the same presentation is a reuse: the family
		// goes, its successor and its access tokens with it.
		clk.Advance(11 * time.Second)
		if status, _, _ := refresh(f, rt1); status != http.StatusBadRequest {
			t.Fatalf("rt1 after the grace period: %d", status)
		}
		if status, _, _ := refresh(f, rt2); status != http.StatusBadRequest {
			t.Fatalf("the successor after the family was revoked: %d", status)
		}
		if s, _ := f.userinfo(at2); s != http.StatusUnauthorized {
			t.Fatalf("access token of a revoked family: %d", s)
		}

		// Once the successor is used, the old token is no longer the
		// just-rotated one: reuse, even within the period.
		rt1 = signIn()
		_, rt2, _ = refresh(f, rt1)
		status, rt3, _ := refresh(f, rt2)
		if status != http.StatusOK {
			t.Fatalf("rotating the successor: %d", status)
		}
		if status, _, _ := refresh(f, rt1); status != http.StatusBadRequest {
			t.Fatalf("rt1 after its successor was rotated: %d", status)
		}
		if status, _, _ := refresh(f, rt3); status != http.StatusBadRequest {
			t.Fatal("the family survived the reuse")
		}

		// Another client presenting the token gets nothing, and its
		// attempt does not count as the owner's.
		rt1 = signIn()
		_, rt2, _ = refresh(f, rt1)
		other := api.must(t, http.StatusCreated, http.MethodPost, "/tenants/acme/applications", map[string]any{
			"kind": "web", "client_name": "Other", "redirect_uris": []string{redirectURI}, "refresh_token_grace_period": 60})
		status, _, body := f.post("/oauth/token", other["client_id"].(string), other["client_secret"].(string), url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
		if status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Fatalf("another client's refresh token: %d %v", status, body)
		}
		if status, again, _ := refresh(f, rt1); status != http.StatusOK || again != rt2 {
			t.Fatalf("owner within the grace period after another client tried: %d", status)
		}

		// Without a grace period (back to 0) a reuse revokes at once.
		api.must(t, http.StatusOK, http.MethodPatch, path, map[string]any{"refresh_token_grace_period": 0})
		eventually(t, 5*time.Second, "both nodes see the grace period gone", func() bool {
			rt := signIn()
			_, next, _ := refresh(f, rt)
			sa, _, _ := refresh(&fb, rt)
			sb, _, _ := refresh(f, next)
			return sa == http.StatusBadRequest && sb == http.StatusBadRequest
		})
	})
}
