package cli_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/app/cli"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// cliRunner runs the gatehouse command against one database.
type cliRunner struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T, db storetest.Database) *cliRunner {
	return &cliRunner{t: t, env: map[string]string{
		"GATEHOUSE_DATABASE_URL": db.URL(t),
		"GATEHOUSE_DATA_DIR":     t.TempDir(),
		"GATEHOUSE_MASTER_KEY":   secret.NewMasterKey(),
	}}
}

func (c *cliRunner) run(stdin string, args ...string) result {
	// A command that wrongly went ahead (serve) must not hang the test.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := cli.Main(ctx, cli.Env{
		Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return c.env[k] },
	})
	return result{code, out.String(), errOut.String()}
}

func (c *cliRunner) ok(stdin string, args ...string) map[string]any {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.json(c.t)
}

// refused checks that args fail with one line on stderr containing want,
// nothing on stdout, and a non-zero exit.
func (c *cliRunner) refused(stdin string, want string, args ...string) {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code == 0 {
		c.t.Fatalf("%q: exit 0, stdout %s", args, r.stdout)
	}
	if r.stdout != "" {
		c.t.Fatalf("%q: a refused command printed on stdout: %s", args, r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		c.t.Fatalf("%q: stderr %q, want one line containing %q", args, r.stderr, want)
	}
}

// validArgs are arguments every command accepts, so that a variant with
// one stray argument more fails for that argument alone. A command without
// an entry fails the test: add one.
var validArgs = map[string]struct {
	stdin string
	args  []string
}{
	"serve":                 {"", []string{"--addr", "127.0.0.1:0"}},
	"migrate":               {"", nil},
	"tenant create":         {"", []string{"beta", "--name", "Beta"}},
	"tenant list":           {"", nil},
	"tenant update":         {"", []string{"acme", "--client-registration", "open"}},
	"tenant export":         {"", []string{"acme", "--omit-secrets"}},
	"plan":                  {"tenant: acme\n", []string{"--file", "-", "--prune"}},
	"apply":                 {"tenant: acme\n", []string{"--file", "-"}},
	"tenant import":         {`{"format":"gatehouse.tenant","version":1,"source":{"slug":"copy"}}`, []string{"--file", "-", "--slug", "copy2"}},
	"api create":            {"", []string{"--tenant", "acme", "--audience", "https://b.acme.test"}},
	"client create":         {"", []string{"--tenant", "acme", "--name", "web", "--redirect-uri", "https://app.acme.test/cb"}},
	"client list":           {"", []string{"--tenant", "acme"}},
	"user create":           {testPasswordLine, []string{"--tenant", "acme", "--email", "bob@acme.test", "--password-stdin"}},
	"user import":           {`{"email":"imported@acme.test"}` + "\n", []string{"--tenant", "acme", "--file", "-"}},
	"user export":           {"", []string{"--tenant", "acme"}},
	"user set-password":     {testPasswordLine, []string{"--tenant", "acme", "--email", "ann@acme.test", "--password-stdin"}},
	"user disable":          {"", []string{"--tenant", "acme", "--email", "ann@acme.test"}},
	"user enable":           {"", []string{"--tenant", "acme", "--email", "ann@acme.test"}},
	"key rotate":            {"", []string{"--tenant", "acme"}},
	"key schedule":          {"", []string{"--tenant", "acme", "--every", "0"}},
	"key list":              {"", []string{"--tenant", "acme"}},
	"admin create":          {testPasswordLine, []string{"--email", "eve@example.test", "--name", "Eve", "--password-stdin"}},
	"admin list":            {"", nil},
	"admin update":          {"", []string{"--email", "eve@example.test", "--scope", "tenants:read"}},
	"admin delete":          {"", []string{"--email", "eve@example.test"}},
	"admin client create":   {"", []string{"--name", "ci2", "--scope", "tenants:read"}},
	"admin client list":     {"", nil},
	"admin client update":   {"", []string{"--client-id", "ci2", "--scope", "tenants:read"}},
	"admin client delete":   {"", []string{"--client-id", "ci2"}},
	"connection create":     {"gh-secret\n", []string{"--tenant", "acme", "--type", "github", "--client-id", "gh", "--client-secret-stdin"}},
	"connection list":       {"", []string{"--tenant", "acme"}},
	"webhook create":        {"", []string{"--tenant", "acme", "--url", "https://hooks.acme.test/in", "--event", "user.signed_in"}},
	"webhook list":          {"", []string{"--tenant", "acme"}},
	"webhook delete":        {"", []string{"--tenant", "acme", "--id", "none"}},
	"webhook rotate":        {"", []string{"--tenant", "acme", "--id", "none"}},
	"saml-app create":       {"", []string{"--tenant", "acme", "--name", "HR", "--entity-id", "urn:hr", "--acs", "https://hr.acme.test/acs"}},
	"saml-app list":         {"", []string{"--tenant", "acme"}},
	"email-template set":    {"{{link}}", []string{"--tenant", "acme", "--kind", "reset", "--locale", "de", "--subject", "Neu", "--text-file", "-"}},
	"email-template list":   {"", []string{"--tenant", "acme"}},
	"email-template show":   {"", []string{"--tenant", "acme", "--kind", "reset", "--locale", "de"}},
	"email-template delete": {"", []string{"--tenant", "acme", "--kind", "reset", "--locale", "de"}},
	"saml-app delete":       {"", []string{"--tenant", "acme", "--id", "none"}},
	"role create":           {"", []string{"--tenant", "acme", "--name", "clerk"}},
	"role list":             {"", []string{"--tenant", "acme"}},
	"role delete":           {"", []string{"--tenant", "acme", "--name", "clerk"}},
	"user add-role":         {"", []string{"--tenant", "acme", "--email", "ann@acme.test", "--role", "clerk"}},
	"user remove-role":      {"", []string{"--tenant", "acme", "--email", "ann@acme.test", "--role", "clerk"}},
	"user roles":            {"", []string{"--tenant", "acme", "--email", "ann@acme.test"}},
	"group create":          {"", []string{"--tenant", "acme", "--name", "staff"}},
	"group list":            {"", []string{"--tenant", "acme"}},
	"group delete":          {"", []string{"--tenant", "acme", "--name", "staff"}},
	"group add-member":      {"", []string{"--tenant", "acme", "--group", "staff", "--email", "ann@acme.test"}},
	"group remove-member":   {"", []string{"--tenant", "acme", "--group", "staff", "--email", "ann@acme.test"}},
	"group add-role":        {"", []string{"--tenant", "acme", "--group", "staff", "--role", "clerk"}},
	"group remove-role":     {"", []string{"--tenant", "acme", "--group", "staff", "--role", "clerk"}},
	"tenant show":           {"", []string{"acme", "--output", "table"}},
	"tenant delete":         {"", []string{"acme", "--confirm", "acme"}},
	"api list":              {"", []string{"--tenant", "acme"}},
	"api show":              {"", []string{"--tenant", "acme", "--audience", "https://b.acme.test"}},
	"api update":            {"", []string{"--tenant", "acme", "--audience", "https://b.acme.test", "--name", "B"}},
	"api delete":            {"", []string{"--tenant", "acme", "--audience", "https://b.acme.test"}},
	"client show":           {"", []string{"--tenant", "acme", "--client-id", "none"}},
	"client update":         {"", []string{"--tenant", "acme", "--client-id", "none", "--name", "web"}},
	"client delete":         {"", []string{"--tenant", "acme", "--client-id", "none"}},
	"user list":             {"", []string{"--tenant", "acme", "--query", "ann"}},
	"user show":             {"", []string{"--tenant", "acme", "--email", "ann@acme.test"}},
	"user update":           {"", []string{"--tenant", "acme", "--email", "ann@acme.test", "--name", "Ann"}},
	"user delete":           {"", []string{"--tenant", "acme", "--email", "ann@acme.test"}},
	"role show":             {"", []string{"--tenant", "acme", "--name", "clerk"}},
	"role update":           {"", []string{"--tenant", "acme", "--name", "clerk", "--description", "Front desk"}},
	"group show":            {"", []string{"--tenant", "acme", "--name", "staff"}},
	"group update":          {"", []string{"--tenant", "acme", "--name", "staff", "--new-name", "employees"}},
	"key show":              {"", []string{"--tenant", "acme", "--kid", "none"}},
	"connection show":       {"", []string{"--tenant", "acme", "--name", "GitHub"}},
	"connection update":     {"", []string{"--tenant", "acme", "--name", "GitHub", "--enabled=false"}},
	"connection delete":     {"", []string{"--tenant", "acme", "--name", "GitHub"}},
	"webhook show":          {"", []string{"--tenant", "acme", "--id", "none"}},
	"webhook update":        {"", []string{"--tenant", "acme", "--id", "none", "--enabled=false"}},
	"audit list":            {"", []string{"--tenant", "acme", "--action", "tenant."}},
	"dev callback":          {"", []string{"--state", "s", "--redirect-uri", "http://127.0.0.1:1/cb", "--timeout", "1ms"}},
	"rule create":           {"", []string{"--tenant", "acme", "--name", "plan", "--id-claim", "plan='gold'"}},
	"rule list":             {"", []string{"--tenant", "acme"}},
	"rule enable":           {"", []string{"--tenant", "acme", "--id", "none"}},
	"rule disable":          {"", []string{"--tenant", "acme", "--id", "none"}},
	"rule delete":           {"", []string{"--tenant", "acme", "--id", "none"}},
	"rule preview":          {"", []string{"--tenant", "acme", "--email", "ann@acme.test", "--client", "none"}},
}

const testPasswordLine = "correct horse battery staple\n"

// TestEveryCommandRefusesStrayArguments gives every command, with
// arguments it accepts, one argument more — a stray word at the end, a
// second value after a flag's value, an unknown flag, the brackets of the
// usage pasted as they are — and checks that each is refused with one line
// naming it, before the command changes anything.
func TestEveryCommandRefusesStrayArguments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		c.ok(testPasswordLine, "user", "create", "--tenant", "acme", "--email", "ann@acme.test", "--password-stdin")
		state := func() string {
			var b strings.Builder
			for _, args := range [][]string{{"tenant", "list"}, {"client", "list", "--tenant", "acme"}, {"key", "list", "--tenant", "acme"},
				{"connection", "list", "--tenant", "acme"}} {
				b.WriteString(c.run("", args...).stdout)
			}
			return b.String()
		}
		before := state()

		for _, name := range cli.Commands() {
			v, ok := validArgs[name]
			if !ok {
				t.Errorf("command %q has no valid arguments in this test: add it to validArgs", name)
				continue
			}
			cmd := strings.Fields(name)
			with := func(args ...string) []string { return append(slices.Clone(cmd), args...) }
			t.Run(name, func(t *testing.T) {
				c := &cliRunner{t: t, env: c.env}
				c.refused(v.stdin, `unexpected argument "stray"`, with(append(slices.Clone(v.args), "stray")...)...)
				c.refused(v.stdin, `unknown flag "--colour"`, with(append(slices.Clone(v.args), "--colour", "red")...)...)
				c.refused(v.stdin, `unexpected argument "[--tenant"`, with(append(slices.Clone(v.args), "[--tenant", "acme]")...)...)
				if len(v.args) == 0 || strings.HasPrefix(v.args[0], "--") { // else stray would be the SLUG
					c.refused(v.stdin, `unexpected argument "stray"`, with(append([]string{"stray"}, v.args...)...)...)
				}
				// A second value after the first flag's value.
				if i := slices.IndexFunc(v.args, func(a string) bool { return strings.HasPrefix(a, "--") }); i >= 0 && i+1 < len(v.args) &&
					!strings.HasPrefix(v.args[i+1], "--") {
					args := slices.Insert(slices.Clone(v.args), i+2, "Extra")
					c.refused(v.stdin, `unexpected argument "Extra"`, with(args...)...)
				}
			})
		}
		if after := state(); after != before {
			t.Fatalf("a refused command changed the database:\nbefore %s\nafter  %s", before, after)
		}

		// The mistakes of the issue, as a newcomer typed them.
		c.refused("", `unexpected argument "[--tenant" (square brackets in the usage mark what is optional`,
			"admin", "client", "create", "--name", "ci2", "--scope", "tenants:read", "[--tenant", "acme]")
		c.refused(testPasswordLine, `unexpected argument "Extra" (--name took "Eve"`,
			"admin", "create", "--email", "eve@example.test", "--name", "Eve", "Extra", "--password-stdin")
		c.refused("", `unexpected argument "globex"`, "key", "rotate", "--tenant", "acme", "globex")
		c.refused("", `unexpected argument "false" (--public takes no value: write --public=false)`,
			"client", "create", "--tenant", "acme", "--name", "x", "--public", "false", "--redirect-uri", "https://app.acme.test/cb")
		c.refused("", "tenant create: missing SLUG", "tenant", "create", "--name", "Gamma")
		c.refused("", `unexpected argument "--name"`, "tenant", "create", "gamma", "--", "--name", "x")
		if after := state(); after != before {
			t.Fatalf("a refused command changed the database:\nbefore %s\nafter  %s", before, after)
		}

		// What the usage means is accepted: flags after the positional
		// argument, a switch with =, every value of a repeatable flag.
		c.ok("", "tenant", "create", "gamma", "--name", "Gamma Inc")
		if cl := c.ok("", "client", "create", "--tenant", "acme", "--name", "x", "--public=false", "--redirect-uri", "https://app.acme.test/cb",
			"--redirect-uri", "https://app.acme.test/cb2"); len(cl["redirect_uris"].([]any)) != 2 || cl["client_secret"] == nil {
			t.Fatalf("client: %v", cl)
		}
		if ac := c.ok("", "admin", "client", "create", "--name", "acme-ci", "--scope", "tenants:read", "--tenant", "acme"); ac["role"] != "tenant_admin" {
			t.Fatalf("the README's tenant admin client: %v", ac)
		}
	})
}
