package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestManagementCommandsNeedADatabase runs every management command, with
// arguments it accepts, where there is no database and no
// GATEHOUSE_DATABASE_URL: each says so in one line and fails, and nothing
// is written (no database, no development master key). migrate creates
// the database; then the same commands work on it.
func TestManagementCommandsNeedADatabase(t *testing.T) {
	dir := t.TempDir()
	c := &cliRunner{t: t, env: map[string]string{"GATEHOUSE_DATA_DIR": dir}}
	for _, name := range cli.Commands() {
		switch name {
		case "serve", "migrate", "dev callback":
			continue // they make a database, or need none
		}
		v := validArgs[name]
		c.refused(v.stdin, "no database: GATEHOUSE_DATABASE_URL is not set and "+dir+"/gatehouse.db does not exist",
			append(strings.Fields(name), v.args...)...)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused command wrote into the data folder: %v", entries)
	}
	c.ok("", "migrate")
	c.ok("", "tenant", "create", "acme")
	if l := c.ok("", "tenant", "list"); len(l["tenants"].([]any)) != 1 {
		t.Fatalf("tenant list after migrate: %v", l)
	}
}

// TestResourcesListShowUpdateDelete walks each resource through the CLI,
// on every database: created, listed (as JSON and as a table), shown,
// changed, deleted, and then neither shown nor listed; and the other
// tenant's resources are not found from this one.
func TestResourcesListShowUpdateDelete(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme", "--name", "Acme Inc")
		c.ok("", "tenant", "create", "beta")

		table := func(args ...string) string {
			t.Helper()
			r := c.run("", append(args, "--output", "table")...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			return r.stdout
		}
		listed := func(key string, args ...string) []map[string]any {
			t.Helper()
			var out []map[string]any
			for _, x := range c.ok("", args...)[key].([]any) {
				out = append(out, x.(map[string]any))
			}
			return out
		}

		// Tenants.
		if tb := table("tenant", "list"); !strings.HasPrefix(tb, "SLUG") || !strings.Contains(tb, "acme") || !strings.Contains(tb, "Acme Inc") {
			t.Fatalf("tenant list table:\n%s", tb)
		}
		if tn := c.ok("", "tenant", "show", "acme"); tn["name"] != "Acme Inc" {
			t.Fatalf("tenant show: %v", tn)
		}
		if tn := c.ok("", "tenant", "update", "acme", "--name", "Acme Corp", "--signup", "open", "--access-token-lifetime", "15m"); tn["name"] != "Acme Corp" ||
			tn["signup_mode"] != "open" || tn["access_token_lifetime"] != float64(900) {
			t.Fatalf("tenant update: %v", tn)
		}
		if tb := table("tenant", "show", "acme"); !strings.Contains(tb, "signup_mode") || !strings.Contains(tb, "open") {
			t.Fatalf("tenant show table:\n%s", tb)
		}
		c.refused("", "nothing to change", "tenant", "update", "acme")
		c.refused("", "mfa", "tenant", "update", "acme", "--mfa", "sometimes")

		// APIs.
		c.ok("", "api", "create", "--tenant", "acme", "--audience", "https://api.acme.test", "--scope", "read:orders")
		c.ok("", "api", "create", "--tenant", "beta", "--audience", "https://api.beta.test")
		if as := listed("apis", "api", "list", "--tenant", "acme"); len(as) != 1 || as[0]["audience"] != "https://api.acme.test" {
			t.Fatalf("api list: %v", as)
		}
		if a := c.ok("", "api", "update", "--tenant", "acme", "--audience", "https://api.acme.test", "--name", "Orders", "--scope", "read:orders", "--scope", "write:orders",
			"--rbac"); a["name"] != "Orders" || len(a["scopes"].([]any)) != 2 || a["rbac"] != true {
			t.Fatalf("api update: %v", a)
		}
		c.refused("", `API "https://api.beta.test": not found`, "api", "show", "--tenant", "acme", "--audience", "https://api.beta.test")

		// Applications.
		web := c.ok("", "client", "create", "--tenant", "acme", "--name", "web", "--redirect-uri", "https://app.acme.test/cb")
		id := web["client_id"].(string)
		other := c.ok("", "client", "create", "--tenant", "beta", "--name", "web", "--redirect-uri", "https://app.beta.test/cb")["client_id"].(string)
		if cl := c.ok("", "client", "show", "--tenant", "acme", "--client-id", id); cl["client_name"] != "web" || cl["client_secret"] != nil {
			t.Fatalf("client show: %v", cl)
		}
		if cl := c.ok("", "client", "update", "--tenant", "acme", "--client-id", id, "--name", "Web app", "--redirect-uri", "https://app.acme.test/cb2"); cl["client_name"] != "Web app" ||
			strings.Join(strs(cl["redirect_uris"]), ",") != "https://app.acme.test/cb2" {
			t.Fatalf("client update: %v", cl)
		}
		c.refused("", "must use https", "client", "update", "--tenant", "acme", "--client-id", id, "--redirect-uri", "http://evil.test/cb")
		if tb := table("client", "list", "--tenant", "acme"); !strings.Contains(tb, id) || !strings.Contains(tb, "Web app") || strings.Contains(tb, other) {
			t.Fatalf("client list table:\n%s", tb)
		}

		// Users.
		c.ok(testPasswordLine, "user", "create", "--tenant", "acme", "--email", "ann@acme.test", "--password-stdin")
		c.ok(testPasswordLine, "user", "create", "--tenant", "acme", "--email", "bob@acme.test", "--password-stdin")
		c.ok(testPasswordLine, "user", "create", "--tenant", "beta", "--email", "cy@beta.test", "--password-stdin")
		if us := listed("users", "user", "list", "--tenant", "acme"); len(us) != 2 {
			t.Fatalf("user list: %v", us)
		}
		if us := listed("users", "user", "list", "--tenant", "acme", "--query", "bob"); len(us) != 1 || us[0]["email"] != "bob@acme.test" {
			t.Fatalf("user list --query: %v", us)
		}
		if us := listed("users", "user", "list", "--tenant", "acme", "--limit", "1"); len(us) != 1 {
			t.Fatalf("user list --limit 1: %v", us)
		}
		if u := c.ok("", "user", "update", "--tenant", "acme", "--email", "ann@acme.test", "--name", "Ann Smith", "--email-verified"); u["name"] != "Ann Smith" || u["email_verified"] != true {
			t.Fatalf("user update: %v", u)
		}
		if u := c.ok("", "user", "show", "--tenant", "acme", "--email", "ANN@acme.test"); u["name"] != "Ann Smith" {
			t.Fatalf("user show: %v", u)
		}
		c.refused("", "not found", "user", "show", "--tenant", "acme", "--email", "cy@beta.test")

		// Roles and groups.
		c.ok("", "role", "create", "--tenant", "acme", "--name", "clerk")
		if r := c.ok("", "role", "update", "--tenant", "acme", "--name", "clerk", "--new-name", "desk", "--description", "Front desk",
			"--api", "https://api.acme.test", "--scope", "read:orders"); r["name"] != "desk" || len(r["permissions"].([]any)) != 1 {
			t.Fatalf("role update: %v", r)
		}
		if r := c.ok("", "role", "show", "--tenant", "acme", "--name", "desk"); r["description"] != "Front desk" {
			t.Fatalf("role show: %v", r)
		}
		c.ok("", "group", "create", "--tenant", "acme", "--name", "staff")
		if g := c.ok("", "group", "update", "--tenant", "acme", "--name", "staff", "--new-name", "employees"); g["name"] != "employees" {
			t.Fatalf("group update: %v", g)
		}
		c.ok("", "group", "show", "--tenant", "acme", "--name", "employees")
		c.refused("", "not found", "group", "show", "--tenant", "beta", "--name", "employees")

		// Keys.
		keys := listed("keys", "key", "list", "--tenant", "acme")
		if k := c.ok("", "key", "show", "--tenant", "acme", "--kid", keys[0]["kid"].(string)); k["alg"] != "RS256" {
			t.Fatalf("key show: %v", k)
		}
		betaKID := listed("keys", "key", "list", "--tenant", "beta")[0]["kid"].(string)
		c.refused("", "not found", "key", "show", "--tenant", "acme", "--kid", betaKID)

		// Connections: one created disabled, enabled later.
		gh := c.ok("gh-secret\n", "connection", "create", "--tenant", "acme", "--type", "github", "--client-id", "gh", "--client-secret-stdin", "--disabled")
		if gh["enabled"] != false {
			t.Fatalf("connection create --disabled: %v", gh)
		}
		if cn := c.ok("", "connection", "update", "--tenant", "acme", "--name", "GitHub", "--enabled", "--domain", "acme.test"); cn["enabled"] != true ||
			strings.Join(strs(cn["domains"]), ",") != "acme.test" {
			t.Fatalf("connection update: %v", cn)
		}
		if cn := c.ok("", "connection", "show", "--tenant", "acme", "--name", gh["id"].(string)); cn["name"] != "GitHub" || cn["client_secret"] != nil {
			t.Fatalf("connection show by id: %v", cn)
		}
		if tb := table("connection", "list", "--tenant", "acme"); !strings.Contains(tb, "GitHub") || strings.Contains(tb, "gh-secret") {
			t.Fatalf("connection list table:\n%s", tb)
		}
		c.refused("", `connection "GitHub": not found`, "connection", "show", "--tenant", "beta", "--name", "GitHub")
		// Sign in with Apple: the .p8 key from a file, never shown.
		ak, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(ak)
		p8 := filepath.Join(t.TempDir(), "AuthKey_KEY1234567.p8")
		if err := os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		if ap := c.ok("", "connection", "create", "--tenant", "acme", "--type", "apple", "--client-id", "com.acme.signin", "--apple-team-id", "TEAM123456",
			"--apple-key-id", "KEY1234567", "--apple-key-file", p8, "--disabled"); ap["apple_team_id"] != "TEAM123456" || ap["has_client_secret"] != true {
			t.Fatalf("connection create --type apple: %v", ap)
		}
		c.refused("", "apple_team_id", "connection", "create", "--tenant", "acme", "--type", "apple", "--name", "Apple 2", "--client-id", "x",
			"--apple-team-id", "nope", "--apple-key-id", "KEY1234567", "--apple-key-file", p8)
		c.ok("", "connection", "delete", "--tenant", "acme", "--name", "Apple")

		// Webhooks.
		wh := c.ok("", "webhook", "create", "--tenant", "acme", "--url", "https://hooks.acme.test/in", "--event", "user.signed_in")
		whID := wh["id"].(string)
		if w := c.ok("", "webhook", "update", "--tenant", "acme", "--id", whID, "--enabled=false", "--event", "*"); w["enabled"] != false ||
			strings.Join(strs(w["events"]), ",") != "*" || w["secret"] != nil {
			t.Fatalf("webhook update: %v", w)
		}
		c.ok("", "webhook", "show", "--tenant", "acme", "--id", whID)
		c.refused("", "not found", "webhook", "show", "--tenant", "beta", "--id", whID)

		// Delete each, then it is neither shown nor listed.
		for _, tc := range []struct {
			del, show []string
			list      []string
			key       string
		}{
			{[]string{"webhook", "delete", "--tenant", "acme", "--id", whID}, []string{"webhook", "show", "--tenant", "acme", "--id", whID}, []string{"webhook", "list", "--tenant", "acme"}, "webhooks"},
			{[]string{"connection", "delete", "--tenant", "acme", "--name", "GitHub"}, []string{"connection", "show", "--tenant", "acme", "--name", "GitHub"}, []string{"connection", "list", "--tenant", "acme"}, "connections"},
			{[]string{"group", "delete", "--tenant", "acme", "--name", "employees"}, []string{"group", "show", "--tenant", "acme", "--name", "employees"}, []string{"group", "list", "--tenant", "acme"}, "groups"},
			{[]string{"role", "delete", "--tenant", "acme", "--name", "desk"}, []string{"role", "show", "--tenant", "acme", "--name", "desk"}, []string{"role", "list", "--tenant", "acme"}, "roles"},
			{[]string{"user", "delete", "--tenant", "acme", "--email", "bob@acme.test"}, []string{"user", "show", "--tenant", "acme", "--email", "bob@acme.test"}, nil, ""},
			{[]string{"client", "delete", "--tenant", "acme", "--client-id", id}, []string{"client", "show", "--tenant", "acme", "--client-id", id}, []string{"client", "list", "--tenant", "acme"}, "clients"},
			{[]string{"api", "delete", "--tenant", "acme", "--audience", "https://api.acme.test"}, []string{"api", "show", "--tenant", "acme", "--audience", "https://api.acme.test"}, []string{"api", "list", "--tenant", "acme"}, "apis"},
		} {
			// Another tenant's id is not found, and deletes nothing.
			if tc.del[0] == "client" {
				c.refused("", "not found", "client", "delete", "--tenant", "acme", "--client-id", other)
			}
			if d := c.ok("", tc.del...); d["deleted"] == nil {
				t.Fatalf("%v: %v", tc.del, d)
			}
			c.refused("", "not found", tc.show...)
			c.refused("", "not found", tc.del...)
			if tc.list != nil {
				if l := listed(tc.key, tc.list...); len(l) != 0 {
					t.Fatalf("%v after delete: %v", tc.list, l)
				}
			}
		}
		if us := listed("users", "user", "list", "--tenant", "acme"); len(us) != 1 || us[0]["email"] != "ann@acme.test" {
			t.Fatalf("users after delete: %v", us)
		}
		if cl := c.ok("", "client", "show", "--tenant", "beta", "--client-id", other); cl["client_id"] != other {
			t.Fatalf("beta's application: %v", cl)
		}

		// The audit log: what the commands above did, by action and by
		// the request id an event was written in.
		evs := listed("events", "audit", "list", "--tenant", "acme", "--action", "client.deleted")
		if len(evs) != 1 || evs[0]["target_id"] != id || evs[0]["actor_kind"] != "cli" {
			t.Fatalf("audit list --action client.deleted: %v", evs)
		}
		if evs := listed("events", "audit", "list", "--tenant", "acme", "--request-id", "no-such-reference"); len(evs) != 0 {
			t.Fatalf("audit list --request-id: %v", evs)
		}
		if tb := table("audit", "list", "--tenant", "acme", "--limit", "5"); !strings.HasPrefix(tb, "TIME") || strings.Count(tb, "\n") != 6 {
			t.Fatalf("audit list table:\n%s", tb)
		}
		c.refused("", "--limit must be 1 to 1000", "audit", "list", "--tenant", "acme", "--limit", "0")

		// Tenants: delete asks for the slug again.
		c.refused("", "give --confirm beta", "tenant", "delete", "beta")
		c.refused("", "confirm: type the tenant's slug, beta", "tenant", "delete", "beta", "--confirm", "acme")
		c.ok("", "tenant", "delete", "beta", "--confirm", "beta")
		c.refused("", `tenant "beta": not found`, "tenant", "show", "beta")
		if ts := listed("tenants", "tenant", "list"); len(ts) != 1 || ts[0]["slug"] != "acme" {
			t.Fatalf("tenants after delete: %v", ts)
		}
	})
}
