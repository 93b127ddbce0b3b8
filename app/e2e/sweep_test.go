package e2e

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// TestSweepDropsUnauthenticatedRequests: an authorization request nobody
// signed in to is deleted by the node's maintenance sweep as soon as it
// expires; one that issued a code is kept for the grace period, so that a
// replayed code is still recognised and revokes what the first redemption
// got.
func TestSweepDropsUnauthenticatedRequests(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		anonymous := f.storedRequest(t, f.authorizePost(t, nil)).ID

		cfg := f.oauth2Config(f.web, "openid")
		verifier := oauth2.GenerateVerifier()
		cb := f.login(e.browser(), cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		code := cb.Get("code")
		redeem := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		status, _, tok := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, redeem)
		if status != http.StatusOK {
			t.Fatalf("code exchange: %d %v", status, tok)
		}
		redeemed, err := e.store.AuthRequestByCodeHash(f.tctx(), secret.Hash(code))
		if err != nil {
			t.Fatal(err)
		}

		// Both requests expired a minute ago: well within the grace.
		db, err := e.store.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		ph := "?"
		if e.store.Dialect() == tenants.DialectPostgres {
			ph = "$1"
		}
		if _, err := db.Exec("UPDATE auth_requests SET expires_at = "+ph, e.store.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		count := func(id string) int {
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM auth_requests WHERE id = "+ph, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if count(anonymous) != 0 {
			t.Error("an expired request nobody signed in to survived the sweep")
		}
		if count(redeemed.ID) != 1 {
			t.Fatal("the sweep deleted a redeemed request within the grace period")
		}
		status, _, body := f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, redeem)
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("replayed code after the sweep: %d %v", status, body)
		}
		if in := f.introspect(tok["access_token"].(string)); in["active"] != false {
			t.Errorf("the replay did not revoke the first redemption's token: %v", in)
		}
	})
}
