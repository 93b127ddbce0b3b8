package e2e

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestNodesShareOneDatabase runs two nodes on one database, as behind a
// load balancer: a flow started on one finishes on the other, and what one
// node changes (keys, clients) the other serves within its poll interval.
func TestNodesShareOneDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		dbURL := db.URL(t)
		key, _ := secret.ParseMasterKey(secret.NewMasterKey())
		// Both nodes answer for the same base URL (the balancer's).
		lnA, _ := net.Listen("tcp", "127.0.0.1:0")
		lnB, _ := net.Listen("tcp", "127.0.0.1:0")
		_, port, _ := net.SplitHostPort(lnA.Addr().String())
		a := startNode(t, dbURL, key, lnA, "http://localhost:"+port)
		b := startNode(t, dbURL, key, lnB, "http://localhost:"+port)
		f := a.fixture("acme")
		fb := *f
		fb.e = b

		// Log in on A, redeem and refresh on B.
		code, verifier := f.authCode(a.browser(), f.web.ClientID, "openid offline_access")
		status, body := fb.exchange(code, verifier)
		if status != http.StatusOK {
			t.Fatalf("exchange on B of a code from A: %d %v", status, body)
		}
		rt := mustToken(t, body, "refresh_token")
		status, body = f.refresh(rt)
		if status != http.StatusOK {
			t.Fatalf("refresh on A of a token from B: %d %v", status, body)
		}
		if status, _ := fb.refresh(rt); status != http.StatusBadRequest {
			t.Fatal("B accepted a refresh token A had rotated")
		}

		// Both nodes are warm; now A rotates the key and adds a client.
		if got := fetch(t, b, f.issuer+"/.well-known/jwks.json"); got == "" {
			t.Fatal("no JWKS on B")
		}
		tctx := f.adminCtx()
		k, err := a.srv.Admin().RotateKey(tctx, admin.RotateKeyInput{Now: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.srv.Admin().CreateClient(tctx, admin.CreateClientInput{Name: "late", GrantTypes: []string{"client_credentials"}, Audiences: []string{f.api}})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "B publishes A's new key", func() bool {
			return strings.Contains(fetch(t, b, f.issuer+"/.well-known/jwks.json"), k.KID)
		})
		status, _, body = fb.post("/oauth/token", c.ClientID, c.ClientSecret, map[string][]string{"grant_type": {"client_credentials"}})
		if status != http.StatusOK {
			t.Fatalf("B does not know A's new client: %d %v", status, body)
		}
		if kid := kidOf(t, mustToken(t, body, "access_token")); kid != k.KID {
			t.Fatalf("B signs with %s, want the new key %s", kid, k.KID)
		}
	})
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
