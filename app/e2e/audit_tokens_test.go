package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// TestAuditTokenEvents: consent, tokens issued (each grant type), a
// refresh token and a code presented again, and a revocation each write
// an event naming the client and the subject, with the request's address,
// user agent and id, and never a token.
func TestAuditTokenEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		code, verifier := f.authCode(e.browser(), f.web.ClientID, "openid offline_access")
		status, body := f.exchange(code, verifier)
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %v", status, body)
		}
		rt1 := mustToken(t, body, "refresh_token")
		var secrets []string
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			secrets = append(secrets, mustToken(t, body, k))
		}
		status, body = f.refresh(rt1)
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		rt2 := mustToken(t, body, "refresh_token")
		secrets = append(secrets, code, verifier, rt2, mustToken(t, body, "access_token"))
		if status, _ := f.refresh(rt1); status != http.StatusBadRequest {
			t.Fatalf("reused refresh token: %d", status)
		}
		if status, _ := f.exchange(code, verifier); status != http.StatusBadRequest {
			t.Fatalf("replayed code: %d", status)
		}
		// A second sign-in, its refresh token revoked by the client.
		code2, verifier2 := f.authCode(e.browser(), f.web.ClientID, "openid offline_access")
		_, body = f.exchange(code2, verifier2)
		rt3 := mustToken(t, body, "refresh_token")
		if status, _, _ := f.post("/oauth/revoke", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {rt3}}); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		// Client credentials.
		status, _, body = f.post("/oauth/token", f.worker.ClientID, f.worker.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusOK {
			t.Fatalf("client credentials: %d %v", status, body)
		}
		secrets = append(secrets, rt3, mustToken(t, body, "access_token"), f.web.ClientSecret, f.worker.ClientSecret)

		want := []struct {
			action, client, subject, outcome, reason string
		}{
			{"consent.granted", f.web.ClientID, f.userID, "success", "openid offline_access"},
			{"token.issued", f.web.ClientID, f.userID, "success", "authorization_code"},
			{"token.issued", f.web.ClientID, f.userID, "success", "refresh_token"},
			{"token.refresh_reused", f.web.ClientID, f.userID, "denied", "family is revoked"},
			{"token.code_replayed", f.web.ClientID, f.userID, "denied", "tokens are revoked"},
			{"token.revoked", f.web.ClientID, f.userID, "success", "refresh token"},
			{"token.issued", f.worker.ClientID, f.worker.ClientID, "success", "client_credentials"},
		}
		evs, err := e.store.ListAudit(f.tctx(), tenants.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			var found *tenants.AuditEvent
			for i := range evs {
				ev := &evs[i]
				if ev.Action == w.action && ev.ClientID == w.client && (ev.TargetID == w.subject || ev.ActorID == w.subject) && strings.Contains(ev.Reason, w.reason) {
					found = ev
					break
				}
			}
			if found == nil {
				t.Errorf("no %s event for client %s, subject %s, reason ~%q", w.action, w.client, w.subject, w.reason)
				continue
			}
			if found.Outcome != w.outcome || found.IPAddress != "127.0.0.1" || found.UserAgent == "" || found.RequestID == "" {
				t.Errorf("%s: outcome %q, address %q, user agent %q, request id %q", w.action, found.Outcome, found.IPAddress, found.UserAgent, found.RequestID)
			}
		}
		// Filtered by client through the management API.
		c := e.managementClient(t, "acme", "audit:read")
		page := c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/audit?client="+url.QueryEscape(f.worker.ClientID), nil)
		items := objects(t, page["items"])
		if len(items) != 1 || items[0]["action"] != "token.issued" || items[0]["client_id"] != f.worker.ClientID {
			t.Fatalf("audit filtered by client: %v", items)
		}
		raw, _ := json.Marshal(evs)
		for _, s := range secrets {
			if s != "" && strings.Contains(string(raw), s) {
				t.Fatalf("a token, code or secret is in the audit log: %.12s...", s)
			}
		}
	})
}
