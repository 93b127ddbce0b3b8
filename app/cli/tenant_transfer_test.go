package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestTenantExportImport copies a tenant with the CLI's tenant export and
// tenant import: the copy has the same applications (client_id), and a
// refused document leaves no tenant behind.
func TestTenantExportImport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		env := map[string]string{"GATEHOUSE_DATABASE_URL": db.URL(t), "GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_MASTER_KEY": secret.NewMasterKey()}
		run := func(stdin string, args ...string) result {
			var out, errOut bytes.Buffer
			code := cli.Main(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
				Getenv: func(k string) string { return env[k] }})
			return result{code, out.String(), errOut.String()}
		}
		ok := func(stdin string, args ...string) result {
			t.Helper()
			r := run(stdin, args...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			return r
		}
		ok("", "tenant", "create", "acme")
		ok("", "api", "create", "--tenant", "acme", "--audience", "https://api.acme.test", "--scope", "read:orders")
		web := ok("", "client", "create", "--tenant", "acme", "--name", "web", "--redirect-uri", "https://app.acme.test/cb").json(t)
		ok("", "role", "create", "--tenant", "acme", "--name", "clerk", "--api", "https://api.acme.test", "--scope", "read:orders")

		doc := ok("", "tenant", "export", "acme").stdout
		if !strings.Contains(doc, `"format": "gatehouse.tenant"`) || !strings.Contains(doc, `"secret_hash"`) {
			t.Fatalf("export: %s", doc)
		}
		res := ok(doc, "tenant", "import", "--file", "-", "--slug", "acme-copy").json(t)
		if res["tenant"].(map[string]any)["slug"] != "acme-copy" || res["ids"].(map[string]any)["roles"] == nil {
			t.Fatalf("import: %v", res)
		}
		clients := ok("", "client", "list", "--tenant", "acme-copy").stdout
		if !strings.Contains(clients, web["client_id"].(string)) {
			t.Fatalf("the copy's clients: %s", clients)
		}
		// A document with one bad object is refused whole.
		bad := strings.Replace(doc, `"https://app.acme.test/cb"`, `"http://app.acme.test/cb"`, 1)
		if r := run(bad, "tenant", "import", "--file", "-", "--slug", "acme-bad"); r.code == 0 || !strings.Contains(r.stderr, "redirect_uris") {
			t.Fatalf("bad import: exit %d %s %s", r.code, r.stdout, r.stderr)
		}
		if r := ok("", "tenant", "list").stdout; strings.Contains(r, "acme-bad") {
			t.Fatalf("a refused import left a tenant: %s", r)
		}
	})
}
