package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestEmailTemplateCommands: a template set from files is shown and
// listed; one naming a variable its kind lacks is refused naming the part;
// deleted, show gives the built-in email written as a template again.
func TestEmailTemplateCommands(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		c := newCLI(t, db)
		c.ok("", "tenant", "create", "acme")
		dir := t.TempDir()
		htmlFile, textFile, bad := filepath.Join(dir, "reset.de.html"), filepath.Join(dir, "reset.de.txt"), filepath.Join(dir, "bad.html")
		for p, s := range map[string]string{htmlFile: `<p>Hallo {{user.name}}, <a href="{{link}}">hier</a></p>`, textFile: "Hallo {{user.name}}: {{link}}\n",
			bad: "<p>{{user.password}}</p>"} {
			if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got := c.ok("", "email-template", "set", "--tenant", "acme", "--kind", "reset", "--locale", "de", "--subject", "Neues Passwort für {{user.name}}",
			"--html-file", htmlFile, "--text-file", textFile)
		if got["custom"] != true || got["subject"] != "Neues Passwort für {{user.name}}" || !strings.Contains(got["html"].(string), `href="{{link}}"`) {
			t.Fatalf("set: %v", got)
		}
		if got := c.ok("", "email-template", "show", "--tenant", "acme", "--kind", "reset", "--locale", "de"); got["text"] != "Hallo {{user.name}}: {{link}}\n" {
			t.Fatalf("show: %v", got)
		}
		if got := c.ok("", "email-template", "list", "--tenant", "acme"); len(got["email_templates"].([]any)) != 1 {
			t.Fatalf("list: %v", got)
		}
		c.refused("", "html: names {{user.password}}", "email-template", "set", "--tenant", "acme", "--kind", "reset", "--locale", "de", "--subject", "x",
			"--html-file", bad, "--text-file", textFile)
		c.refused("", "not found", "email-template", "show", "--tenant", "acme", "--kind", "nosuch", "--locale", "de")
		c.ok("", "email-template", "delete", "--tenant", "acme", "--kind", "reset", "--locale", "de")
		if got := c.ok("", "email-template", "show", "--tenant", "acme", "--kind", "reset", "--locale", "de"); got["custom"] != false ||
			!strings.Contains(got["text"].(string), "{{link}}") {
			t.Fatalf("show after the delete: %v", got)
		}
	})
}
