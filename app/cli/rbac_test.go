package cli_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestRolesAndGroups runs the role and group commands of issue 10 through
// the real CLI, on every database: an RBAC API, a role with its
// permissions, a user holding it directly and through a group.
func TestRolesAndGroups(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		c.ok(testPasswordLine, "user", "create", "--tenant", "acme", "--email", "ann@acme.test", "--password-stdin")
		api := c.ok("", "api", "create", "--tenant", "acme", "--audience", "https://orders.acme.test", "--scope", "read:orders", "--scope", "write:orders",
			"--rbac", "--token-claims", "roles,groups")
		if api["rbac"] != true || len(api["token_claims"].([]any)) != 2 {
			t.Fatalf("api: %v", api)
		}
		c.refused("", "token_claims", "api", "create", "--tenant", "acme", "--audience", "https://x.acme.test", "--token-claims", "roles,sub")

		role := c.ok("", "role", "create", "--tenant", "acme", "--name", "clerk", "--description", "Takes orders",
			"--api", "https://orders.acme.test", "--scope", "read:orders", "--scope", "write:orders")
		if perms := role["permissions"].([]any); len(perms) != 2 {
			t.Fatalf("role: %v", role)
		}
		c.refused("", "no scope", "role", "create", "--tenant", "acme", "--name", "bad", "--api", "https://orders.acme.test", "--scope", "delete:orders")
		c.refused("", "no API", "role", "create", "--tenant", "acme", "--name", "bad", "--api", "https://nowhere.test", "--scope", "read:orders")
		c.refused("", "name the API first", "role", "create", "--tenant", "acme", "--name", "bad", "--scope", "read:orders")
		c.refused("", "already exists", "role", "create", "--tenant", "acme", "--name", "clerk")
		if rs := c.ok("", "role", "list", "--tenant", "acme")["roles"].([]any); len(rs) != 1 {
			t.Fatalf("roles: %v", rs)
		}

		got := c.ok("", "user", "add-role", "--tenant", "acme", "--email", "ann@acme.test", "--role", "clerk")
		if rs := got["roles"].([]any); len(rs) != 1 || rs[0].(map[string]any)["direct"] != true {
			t.Fatalf("after add-role: %v", got)
		}
		c.refused("", "not found", "user", "add-role", "--tenant", "acme", "--email", "ann@acme.test", "--role", "nope")

		c.ok("", "group", "create", "--tenant", "acme", "--name", "staff")
		c.ok("", "group", "add-member", "--tenant", "acme", "--group", "staff", "--email", "ann@acme.test")
		c.ok("", "group", "add-role", "--tenant", "acme", "--group", "staff", "--role", "clerk")
		c.ok("", "user", "remove-role", "--tenant", "acme", "--email", "ann@acme.test", "--role", "clerk")
		got = c.ok("", "user", "roles", "--tenant", "acme", "--email", "ann@acme.test")
		rs := got["roles"].([]any)
		if len(rs) != 1 {
			t.Fatalf("roles through the group: %v", got)
		}
		r := rs[0].(map[string]any)
		if r["direct"] != false || r["groups"].([]any)[0].(map[string]any)["name"] != "staff" {
			t.Fatalf("role through the group: %v", r)
		}
		if gs := c.ok("", "group", "list", "--tenant", "acme")["groups"].([]any); len(gs) != 1 {
			t.Fatalf("groups: %v", gs)
		}
		c.ok("", "group", "remove-role", "--tenant", "acme", "--group", "staff", "--role", "clerk")
		c.ok("", "group", "remove-member", "--tenant", "acme", "--group", "staff", "--email", "ann@acme.test")
		c.ok("", "group", "delete", "--tenant", "acme", "--name", "staff")
		c.ok("", "role", "delete", "--tenant", "acme", "--name", "clerk")
		c.refused("", "not found", "role", "delete", "--tenant", "acme", "--name", "clerk")
	})
}

// TestClaimRuleCommands: a rule through the real CLI — refused when it sets
// sub, created, previewed for a user and client, disabled and deleted.
func TestClaimRuleCommands(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		c.ok(testPasswordLine, "user", "create", "--tenant", "acme", "--email", "ann@acme.test", "--password-stdin")
		cl := c.ok("", "client", "create", "--tenant", "acme", "--name", "Web", "--redirect-uri", "https://app.acme.test/cb")
		c.refused("", "id_token.sub", "rule", "create", "--tenant", "acme", "--name", "evil", "--id-claim", "sub='admin'")
		c.refused("", "condition", "rule", "create", "--tenant", "acme", "--name", "typo", "--condition", "user.rolez == 1", "--id-claim", "x=1")
		r := c.ok("", "rule", "create", "--tenant", "acme", "--name", "plan", "--condition", "user.email.endsWith('@acme.test')",
			"--id-claim", "plan='gold'", "--access-claim", "tier=user.roles.size()")
		if r["enabled"] != true || r["id_token"].(map[string]any)["plan"] != "'gold'" {
			t.Fatalf("rule: %v", r)
		}
		p := c.ok("", "rule", "preview", "--tenant", "acme", "--email", "ann@acme.test", "--client", cl["client_id"].(string))
		if p["id_token"].(map[string]any)["plan"] != "gold" || p["access_token"].(map[string]any)["tier"] != float64(0) {
			t.Fatalf("preview: %v", p)
		}
		if d := c.ok("", "rule", "disable", "--tenant", "acme", "--id", r["id"].(string)); d["enabled"] != false {
			t.Fatalf("disable: %v", d)
		}
		c.ok("", "rule", "delete", "--tenant", "acme", "--id", r["id"].(string))
		if rs := c.ok("", "rule", "list", "--tenant", "acme")["rules"].([]any); len(rs) != 0 {
			t.Fatalf("rules after delete: %v", rs)
		}
	})
}
