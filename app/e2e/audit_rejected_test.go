package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// listen makes w remember the first line logged with marker, without
// failing anyone for it (watch is for what must never be logged).
func (w *logWatch) listen(marker string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.markers = append(w.markers, marker)
}

// TestRejectedRequestsAreFoundByReference: "why did this sign-in fail?".
// A refused token request (bad client secret, bad code) and a refused
// authorization request (a redirect URI not registered) are each audited
// with the reference their answer or error page carries, the client, the
// reason and the request's origin; the management API finds each by its
// reference, the server's log has it, and another tenant's audit log does
// not.
func TestRejectedRequestsAreFoundByReference(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		e.fixture("beta")
		c := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeAuditRead)
		byReference := func(slug, ref string) []map[string]any {
			t.Helper()
			return c.items(t, "/tenants/"+slug+"/audit?request_id="+url.QueryEscape(ref))
		}
		found := func(ref, action, client, reason string) map[string]any {
			t.Helper()
			if ref == "" {
				t.Fatal("the answer carries no reference")
			}
			evs := byReference("acme", ref)
			if len(evs) != 1 {
				t.Fatalf("events with reference %s: %v", ref, evs)
			}
			ev := evs[0]
			if ev["action"] != action || ev["client_id"] != client || ev["outcome"] != "failure" || ev["request_id"] != ref ||
				!strings.Contains(ev["reason"].(string), reason) || ev["ip_address"] == "" || ev["ip_address"] == nil {
				t.Fatalf("event %v, want %s of %s for %q", ev, action, client, reason)
			}
			if len(byReference("beta", ref)) != 0 {
				t.Fatalf("another tenant's log has reference %s", ref)
			}
			return ev
		}
		// The first log line of a client names the reference of its
		// first refusal.
		logged := func(client, ref string) {
			t.Helper()
			if line := logs.lineWith("client_id=" + client); !strings.Contains(line, "request refused") || !strings.Contains(line, "reference="+ref) {
				t.Errorf("the log line of %s's refusal %s: %q", client, ref, line)
			}
		}
		unknown := "no-such-client-" + secret.Token(6)
		for _, id := range []string{f.web.ClientID, f.spa.ClientID, unknown} {
			logs.listen("client_id=" + id)
		}

		// A wrong client secret: invalid_client, 401.
		status, hdr, body := f.post("/oauth/token", f.web.ClientID, "not-the-secret", url.Values{"grant_type": {"authorization_code"},
			"code": {"x"}, "redirect_uri": {redirectURI}, "code_verifier": {strings.Repeat("v", 43)}})
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Fatalf("wrong secret: %d %v", status, body)
		}
		ref := hdr.Get("X-Request-ID")
		ev := found(ref, "token.rejected", f.web.ClientID, "invalid_client")
		if strings.Contains(ev["reason"].(string), "not-the-secret") {
			t.Fatalf("the secret is in the audit log: %v", ev)
		}

		// A code that was never issued: invalid_grant.
		status, hdr, body = f.post("/oauth/token", f.web.ClientID, f.web.ClientSecret, url.Values{"grant_type": {"authorization_code"},
			"code": {"never-issued"}, "redirect_uri": {redirectURI}, "code_verifier": {strings.Repeat("v", 43)}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("unknown code: %d %v", status, body)
		}
		ref2 := hdr.Get("X-Request-ID")
		ev = found(ref2, "token.rejected", f.web.ClientID, "invalid_grant")
		if strings.Contains(ev["reason"].(string), "never-issued") {
			t.Fatalf("the code is in the audit log: %v", ev)
		}

		// A redirect URI that is not registered: an error page with the
		// reference on it.
		p := e.browser().get(f.issuer + "/authorize?" + url.Values{"client_id": {f.spa.ClientID}, "response_type": {"code"},
			"redirect_uri": {"https://evil.example/cb"}, "scope": {"openid"}, "state": {"s"},
			"code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}}.Encode())
		if p.status != http.StatusBadRequest {
			t.Fatalf("unregistered redirect URI: %d", p.status)
		}
		m := regexp.MustCompile(`reference ([A-Za-z0-9_-]+)`).FindStringSubmatch(p.body)
		if m == nil || m[1] != p.header.Get("X-Request-ID") {
			t.Fatalf("the error page shows no reference (X-Request-ID %q):\n%s", p.header.Get("X-Request-ID"), p.body)
		}
		found(m[1], "authorize.rejected", f.spa.ClientID, "redirect_uri")

		// An unknown client: audited under the id it sent.
		status, hdr, _ = f.post("/oauth/token", unknown, "x", url.Values{"grant_type": {"client_credentials"}})
		if status != http.StatusUnauthorized {
			t.Fatalf("unknown client: %d", status)
		}
		ref4 := hdr.Get("X-Request-ID")
		found(ref4, "token.rejected", unknown, "invalid_client")

		logged(f.web.ClientID, ref)
		logged(f.spa.ClientID, m[1])
		logged(unknown, ref4)
		// The audit listing filters by reference only.
		if n := len(c.items(t, "/tenants/acme/audit?action=token.rejected&limit=200")); n < 3 {
			t.Fatalf("token.rejected events: %d", n)
		}
	})
}
