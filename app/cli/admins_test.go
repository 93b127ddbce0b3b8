package cli_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestAdministratorsFromTheCLI lists, narrows and deletes administrators
// and management clients with the CLI, on every database, and refuses to
// delete (or demote) the last operator.
func TestAdministratorsFromTheCLI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		c.ok("", "tenant", "create", "beta")
		if l := c.ok("", "admin", "list"); len(l["administrators"].([]any)) != 0 {
			t.Fatalf("administrators of a new deployment: %v", l)
		}
		c.ok(testPasswordLine, "admin", "create", "--email", "ops@example.test", "--password-stdin")
		ann := c.ok(testPasswordLine, "admin", "create", "--email", "ann@example.test", "--tenant", "acme", "--scope", "tenants:read", "--password-stdin")
		if ann["role"] != "tenant_admin" || fmtList(ann["scopes"]) != "tenants:read" {
			t.Fatalf("ann: %v", ann)
		}
		l := c.ok("", "admin", "list")["administrators"].([]any)
		if len(l) != 2 || l[0].(map[string]any)["user"].(map[string]any)["email"] != "ann@example.test" {
			t.Fatalf("admin list: %v", l)
		}
		ann = c.ok("", "admin", "update", "--email", "ann@example.test", "--tenant", "acme", "--tenant", "beta", "--scope", "tenants:write", "--scope", "audit:read")
		if fmtList(ann["tenants"]) != "acme beta" || fmtList(ann["scopes"]) != "audit:read tenants:write" {
			t.Fatalf("admin update: %v", ann)
		}

		// The last operator stays, whatever is asked.
		c.refused("", "the last operator cannot be removed", "admin", "delete", "--email", "ops@example.test")
		c.refused("", "the last operator cannot be removed", "admin", "update", "--email", "ops@example.test", "--tenant", "acme")
		c.refused("", "nothing to change", "admin", "update", "--email", "ops@example.test")
		c.refused("", "choose one", "admin", "update", "--email", "ann@example.test", "--operator", "--tenant", "acme")
		c.refused("", `administrator "nobody@example.test": not found`, "admin", "delete", "--email", "nobody@example.test")
		c.refused("", `no tenant "gamma"`, "admin", "update", "--email", "ann@example.test", "--tenant", "gamma")
		if l := c.ok("", "admin", "list")["administrators"].([]any); len(l) != 2 || l[1].(map[string]any)["role"] != "operator" {
			t.Fatalf("a refused command changed the administrators: %v", l)
		}
		c.ok("", "admin", "update", "--email", "ann@example.test", "--operator")
		if d := c.ok("", "admin", "delete", "--email", "ops@example.test"); d["deleted"].(map[string]any)["role"] != "operator" {
			t.Fatalf("admin delete: %v", d)
		}
		c.refused("", "not found", "admin", "delete", "--email", "ops@example.test")

		// Management clients.
		ci := c.ok("", "admin", "client", "create", "--name", "ci", "--scope", "tenants:read", "--tenant", "acme")
		id := ci["client_id"].(string)
		if l := c.ok("", "admin", "client", "list")["clients"].([]any); len(l) != 1 || l[0].(map[string]any)["client_secret"] != nil {
			t.Fatalf("admin client list: %v", l)
		}
		if u := c.ok("", "admin", "client", "update", "--client-id", id, "--scope", "audit:read"); fmtList(u["scopes"]) != "audit:read" || fmtList(u["tenants"]) != "acme" {
			t.Fatalf("admin client update: %v", u)
		}
		c.ok("", "admin", "client", "delete", "--client-id", id)
		c.refused("", "not found", "admin", "client", "delete", "--client-id", id)
		if l := c.ok("", "admin", "client", "list")["clients"].([]any); len(l) != 0 {
			t.Fatalf("after the delete: %v", l)
		}
	})
}

func fmtList(v any) string {
	l, _ := v.([]any)
	out := ""
	for i, x := range l {
		if i > 0 {
			out += " "
		}
		out += x.(string)
	}
	return out
}
