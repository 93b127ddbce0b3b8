package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password/hashtest"
)

// importReport is the answer of an import: a result a line, then the
// summary.
type importReport struct {
	lines   []admin.ImportResult
	summary admin.ImportSummary
}

// byLine returns the result of line n.
func (r importReport) byLine(t *testing.T, n int) admin.ImportResult {
	t.Helper()
	for _, l := range r.lines {
		if l.Line == n {
			return l
		}
	}
	t.Fatalf("no result for line %d in %+v", n, r.lines)
	return admin.ImportResult{}
}

func parseReport(t *testing.T, raw []byte) importReport {
	t.Helper()
	var r importReport
	var summarised bool
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var probe struct {
			Summary *admin.ImportSummary `json:"summary"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			t.Fatalf("report line %q: %v", line, err)
		}
		if probe.Summary != nil {
			r.summary, summarised = *probe.Summary, true
			continue
		}
		var l admin.ImportResult
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("report line %q: %v", line, err)
		}
		r.lines = append(r.lines, l)
	}
	if !summarised {
		t.Fatalf("report without a summary: %s", raw)
	}
	return r
}

// importUsers posts an NDJSON body to the import of slug.
func (a *apiClient) importUsers(t *testing.T, slug string, body []byte, update bool) importReport {
	t.Helper()
	status, _, raw := a.raw(t, http.MethodPost, fmt.Sprintf("/tenants/%s/users/import?update=%v", slug, update), "application/x-ndjson", body)
	if status != http.StatusOK {
		t.Fatalf("import: %d %s", status, raw)
	}
	return parseReport(t, raw)
}

func ndjson(t *testing.T, lines ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		if s, ok := l.(string); ok {
			b.WriteString(s)
		} else {
			raw, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(raw)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// signIn signs email in at f's tenant through the login page with pw and
// returns the sub of the ID token.
func (f *fixture) signIn(t *testing.T, email, pw string) string {
	t.Helper()
	as := *f
	as.email, as.password = email, pw
	tok, _ := as.codeFlow(f.e.browser(), f.web, []string{"openid"})
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("no ID token for %s", email)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Sub
}

// storedHash returns the password hash stored for email at f's tenant.
func (f *fixture) storedHash(t *testing.T, email string) string {
	t.Helper()
	u, err := f.e.store.UserByEmail(tenants.WithTenant(context.Background(), f.tenant), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

// TestUserImportEveryHashFormat imports a user with a password hash in
// each format other platforms export, generated here, and signs each in
// through the login page with their password: afterwards their hash is
// argon2id. A malformed line, a bcrypt cost of 31 and a line with roles
// are refused with their line numbers; the others are imported; the same
// file again changes nothing.
func TestUserImportEveryHashFormat(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		const pw = "the imported passphrase"
		fixtures := hashtest.All(pw)
		var lines []any
		for i, fx := range fixtures {
			lines = append(lines, map[string]any{"email": fmt.Sprintf("user%d@acme.test", i), "email_verified": true, "name": fx.Name,
				"password_hash": fx.JSON, "user_metadata": map[string]any{"plan": "gold"}, "app_metadata": map[string]any{"legacy_id": i}})
		}
		b := hashtest.Bcrypt(pw, 10, "2b")
		lines = append(lines,
			map[string]any{"id": "auth0|5f7c8ec7c33c6c004bbafe82", "email": "kept@acme.test", "password_hash": hashtest.Bcrypt(pw, 10, "2a")},
			`{"email": "broken@acme.test", "password_hash": `,
			map[string]any{"email": "absurd@acme.test", "password_hash": b[:4] + "31" + b[6:]},
			map[string]any{"email": "roles@acme.test", "roles": []string{"admin"}},
			map[string]any{"email": "odd@acme.test", "password_hash": "{SSHA}c2FsdGVkaGFzaA=="},
		)
		body := ndjson(t, lines...)
		n := len(fixtures)
		r := c.importUsers(t, "acme", body, false)
		if r.summary.Created != n+1 || r.summary.Refused != 4 || r.summary.Lines != n+5 {
			t.Fatalf("summary %+v", r.summary)
		}
		for i := range n {
			if l := r.byLine(t, i+1); l.Status != "created" || l.ID == "" {
				t.Fatalf("line %d (%s): %+v", i+1, fixtures[i].Name, l)
			}
		}
		for line, want := range map[int]string{n + 2: "not a JSON object", n + 3: "bcrypt cost 31", n + 4: `roles[0]: no role "admin" in this tenant`, n + 5: "unknown format"} {
			if l := r.byLine(t, line); l.Status != "refused" || !strings.Contains(l.Reason, want) {
				t.Errorf("line %d: %+v, want refused for %q", line, l, want)
			}
		}
		// Each signs in through the login page, and is argon2id after.
		for i, fx := range fixtures {
			email := fmt.Sprintf("user%d@acme.test", i)
			if f.signIn(t, email, pw) != r.byLine(t, i+1).ID {
				t.Fatalf("%s: sub is not the user's id", fx.Name)
			}
			if h := f.storedHash(t, email); !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
				t.Fatalf("%s: after sign-in the hash is %.20s…, want the tenant's argon2id", fx.Name, h)
			}
		}
		// A wrong password is refused like any other.
		wrong := e.browser()
		as := *f
		as.email, as.password = "user0@acme.test", "not the password"
		_, challenge := pkce()
		p := wrong.get(as.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		for p.status == http.StatusFound || p.status == http.StatusSeeOther {
			p = wrong.get(resolve(f.issuer, p.location))
		}
		p = wrong.post(f.issuer+"/login", loginForm(t, p, as.email, as.password))
		if p.status != http.StatusUnauthorized {
			t.Fatalf("wrong password for an imported user: %d", p.status)
		}
		// The kept id is the sub.
		if sub := f.signIn(t, "kept@acme.test", pw); sub != "auth0|5f7c8ec7c33c6c004bbafe82" {
			t.Fatalf("sub %q, want the imported id", sub)
		}

		// The same file again: nothing changes, though hashes were
		// upgraded since; without update=true nothing could.
		again := c.importUsers(t, "acme", body, false)
		if again.summary.Unchanged != n+1 || again.summary.Created+again.summary.Updated != 0 || again.summary.Refused != 4 {
			t.Fatalf("second import: %+v", again.summary)
		}
		if h := f.storedHash(t, "user0@acme.test"); !strings.HasPrefix(h, "$argon2id$") {
			t.Fatal("a second import brought the old hash back")
		}
		// A change: refused without update, made with it.
		changed := ndjson(t, map[string]any{"email": "user0@acme.test", "email_verified": true, "name": "Renamed"})
		if l := c.importUsers(t, "acme", changed, false).byLine(t, 1); l.Status != "refused" || !strings.Contains(l.Reason, "update") {
			t.Fatalf("change without update: %+v", l)
		}
		if l := c.importUsers(t, "acme", changed, true).byLine(t, 1); l.Status != "updated" {
			t.Fatalf("change with update: %+v", l)
		}
		u := c.must(t, http.StatusOK, http.MethodGet, "/tenants/acme/users/"+r.byLine(t, 1).ID, nil)
		if u["name"] != "Renamed" {
			t.Fatalf("after update: %v", u)
		}
	})
}

// loginForm fills the login page p with email and pw.
func loginForm(t *testing.T, p *page, email, pw string) map[string][]string {
	t.Helper()
	return map[string][]string{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {email}, "password": {pw}}
}

// TestUserExportImportElsewhere exports a tenant's users with their
// hashes, imports them into another tenant (refused while the ids are
// the first tenant's, without saying whose), and, once the first tenant
// is gone, they sign in there with the same passwords and subs.
func TestUserExportImportElsewhere(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		acme := e.fixture("acme")
		beta := e.fixture("beta")
		c := e.managementClient(t, "", admin.ScopeTenantsWrite, admin.ScopeAuditRead, admin.ScopeExportHashes)
		plain := e.managementClient(t, "", admin.ScopeTenantsWrite)
		const pw = "moving house passphrase"
		r := c.importUsers(t, "acme", ndjson(t,
			map[string]any{"email": "bcrypt@acme.test", "password_hash": hashtest.Bcrypt(pw, 10, "2y"), "user_metadata": map[string]any{"lang": "fr"}},
			map[string]any{"email": "django@acme.test", "name": "Django", "password_hash": hashtest.All(pw)[9].JSON},
		), false)
		if r.summary.Created != 2 {
			t.Fatalf("import: %+v", r)
		}
		subs := map[string]string{acme.email: acme.userID, "bcrypt@acme.test": r.byLine(t, 1).ID, "django@acme.test": r.byLine(t, 2).ID}
		passwords := map[string]string{acme.email: acme.password, "bcrypt@acme.test": pw, "django@acme.test": pw}

		// Hashes need their own scope, and are audited.
		status, _, raw := plain.raw(t, http.MethodGet, "/tenants/acme/users/export?password_hashes=true", "", nil)
		if status != http.StatusForbidden {
			t.Fatalf("export of hashes without the scope: %d %s", status, raw)
		}
		status, hdr, raw := plain.raw(t, http.MethodGet, "/tenants/acme/users/export", "", nil)
		if status != http.StatusOK || hdr.Get("Content-Type") != "application/x-ndjson" || bytes.Contains(raw, []byte("password_hash")) {
			t.Fatalf("export without hashes: %d %s", status, raw)
		}
		status, _, export := c.raw(t, http.MethodGet, "/tenants/acme/users/export?password_hashes=true", "", nil)
		if status != http.StatusOK || bytes.Count(export, []byte("\n")) != 3 || bytes.Count(export, []byte(`"password_hash"`)) != 3 ||
			!bytes.Contains(export, []byte(`"user_metadata":{"lang":"fr"}`)) {
			t.Fatalf("export: %d %s", status, export)
		}
		if evs := c.items(t, "/tenants/acme/audit?action=users.exported_hashes"); len(evs) != 1 {
			t.Fatalf("audit of the export: %v", evs)
		}

		// Into beta while acme has them: every id is "not available".
		r = c.importUsers(t, "beta", export, false)
		for _, l := range r.lines {
			if l.Status != "refused" || l.Reason != "id: not available" {
				t.Fatalf("import of acme's ids into beta: %+v", l)
			}
		}
		// A tenant admin of beta cannot reach acme's import or export.
		betaAdmin := e.managementClient(t, "beta", admin.ScopeTenantsWrite, admin.ScopeExportHashes)
		for _, call := range []struct{ method, path string }{{http.MethodPost, "/tenants/acme/users/import"}, {http.MethodGet, "/tenants/acme/users/export"}} {
			status, _, raw := betaAdmin.raw(t, call.method, call.path, "application/x-ndjson", export)
			if status != http.StatusNotFound {
				t.Fatalf("%s %s as beta's admin: %d %s", call.method, call.path, status, raw)
			}
		}

		// acme moves out: its users sign in at beta as they did.
		if err := e.srv.Admin().DeleteTenant(acme.adminCtx(), "acme"); err != nil {
			t.Fatal(err)
		}
		r = c.importUsers(t, "beta", export, false)
		if r.summary.Created != 3 {
			t.Fatalf("import into beta: %+v", r)
		}
		for email, sub := range subs {
			if got := beta.signIn(t, email, passwords[email]); got != sub {
				t.Fatalf("%s: sub %q at beta, want %q", email, got, sub)
			}
		}
		// And a second run of the same import changes nothing.
		if again := c.importUsers(t, "beta", export, false); again.summary.Unchanged != 3 {
			t.Fatalf("second import: %+v", again.summary)
		}
	})
}

// TestUserImportHugeLine: a line of a megabyte is refused as too long,
// read no further than the bound, and the lines after it are imported; a
// body much larger than the server's cap on bodies streams through.
func TestUserImportHugeLine(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		huge := `{"email":"huge@acme.test","name":"` + strings.Repeat("x", 1<<20) + `"}`
		var lines []any
		lines = append(lines, huge, map[string]any{"email": "after@acme.test"})
		for i := range 300 {
			lines = append(lines, map[string]any{"email": fmt.Sprintf("bulk%d@acme.test", i), "user_metadata": map[string]any{"pad": strings.Repeat("p", 1000)}})
		}
		lines = append(lines, map[string]any{"email": "meta@acme.test", "app_metadata": map[string]any{"pad": strings.Repeat("p", 20<<10)}})
		r := c.importUsers(t, "acme", ndjson(t, lines...), false)
		if l := r.byLine(t, 1); l.Status != "refused" || !strings.Contains(l.Reason, "line too long") {
			t.Fatalf("huge line: %+v", l)
		}
		if l := r.byLine(t, 2); l.Status != "created" {
			t.Fatalf("line after the huge one: %+v", l)
		}
		if l := r.byLine(t, 303); l.Status != "refused" || !strings.Contains(l.Reason, "app_metadata") {
			t.Fatalf("oversized metadata: %+v", l)
		}
		if r.summary.Created != 301 || r.summary.Refused != 2 {
			t.Fatalf("summary %+v", r.summary)
		}
		// Other bodies keep the server's cap.
		status, _, _ := c.raw(t, http.MethodPost, "/tenants/acme/users", "application/json", []byte(huge))
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("a huge JSON body elsewhere: %d", status)
		}
	})
}

// TestUserImportCLI imports and exports through the gatehouse command.
func TestUserImportCLI(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		body := string(ndjson(t, map[string]any{"email": "cli@acme.test", "password_hash": hashtest.Bcrypt("cli passphrase", 10, "2b")}, `nope`))
		res := e.cli(t, body, "user", "import", "--tenant", "acme", "--file", "-")
		if res.code == 0 || !strings.Contains(res.stderr, "1 of 2 lines refused") {
			t.Fatalf("import with a bad line: %d %s %s", res.code, res.stdout, res.stderr)
		}
		rep := parseReport(t, []byte(res.stdout))
		if rep.byLine(t, 1).Status != "created" || rep.byLine(t, 2).Status != "refused" {
			t.Fatalf("report %+v", rep)
		}
		f.signIn(t, "cli@acme.test", "cli passphrase")
		res = e.cli(t, "", "user", "export", "--tenant", "acme", "--password-hashes")
		if res.code != 0 || strings.Count(res.stdout, `"password_hash":"$argon2id$`) != 2 {
			t.Fatalf("export: %d %s %s", res.code, res.stdout, res.stderr)
		}
	})
}

// TestUserImportJob runs an import as a job through the API: 202 at once,
// then the node's background work imports it; the job reports its counts
// and refused lines, and another tenant's admin cannot see it.
func TestUserImportJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		e.fixture("beta")
		c := e.managementClient(t, "acme", admin.ScopeTenantsWrite)
		const pw = "a job well done"
		body := ndjson(t, map[string]any{"email": "job@acme.test", "password_hash": hashtest.Bcrypt(pw, 10, "2b")}, `{"email": 1}`,
			map[string]any{"email": "job2@acme.test"})
		status, hdr, raw := c.raw(t, http.MethodPost, "/tenants/acme/users/import-jobs", "application/x-ndjson", body)
		if status != http.StatusAccepted || !strings.HasPrefix(hdr.Get("Location"), admin.APIPath+"/tenants/acme/users/import-jobs/") {
			t.Fatalf("start: %d %s", status, raw)
		}
		var j admin.ImportJob
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatal(err)
		}
		for i := 0; j.Status != "done"; i++ {
			if i > 100 {
				t.Fatalf("the job did not finish: %+v", j)
			}
			time.Sleep(100 * time.Millisecond)
			status, _, raw = c.raw(t, http.MethodGet, "/tenants/acme/users/import-jobs/"+j.ID, "", nil)
			if status != http.StatusOK || json.Unmarshal(raw, &j) != nil {
				t.Fatalf("poll: %d %s", status, raw)
			}
		}
		if j.Summary.Created != 2 || j.Summary.Refused != 1 || len(j.Refusals) != 1 || j.Refusals[0].Line != 2 || !strings.Contains(j.Refusals[0].Reason, "email") {
			t.Fatalf("job %+v", j)
		}
		f.signIn(t, "job@acme.test", pw)
		beta := e.managementClient(t, "beta", admin.ScopeTenantsWrite)
		for _, p := range []string{"/tenants/beta/users/import-jobs/" + j.ID, "/tenants/acme/users/import-jobs/" + j.ID} {
			if status, _, raw := beta.raw(t, http.MethodGet, p, "", nil); status != http.StatusNotFound {
				t.Fatalf("beta's admin GET %s: %d %s", p, status, raw)
			}
		}
	})
}
