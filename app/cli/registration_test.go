package cli_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestProtocolCommands covers what the CLI manages of the protocol
// features: initial access tokens (made and printed once, listed without
// the token, deleted; another tenant's id not found), an API's resource
// server (a confidential application of the tenant only), a
// client_secret_jwt application and its secret's rotation, and an
// application's DPoP, grace period and back-channel logout settings.
func TestProtocolCommands(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		c.ok("", "tenant", "create", "beta")

		tok := c.ok("", "initial-access-token", "create", "--tenant", "acme", "--name", "partner", "--uses", "3", "--lifetime", "48h")
		if s, _ := tok["token"].(string); !strings.HasPrefix(s, "gh_iat_") || tok["uses_left"] != float64(3) {
			t.Fatalf("create: %v", tok)
		}
		list := c.ok("", "initial-access-token", "list", "--tenant", "acme")["initial_access_tokens"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["token"] != nil || list[0].(map[string]any)["name"] != "partner" {
			t.Fatalf("list: %v", list)
		}
		if l := c.ok("", "initial-access-token", "list", "--tenant", "beta")["initial_access_tokens"].([]any); len(l) != 0 {
			t.Fatalf("beta lists acme's token: %v", l)
		}
		id := tok["id"].(string)
		c.refused("", "not found", "initial-access-token", "delete", "--tenant", "beta", "--id", id)
		c.refused("", "uses", "initial-access-token", "create", "--tenant", "acme", "--uses", "0")
		c.refused("", "uses", "initial-access-token", "create", "--tenant", "acme", "--uses", "1001")
		c.refused("", "lifetime", "initial-access-token", "create", "--tenant", "acme", "--lifetime", "2400h")
		c.refused("", "lifetime", "initial-access-token", "create", "--tenant", "acme", "--lifetime", "-1h")
		c.refused("", "--id is required", "initial-access-token", "delete", "--tenant", "acme")
		c.ok("", "initial-access-token", "delete", "--tenant", "acme", "--id", id)
		c.refused("", "not found", "initial-access-token", "delete", "--tenant", "acme", "--id", id)

		// A client_secret_jwt application has a secret, and rotates it.
		hm := c.ok("", "client", "create", "--tenant", "acme", "--name", "hmac", "--grant-type", "client_credentials", "--token-endpoint-auth-method", "client_secret_jwt")
		if hm["client_secret"] == nil || hm["token_endpoint_auth_method"] != "client_secret_jwt" {
			t.Fatalf("client_secret_jwt client: %v", hm)
		}
		hmID := hm["client_id"].(string)
		if r := c.ok("", "client", "rotate-secret", "--tenant", "acme", "--client-id", hmID); r["client_secret"] == nil || r["client_secret"] == hm["client_secret"] {
			t.Fatalf("rotate: %v", r)
		}

		// An API's resource server.
		c.ok("", "api", "create", "--tenant", "acme", "--audience", "https://api.acme.test", "--resource-server-client-id", hmID)
		spa := c.ok("", "client", "create", "--tenant", "acme", "--name", "spa", "--public", "--redirect-uri", "https://app.acme.test/cb")["client_id"].(string)
		beta := c.ok("", "client", "create", "--tenant", "beta", "--name", "w", "--grant-type", "client_credentials")["client_id"].(string)
		c.refused("", "resource_server_client_id", "api", "update", "--tenant", "acme", "--audience", "https://api.acme.test", "--resource-server-client-id", spa)
		c.refused("", "resource_server_client_id", "api", "update", "--tenant", "acme", "--audience", "https://api.acme.test", "--resource-server-client-id", beta)
		if a := c.ok("", "api", "update", "--tenant", "acme", "--audience", "https://api.acme.test", "--resource-server-client-id", ""); a["resource_server_client_id"] != nil {
			t.Fatalf("cleared: %v", a)
		}

		// An application's protocol settings.
		web := c.ok("", "client", "create", "--tenant", "acme", "--name", "web", "--redirect-uri", "https://app.acme.test/cb", "--grant-type", "authorization_code", "--grant-type", "refresh_token")["client_id"].(string)
		u := c.ok("", "client", "update", "--tenant", "acme", "--client-id", web, "--dpop-bound-access-tokens", "--refresh-token-grace-period", "20",
			"--backchannel-logout-session-required")
		if u["dpop_bound_access_tokens"] != true || u["refresh_token_grace_period"] != float64(20) || u["backchannel_logout_session_required"] != true {
			t.Fatalf("update: %v", u)
		}
		c.refused("", "refresh_token_grace_period", "client", "update", "--tenant", "acme", "--client-id", web, "--refresh-token-grace-period", "61")
		c.refused("", "backchannel_logout_uri", "client", "update", "--tenant", "acme", "--client-id", web, "--backchannel-logout-uri", "http://127.0.0.1/logout")
		c.refused("", "jwks", "client", "update", "--tenant", "acme", "--client-id", web, "--jwks-uri", "https://keys.example.com/jwks")
	})
}
