package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

const shopFile = `tenant: shop
settings:
  name: Shop Inc
  accent_color: "#3B5BDB"
  mfa_policy: required
apis:
  - audience: https://api.shop.test
    name: Orders API
    scopes:
      - value: read:orders
        description: Read your orders
      - value: write:orders
    token_claims: [roles]
roles:
  - name: clerk
    description: Reads orders
    permissions:
      - {audience: https://api.shop.test, scope: read:orders}
groups:
  - name: staff
    roles: [clerk]
applications:
  - name: Storefront
    kind: web
    redirect_uris: [https://shop.test/callback]
    grant_types: [authorization_code, refresh_token]
    api_grants:
      - {audience: https://api.shop.test, scopes: [read:orders]}
`

// TestPlanApply runs plan and apply through the CLI: a new tenant from a
// file, a second apply that changes nothing, a plan that shows exactly the
// drift, and --prune.
func TestPlanApply(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		env := map[string]string{"GATEHOUSE_DATABASE_URL": db.URL(t), "GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_MASTER_KEY": secret.NewMasterKey()}
		run := func(stdin string, args ...string) result {
			var out, errOut bytes.Buffer
			code := cli.Main(context.Background(), cli.Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
				Getenv: func(k string) string { return env[k] }})
			return result{code, out.String(), errOut.String()}
		}
		plan := func(file string, args ...string) admin.Plan {
			t.Helper()
			r := run(file, append(args, "--file", "-")...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			var p admin.Plan
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		summary := func(p admin.Plan) string {
			var b []string
			for _, c := range p.Changes {
				b = append(b, c.Action+" "+c.Kind+" "+c.Key)
			}
			return strings.Join(b, "; ")
		}

		p := plan(shopFile, "plan")
		want := "create tenant shop; create api https://api.shop.test; create role clerk; create group staff; create application Storefront"
		if summary(p) != want {
			t.Fatalf("plan of a new tenant: %s, want %s", summary(p), want)
		}
		if r := run("", "tenant", "list"); strings.Contains(r.stdout, "shop") {
			t.Fatal("plan created the tenant")
		}
		p = plan(shopFile, "apply")
		if summary(p) != want || len(p.Secrets) != 1 {
			t.Fatalf("apply: %s %+v", summary(p), p.Secrets)
		}
		// Applying again is no change, and so is the plan.
		for _, cmd := range []string{"apply", "plan"} {
			if p := plan(shopFile, cmd); len(p.Changes) != 0 {
				t.Fatalf("%s after apply: %+v", cmd, p.Changes)
			}
		}

		// Drift made outside the file: a role it does not name, and a
		// role's permissions taken away.
		for _, args := range [][]string{
			{"role", "create", "--tenant", "shop", "--name", "extra"},
			{"role", "create", "--tenant", "shop", "--name", "auditor", "--description", "x"},
		} {
			if r := run("", args...); r.code != 0 {
				t.Fatalf("%v: %s", args, r.stderr)
			}
		}
		edited := strings.Replace(shopFile, "description: Reads orders", "description: Reads all orders", 1)
		p = plan(edited, "plan")
		if summary(p) != "update role clerk" || p.Changes[0].Fields["description"].From != "Reads orders" ||
			p.Changes[0].Fields["description"].To != "Reads all orders" || len(p.Changes[0].Fields) != 1 {
			t.Fatalf("plan of the drift: %+v", p.Changes)
		}
		p = plan(edited, "plan", "--prune")
		if summary(p) != "update role clerk; delete role auditor; delete role extra" {
			t.Fatalf("plan --prune: %s", summary(p))
		}
		plan(edited, "apply", "--prune")
		if p := plan(edited, "plan", "--prune"); len(p.Changes) != 0 {
			t.Fatalf("plan --prune after apply --prune: %+v", p.Changes)
		}
		if r := run("", "role", "list", "--tenant", "shop"); strings.Contains(r.stdout, "extra") || !strings.Contains(r.stdout, "Reads all orders") {
			t.Fatalf("roles after apply --prune: %s", r.stdout)
		}

		// A file the schema refuses names the line and the field, and
		// changes nothing.
		bad := strings.Replace(edited, "mfa_policy: required", "mfa_policy: sometimes", 1)
		if r := run(bad, "apply", "--file", "-"); r.code == 0 || !strings.Contains(r.stderr, "line 5: settings.mfa_policy") {
			t.Fatalf("apply of a bad file: exit %d %s", r.code, r.stderr)
		}
		// A file the server refuses stops there, naming the object.
		bad = strings.Replace(edited, "https://shop.test/callback", "http://shop.test/callback", 1)
		if r := run(bad, "apply", "--file", "-"); r.code == 0 || !strings.Contains(r.stderr, "applications[0].redirect_uris") {
			t.Fatalf("apply of a refused file: exit %d %s", r.code, r.stderr)
		}
		if r := run("", "plan", "--schema"); r.code != 0 || !strings.Contains(r.stdout, `"$schema"`) {
			t.Fatalf("plan --schema: %d %s", r.code, r.stderr)
		}
	})
}
