package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleWording: an admin rewords the German consent heading in the
// console; a text naming a variable the message lacks is a form error;
// "Use the catalog's" removes it. Another tenant's wording page is not
// found.
func TestConsoleWording(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.fixture("beta")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		page := e.base + "/admin/t/acme/strings"
		if p := b.get(page); p.status != http.StatusOK || !strings.Contains(p.body, "consent.heading — {{.App}} wants to access your account") {
			t.Fatalf("wording page: %d\n%s", p.status, p.body)
		}
		p := b.post(page, url.Values{"csrf_token": {csrf}, "locale": {"de"}, "message_id": {"consent.heading"}, "text": {"{{.Email}} bittet"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "which this message does not have") {
			t.Fatalf("a foreign variable: %d\n%s", p.status, p.body)
		}
		p = b.post(page, url.Values{"csrf_token": {csrf}, "locale": {"de"}, "message_id": {"consent.heading"}, "text": {"{{.App}} bittet um Zugang"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", p.status, p.body)
		}
		if p := b.get(page); !strings.Contains(p.body, "{{.App}} bittet um Zugang") || !strings.Contains(p.body, "{{.App}} möchte auf Ihr Konto zugreifen") {
			t.Fatalf("wording page after saving:\n%s", p.body)
		}
		p = b.post(page+"/delete", url.Values{"csrf_token": {csrf}, "locale": {"de"}, "message_id": {"consent.heading"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d\n%s", p.status, p.body)
		}
		if p := b.get(page); strings.Contains(p.body, "bittet um Zugang") {
			t.Fatalf("wording page after the delete:\n%s", p.body)
		}
		// A tenant admin of acme does not reach beta's wording.
		ba, csrfA := e.consoleAs(t, "acme-admin@example.test", "acme")
		if p := ba.get(e.base + "/admin/t/beta/strings"); p.status != http.StatusNotFound {
			t.Fatalf("acme's admin at beta's wording: %d", p.status)
		}
		p = ba.post(e.base+"/admin/t/beta/strings", url.Values{"csrf_token": {csrfA}, "locale": {"de"}, "message_id": {"consent.heading"}, "text": {"x"}})
		if p.status != http.StatusNotFound {
			t.Fatalf("acme's admin saving beta's wording: %d", p.status)
		}
	})
}
