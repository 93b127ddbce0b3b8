package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleAuditLog: the console's audit log names what its ids are (a
// user's email, an application's name), shows a change field by field,
// filters by outcome, application, address and days, exports what it
// shows as NDJSON, and answers 404 to a filter no event could match.
func TestConsoleAuditLog(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	base := e.base + "/admin/t/acme"

	// A change, through the console.
	p := b.post(base+"/users/"+f.userID, url.Values{"csrf_token": {csrf}, "email": {f.email}, "name": {"Ann Audit"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("profile change: %d\n%s", p.status, p.body)
	}
	// A failed sign-in, through the login page.
	user := e.browser()
	login := user.get(f.authorizeURL(f.spa.ClientID, url.Values{"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}))
	for range 4 {
		if login.status != http.StatusFound && login.status != http.StatusSeeOther {
			break
		}
		login = user.get(resolve(f.issuer, login.location))
	}
	if !strings.Contains(login.body, `action="/login"`) {
		t.Fatalf("no login page: %d\n%s", login.status, login.body)
	}
	user.post(f.issuer+"/login", url.Values{"id": {field(t, idField, login.body)}, "csrf_token": {field(t, csrfField, login.body)},
		"email": {f.email}, "password": {"not the password at all"}})

	p = b.get(base + "/audit?action=user.updated")
	if p.status != http.StatusOK {
		t.Fatalf("audit page: %d", p.status)
	}
	for _, want := range []string{
		"<strong>" + f.email + "</strong>",           // the target's name beside its id
		`<td class="mono">name</td>`,                 // the field that changed...
		"<ins>&#34;Ann Audit&#34;</ins>",             // ...and its new value
		time.Now().UTC().Format("2 Jan 2006") + ", ", // the day...
		" UTC", // ...to the second, with its zone
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the audit page lacks %s", want)
		}
	}

	failed := b.get(base + "/audit?outcome=failure")
	if !strings.Contains(failed.body, "login.failed") || strings.Contains(failed.body, "<code>user.updated</code>") {
		t.Errorf("outcome=failure shows the wrong events:\n%s", failed.body)
	}
	if !strings.Contains(failed.body, `href="/admin/t/acme/audit/export?outcome=failure"`) {
		t.Error("the export link does not keep the filter")
	}
	today := time.Now().UTC().Format("2006-01-02")
	if p := b.get(base + "/audit?outcome=failure&since=" + today + "&until=" + today); !strings.Contains(p.body, "login.failed") {
		t.Error("today's failures are not between today and today")
	}
	if p := b.get(base + "/audit?outcome=failure&until=2000-01-01"); !strings.Contains(p.body, "No events match") {
		t.Error("an until in the past still shows events")
	}

	// The export: NDJSON of exactly what the filter matches.
	res, err := b.client.Get(base + "/audit/export?outcome=failure")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-ndjson" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	n := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var ev struct{ Action, Outcome string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Outcome != "failure" {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("the export of failures is empty")
	}

	for _, bad := range []string{"outcome=maybe", "since=yesterday", "until=2025-13-01", "ip=" + strings.Repeat("1", 65)} {
		if p := b.get(base + "/audit?" + bad); p.status != http.StatusNotFound {
			t.Errorf("audit?%s: %d, want 404", bad, p.status)
		}
		if p := b.get(base + "/audit/export?" + bad); p.status != http.StatusNotFound {
			t.Errorf("audit/export?%s: %d, want 404", bad, p.status)
		}
	}
	// Another tenant's log is not reachable by its slug from acme's admin.
	e.fixture("beta")
	tenantAdmin, _ := e.consoleAs(t, "ann.admin@acme.test", "acme")
	if p := tenantAdmin.get(e.base + "/admin/t/beta/audit/export"); p.status != http.StatusNotFound {
		t.Errorf("another tenant's export: %d, want 404", p.status)
	}
}

// TestConsoleOverview: a tenant's first page charts the last days'
// sign-ins from the audit log (a success and a refusal today), counts the
// active users and those with a second factor, and lists the first steps
// left to do.
func TestConsoleOverview(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, _ := e.consoleAs(t, "ops@example.test", "")
		overview := e.base + "/admin/t/acme"
		p := b.get(overview)
		if !strings.Contains(p.body, `id="getting-started"`) || !strings.Contains(p.body, `<span class="n">0</span> succeeded`) {
			t.Fatalf("a new tenant's overview:\n%s", p.body)
		}
		// A refusal and a success, through the login page.
		user := e.browser()
		_, challenge := pkce()
		login := user.get(f.authorizeURL(f.spa.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		for range 4 {
			if login.status != http.StatusFound && login.status != http.StatusSeeOther {
				break
			}
			login = user.get(resolve(f.issuer, login.location))
		}
		user.post(f.issuer+"/login", url.Values{"id": {field(t, idField, login.body)}, "csrf_token": {field(t, csrfField, login.body)},
			"email": {f.email}, "password": {"not the password at all"}})
		f.codeFlow(e.browser(), f.web, []string{"openid"})

		p = b.get(overview)
		today := time.Now().UTC().Format("2006-01-02")
		for _, want := range []string{
			`id="sign-in-chart"`,
			`<span class="n">1</span> succeeded`,
			`<span class="n">1</span> refused`,
			`<title>` + today + `: 1 succeeded, 1 refused</title>`,
			`<span class="n">1</span> active user`,
			`<span class="n">0%</span> with a second factor`,
			`class="done"><span class="check" aria-label="done">✓</span> <a href="/admin/t/acme/applications/new">`,
			`<span class="check" aria-label="to do">○</span> <a href="/admin/t/acme/connections">`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the overview lacks %s", want)
			}
		}
	})
}
