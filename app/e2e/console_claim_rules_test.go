package e2e

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleClaimRules edits claim rules in the console: a rule setting
// sub comes back as the form with the error next to the ID token field;
// a rule is saved and listed; the preview shows what it adds for a user
// and an application; a deny rule's preview says so; a rule is deleted.
func TestConsoleClaimRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme/claim-rules"
		if p := b.get(base); p.status != http.StatusOK || !strings.Contains(p.body, "No claim rules yet") {
			t.Fatalf("claim rules page: %d\n%s", p.status, p.body)
		}
		p := b.post(base, url.Values{"csrf_token": {csrf}, "name": {"evil"}, "id_token": {"sub = 'admin'"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(p.body), `id="id_token-error">Sub is a reserved claim`) {
			t.Fatalf("a rule setting sub: %d\n%s", p.status, p.body)
		}
		p = b.post(base, url.Values{"csrf_token": {csrf}, "name": {"plan"}, "condition": {"user.email_verified || true"},
			"id_token": {"plan = 'gold'\nemail_domain = user.email.split('@')[1]"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save a rule: %d\n%s", p.status, p.body)
		}
		if p = b.get(base); !strings.Contains(html.UnescapeString(p.body), "plan = 'gold'") {
			t.Fatalf("the list lacks the rule:\n%s", p.body)
		}
		p = b.post(base+"/preview", url.Values{"csrf_token": {csrf}, "user": {f.email}, "client": {f.web.ClientID}})
		if p.status != http.StatusOK || !strings.Contains(html.UnescapeString(p.body), `"plan": "gold"`) {
			t.Fatalf("preview: %d\n%s", p.status, p.body)
		}
		if p = b.post(base+"/preview", url.Values{"csrf_token": {csrf}, "user": {"nobody@acme.test"}, "client": {f.web.ClientID}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("preview of nobody: %d", p.status)
		}
		if p = b.post(base, url.Values{"csrf_token": {csrf}, "name": {"no ada"}, "condition": {"user.email == '" + f.email + "'"}, "deny": {"Not you."}}); p.status != http.StatusSeeOther {
			t.Fatalf("save a deny rule: %d\n%s", p.status, p.body)
		}
		p = b.post(base+"/preview", url.Values{"csrf_token": {csrf}, "user": {f.email}, "client": {f.web.ClientID}})
		if !strings.Contains(p.body, "Denied:") || !strings.Contains(p.body, "Not you.") {
			t.Fatalf("preview under a deny rule:\n%s", p.body)
		}
		del := regexpFind(t, p.body, `action="(/admin/t/acme/claim-rules/[0-9a-f-]{36}/delete)"`)
		if p = b.post(e.base+del, url.Values{"csrf_token": {csrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d\n%s", p.status, p.body)
		}
	})
}

// regexpFind returns the first group of pattern's first match in s.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, s)
	}
	return m[1]
}
