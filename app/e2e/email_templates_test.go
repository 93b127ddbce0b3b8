package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views/i18n"
)

// TestEmailTemplateIsWhatTheUserReceives: a tenant's own reset email, set
// through the API in English and German, is what its users receive in
// their language, in the tenant's branding, from its sender name with its
// reply-to; a user name with markup in it arrives escaped in the HTML
// part; a language without a template gets the built-in email, and
// deleting the template brings the built-in one back.
func TestEmailTemplateIsWhatTheUserReceives(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		c := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"accent_color": "#aa3300", "logo_url": "https://cdn.acme.test/logo.png",
			"email_from_name": "Acme Security", "email_reply_to": "help@acme.test"})
		const evil = `<script>alert(1)</script>`
		c.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme/users/"+f.userID, map[string]any{"name": evil})
		c.must(t, http.StatusOK, http.MethodPut, "/tenants/acme/email-templates/reset/en", map[string]any{
			"subject": "Acme: a new password for {{user.name}}",
			"html":    `<h1 class="acme">Hello {{ user.name }}</h1><p><a href="{{link}}">Pick a new password</a> at {{tenant.name}}</p>`,
			"text":    "Hello {{user.name}},\n\npick a new password: {{link}}\n"})
		c.must(t, http.StatusOK, http.MethodPut, "/tenants/acme/email-templates/reset/de", map[string]any{
			"subject": "Acme: Neues Passwort für {{user.email}}",
			"text":    "Hallo {{user.name}},\n\nhier entlang: {{link}}\n"})

		b := e.browser()
		f.requestReset(b, f.email)
		msg := smtp.next(f.email)
		if msg.Subject != "Acme: a new password for "+evil {
			t.Fatalf("subject %q", msg.Subject)
		}
		link := msg.link(t, "/reset/confirm")
		if !strings.Contains(msg.Text, "pick a new password: "+link) || !strings.HasPrefix(msg.Text, "Hello "+evil) {
			t.Fatalf("text part:\n%s", msg.Text)
		}
		for _, want := range []string{`<h1 class="acme">Hello &lt;script&gt;alert(1)&lt;/script&gt;</h1>`, "at Acme", `src="https://cdn.acme.test/logo.png"`, "#aa3300"} {
			if !strings.Contains(msg.HTML, want) {
				t.Fatalf("HTML part lacks %s:\n%s", want, msg.HTML)
			}
		}
		if strings.Contains(msg.HTML, evil) {
			t.Fatalf("the user's name is markup in the HTML part:\n%s", msg.HTML)
		}
		if !strings.Contains(msg.From, "Acme Security") || !strings.Contains(msg.Header.Get("Reply-To"), "help@acme.test") {
			t.Fatalf("From %q Reply-To %q", msg.From, msg.Header.Get("Reply-To"))
		}
		// The link works: the template changed the words, not the flow.
		if q := f.setPassword(b, link, newPassword); q.status != http.StatusOK {
			t.Fatalf("reset with the templated link: %d\n%s", q.status, q.body)
		}
		if m := smtp.next(f.email); m.Subject != "Your password was changed" {
			t.Fatalf("after the reset: %q", m.Subject)
		}

		// A German user gets the German template, its HTML part made of
		// its text, the link a link.
		if err := e.store.SetUserLocale(tenants.WithTenant(context.Background(), f.tenant), f.userID, "de"); err != nil {
			t.Fatal(err)
		}
		f.requestReset(e.browser(), f.email)
		msg = smtp.next(f.email)
		if msg.Subject != "Acme: Neues Passwort für "+f.email || msg.Header.Get("Content-Language") != "de" {
			t.Fatalf("German email: %q (%s)\n%s", msg.Subject, msg.Header.Get("Content-Language"), msg.Text)
		}
		msg.link(t, "/reset/confirm")
		if !strings.Contains(msg.HTML, "<p>Hallo &lt;script&gt;") || !strings.Contains(msg.HTML, `<html lang="de">`) {
			t.Fatalf("German HTML part:\n%s", msg.HTML)
		}

		// French has no template: the built-in French email, branded.
		if err := e.store.SetUserLocale(tenants.WithTenant(context.Background(), f.tenant), f.userID, "fr"); err != nil {
			t.Fatal(err)
		}
		f.requestReset(e.browser(), f.email)
		msg = smtp.next(f.email)
		if want := i18n.Builtin().For("fr").T("email.reset.subject"); msg.Subject != want || !strings.Contains(msg.HTML, "#aa3300") {
			t.Fatalf("French email %q, want the built-in %q\n%s", msg.Subject, want, msg.HTML)
		}
		msg.link(t, "/reset/confirm")

		// Deleted, the built-in email is back.
		c.must(t, http.StatusNoContent, http.MethodDelete, "/tenants/acme/email-templates/reset/de", nil)
		if err := e.store.SetUserLocale(tenants.WithTenant(context.Background(), f.tenant), f.userID, "de"); err != nil {
			t.Fatal(err)
		}
		f.requestReset(e.browser(), f.email)
		if msg = smtp.next(f.email); msg.Subject != i18n.Builtin().For("de").T("email.reset.subject") {
			t.Fatalf("after the delete: %q", msg.Subject)
		}
	})
}

// TestEmailTemplateAPIRefusals: unknown variables, logic and calls are
// refused when saved, naming the part; so are huge parts and bodies, a
// kind or a language that does not exist, and another tenant's templates.
// GET without a template shows the built-in email as one, which saves.
func TestEmailTemplateAPIRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		e.fixture("beta")
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		path := "/tenants/acme/email-templates/verify/ja"
		d := op.must(t, http.StatusOK, http.MethodGet, path, nil)
		if d["custom"] != false || d["subject"] != i18n.Builtin().For("ja").T("email.verify.subject") ||
			!strings.Contains(d["text"].(string), "{{link}}") || !strings.Contains(d["html"].(string), `href="{{link}}"`) {
			t.Fatalf("the built-in template: %v", d)
		}
		// The built-in email, as a template, is one the tenant may save.
		saved := op.must(t, http.StatusOK, http.MethodPut, path, map[string]any{"subject": d["subject"], "html": d["html"], "text": d["text"]})
		if saved["custom"] != true {
			t.Fatalf("saved: %v", saved)
		}
		good := map[string]any{"subject": "S", "html": "<p>{{link}}</p>", "text": "T {{link}}"}
		with := func(k, v string) map[string]any {
			m := map[string]any{}
			for a, b := range good {
				m[a] = b
			}
			m[k] = v
			return m
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"unknown variable in html", with("html", "<p>{{user.password_hash}}</p>"), "html"},
			{"variable of another kind", with("text", "{{new_email}}"), "text"},
			{"go template action", with("subject", "{{.Tenant}}"), "subject"},
			{"function call", with("text", `{{printf "%s" link}}`), "text"},
			{"logic", with("html", "{{if link}}x{{end}}"), "html"},
			{"unclosed", with("text", "Hi {{user.name"), "text"},
			{"empty subject", with("subject", " "), "subject"},
			{"two-line subject", with("subject", "a\r\nBcc: x@evil.test"), "subject"},
			{"NUL", with("text", "a\x00b"), "text"},
			{"huge html", with("html", strings.Repeat("x", 40<<10)), "html"},
			{"huge subject", with("subject", strings.Repeat("x", 300)), "subject"},
		} {
			status, hdr, body := op.do(t, http.MethodPut, "/tenants/acme/email-templates/reset/de", tc.body)
			wantProblem(t, tc.name, status, hdr, body, http.StatusBadRequest, tc.field)
		}
		status, hdr, body := op.do(t, http.MethodPut, "/tenants/acme/email-templates/reset/de", with("text", strings.Repeat("x", 70<<10)))
		wantProblem(t, "a body over 64 KiB", status, hdr, body, http.StatusRequestEntityTooLarge, "")
		if d := op.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/email-templates/reset/de", nil); d["custom"] != false {
			t.Fatalf("a refused template was saved: %v", d)
		}
		for _, p := range []string{"/tenants/acme/email-templates/nosuch/de", "/tenants/acme/email-templates/reset/xx", "/tenants/acme/email-templates/reset/DE"} {
			status, hdr, body := op.do(t, http.MethodPut, p, good)
			wantProblem(t, "PUT "+p, status, hdr, body, http.StatusNotFound, "")
			status, hdr, body = op.do(t, http.MethodGet, p, nil)
			wantProblem(t, "GET "+p, status, hdr, body, http.StatusNotFound, "")
		}
		status, hdr, body = op.do(t, http.MethodDelete, "/tenants/acme/email-templates/reset/de", nil)
		wantProblem(t, "deleting a template that is not there", status, hdr, body, http.StatusNotFound, "")

		// A preview is composed with sample values, escaped, and not saved.
		p := op.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/email-templates/reset/de/preview", map[string]any{"subject": "Für {{user.name}}", "text": "{{link}}"})
		if p["subject"] != "Für Ann Example" || !strings.Contains(p["html"].(string), `<a href="https://acme.example.com/reset/confirm?token=SAMPLE">`) {
			t.Fatalf("preview: %v", p)
		}
		status, hdr, body = op.do(t, http.MethodPost, "/tenants/acme/email-templates/reset/de/preview", with("html", "{{nope}}"))
		wantProblem(t, "preview of a bad template", status, hdr, body, http.StatusBadRequest, "html")

		// Acme's administrator reaches neither beta's templates nor beta's
		// by acme's slug.
		op.must(t, http.StatusOK, http.MethodPut, "/tenants/beta/email-templates/reset/de", map[string]any{"subject": "Beta only", "text": "{{link}}"})
		adminA := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			var b any
			if m == http.MethodPut {
				b = good
			}
			status, hdr, body := adminA.do(t, m, "/tenants/beta/email-templates/reset/de", b)
			wantProblem(t, m+" beta's template", status, hdr, body, http.StatusNotFound, "")
		}
		if ts := adminA.items(t, "/tenants/acme/email-templates"); len(ts) != 1 || ts[0]["locale"] != "ja" {
			t.Fatalf("acme lists %v", ts)
		}
		if d := op.must(t, http.StatusOK, http.MethodGet, "/tenants/beta/email-templates/reset/de", nil); d["subject"] != "Beta only" {
			t.Fatalf("beta's template after acme's attempts: %v", d)
		}
	})
}

// TestSignInMethodAddedNotice: adding an authenticator app on the account
// page sends the security notice, built-in, then the tenant's template of
// it with the method named in the reader's language.
func TestSignInMethodAddedNotice(t *testing.T) {
	forEachDBWithMail(t, func(t *testing.T, e *env, smtp *smtpServer) {
		f := e.fixture("acme")
		b := e.browser()
		f.accountPage(b)
		f.addTOTP(t, b)
		msg := smtp.next(f.email)
		if msg.Subject != "A sign-in method was added to your account" || !strings.Contains(msg.Text, ": an authenticator app.") {
			t.Fatalf("notice: %q\n%s", msg.Subject, msg.Text)
		}
		msg.link(t, "/reset")

		// Beta has its own template of the notice.
		g := e.fixture("beta")
		c := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		c.must(t, http.StatusOK, http.MethodPut, "/tenants/beta/email-templates/signin_method_added/en", map[string]any{
			"subject": "New on your Beta account: {{method}}", "text": "Not you? {{link}}"})
		bb := e.browser()
		g.accountPage(bb)
		g.addTOTP(t, bb)
		if msg := smtp.next(g.email); msg.Subject != "New on your Beta account: an authenticator app" {
			t.Fatalf("templated notice: %q\n%s", msg.Subject, msg.Text)
		}
	})
}
