package e2e

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// TestConsoleEmailTemplates: an operator edits the German reset email in
// the console. The editor starts from the built-in email; the preview is
// a document of its own, sandboxed by its CSP and framed only by the
// console, composed with sample values and escaping them; a bad template
// is a form error naming the field; "Send me a test" reaches the signed-in
// administrator's own address and is audited; a saved template is what a
// German user receives. Another tenant's admin finds none of it.
func TestConsoleEmailTemplates(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		e.fixture("beta")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme/emails"
		if p := b.get(base); p.status != http.StatusOK || !strings.Contains(p.body, `href="/admin/t/acme/emails/reset"`) || !strings.Contains(p.body, "Password reset") {
			t.Fatalf("email list: %d\n%s", p.status, p.body)
		}
		deSubject := i18n.Builtin().For("de").T("email.reset.subject")
		p := b.get(base + "/reset?locale=de")
		if p.status != http.StatusOK || !strings.Contains(p.body, `value="`+html.EscapeString(deSubject)+`"`) || !strings.Contains(p.body, "{{link}}") ||
			!strings.Contains(p.body, `<iframe name="email-preview"`) || !strings.Contains(p.body, `sandbox=""`) ||
			!strings.Contains(p.body, `src="/admin/t/acme/emails/reset/preview?locale=de"`) || !strings.Contains(p.body, `aria-current="page"`) {
			t.Fatalf("editor: %d\n%s", p.status, p.body)
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("the editor's CSP: %q", csp)
		}

		// The preview of the built-in email, in its own sandbox.
		pv := b.get(base + "/reset/preview?locale=de")
		csp := pv.header.Get("Content-Security-Policy")
		if pv.status != http.StatusOK || !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") ||
			!strings.Contains(csp, "frame-ancestors 'self'") || strings.Contains(csp, "script-src") || pv.header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Fatalf("preview: %d %q %q", pv.status, csp, pv.header.Get("X-Frame-Options"))
		}
		if !strings.Contains(pv.body, html.EscapeString(deSubject)) || !strings.Contains(pv.body, "token=SAMPLE") || !strings.Contains(pv.body, `srcdoc="`) {
			t.Fatalf("preview body:\n%s", pv.body)
		}

		// A draft previewed: sample values, escaped; markup of the
		// template only inside the nested frame's srcdoc.
		draft := url.Values{"csrf_token": {csrf}, "locale": {"de"}, "subject": {"Hallo {{user.name}}"},
			"html": {`<h1>Hallo {{user.name}}</h1><script>alert(1)</script><a href="{{link}}">Los</a>`}, "text": {"Hallo {{user.name}}: {{link}}"}}
		pv = b.post(base+"/reset/preview", draft)
		if pv.status != http.StatusOK || !strings.Contains(pv.body, "Hallo Ann Example") || strings.Contains(pv.body, "<script>") ||
			!strings.Contains(pv.body, "&lt;script&gt;alert(1)") || !strings.HasPrefix(pv.header.Get("Content-Security-Policy"), "sandbox;") {
			t.Fatalf("draft preview: %d\n%s", pv.status, pv.body)
		}
		bad := url.Values{"csrf_token": {csrf}, "locale": {"de"}, "subject": {"x"}, "html": {"{{user.password}}"}, "text": {"t"}}
		if pv = b.post(base+"/reset/preview", bad); pv.status != http.StatusBadRequest || !strings.Contains(pv.body, "html names {{user.password}}") {
			t.Fatalf("bad draft preview: %d\n%s", pv.status, pv.body)
		}
		// Saving a bad template: a form error on the field, nothing saved.
		if p := b.post(base+"/reset", bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "which this email does not have") ||
			!strings.Contains(p.body, "{{user.password}}") {
			t.Fatalf("bad save: %d\n%s", p.status, p.body)
		}

		// Send me a test: the draft, to the administrator's own address.
		if p := b.post(base+"/reset/test", draft); p.status != http.StatusSeeOther {
			t.Fatalf("send a test: %d\n%s", p.status, p.body)
		}
		msg := smtp.next("ops@example.test")
		if msg.Subject != "Hallo Ann Example" || !strings.Contains(msg.HTML, "<h1>Hallo Ann Example</h1>") || msg.Header.Get("Content-Language") != "de" {
			t.Fatalf("test email: %q\n%s", msg.Subject, msg.HTML)
		}
		evs, err := e.srv.Admin().AuditLog(f.adminCtx(), admin.AuditFilter{Action: admin.ActionEmailTemplateTest})
		if err != nil || len(evs) != 1 || evs[0].TargetID != "reset/de" || evs[0].ActorName != "ops@example.test" {
			t.Fatalf("test email audit: %+v %v", evs, err)
		}

		// Saved, it is what a German user receives.
		if p := b.post(base+"/reset", draft); p.status != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", p.status, p.body)
		}
		if p := b.get(base + "/reset?locale=de"); !strings.Contains(p.body, "The tenant&#39;s template") && !strings.Contains(p.body, "The tenant's template") {
			t.Fatalf("editor after saving:\n%s", p.body)
		}
		f.requestReset(e.browser(), f.email, "Accept-Language", "de")
		if m := smtp.next(f.email); !strings.HasPrefix(m.Subject, "Hallo ") || !strings.Contains(m.Text, "/reset/confirm?token=") {
			t.Fatalf("German user's reset email: %q\n%s", m.Subject, m.Text)
		}
		if p := b.post(base+"/reset/delete", url.Values{"csrf_token": {csrf}, "locale": {"de"}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d\n%s", p.status, p.body)
		}

		// Acme's admin reaches none of beta's.
		ba, csrfA := e.consoleAs(t, "acme-admin@example.test", "acme")
		for _, path := range []string{"/admin/t/beta/emails", "/admin/t/beta/emails/reset", "/admin/t/beta/emails/reset/preview"} {
			if p := ba.get(e.base + path); p.status != http.StatusNotFound {
				t.Fatalf("acme's admin at %s: %d", path, p.status)
			}
		}
		for _, path := range []string{"/admin/t/beta/emails/reset", "/admin/t/beta/emails/reset/test", "/admin/t/beta/emails/reset/preview"} {
			form := url.Values{"csrf_token": {csrfA}, "locale": {"de"}, "subject": {"x"}, "text": {"y"}}
			if p := ba.post(e.base+path, form); p.status != http.StatusNotFound {
				t.Fatalf("acme's admin posting %s: %d", path, p.status)
			}
		}
		smtp.none("acme-admin@example.test", 0)
		// Unknown kinds and languages are not found.
		for _, path := range []string{"/emails/nosuch", "/emails/reset?locale=xx", "/emails/nosuch/preview"} {
			if p := b.get(e.base + "/admin/t/acme" + path); p.status != http.StatusNotFound {
				t.Fatalf("%s: %d", path, p.status)
			}
		}
	})
}
