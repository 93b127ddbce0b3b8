package e2e

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

var curlSnippet = regexp.MustCompile(`(?s)<details class="snippet" id="qs-curl".*?<code>(.*?)</code>`)

// TestConsoleCreateAppRedirectsAfterPost creates a confidential
// application in the console: the POST answers 303 and the secret is shown
// by the GET it leads to, once; reloading that page shows no secret and
// creates no second application, and the sealed secret opens in no other
// console session. The application's page carries a quickstart filled with
// its own values.
func TestConsoleCreateAppRedirectsAfterPost(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		base := e.base + "/admin/t/acme"
		count := func() int {
			cs, err := e.srv.Admin().ListClients(f.adminCtx())
			if err != nil {
				t.Fatal(err)
			}
			return len(cs)
		}
		before := count()
		p := b.post(base+"/applications/new/web", url.Values{"csrf_token": {csrf}, "name": {"Shop"}, "redirect_uris": {"http://localhost:8081/cb"}})
		if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "/secret") {
			t.Fatalf("create: %d %q\n%s", p.status, p.location, p.body)
		}
		secretURL := e.base + p.location
		// Another administrator's session cannot open the sealed secret,
		// even with this browser's cookie.
		other, _ := e.consoleAs(t, "ops2@example.test", "")
		u, _ := url.Parse(e.base)
		for _, ck := range b.client.Jar.Cookies(u) {
			if strings.Contains(ck.Name, "once") {
				other.client.Jar.SetCookies(u, []*http.Cookie{ck})
			}
		}
		if q := other.get(secretURL); q.status != http.StatusSeeOther || !strings.Contains(q.location, "done=secret-gone") {
			t.Fatalf("the secret in another session: %d %q", q.status, q.location)
		}
		shown := b.get(secretURL)
		if shown.status != http.StatusOK || !strings.Contains(shown.body, "you will not see it again") || shown.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("secret page: %d %q\n%s", shown.status, shown.header.Get("Cache-Control"), shown.body)
		}
		sec := html.UnescapeString(field(t, secretField, shown.body))
		// Reload: no secret, no second application.
		again := b.get(secretURL)
		if again.status != http.StatusSeeOther || !strings.Contains(again.location, "done=secret-gone") {
			t.Fatalf("reload of the secret page: %d %q", again.status, again.location)
		}
		app := b.get(e.base + again.location)
		if strings.Contains(app.body, sec) || !strings.Contains(app.body, "shown once only") {
			t.Fatalf("the application page after a reload:\n%s", app.body)
		}
		if n := count(); n != before+1 {
			t.Fatalf("applications %d, want %d", n, before+1)
		}
		// The quickstart names this application's values.
		for _, want := range []string{`id="quickstart"`, `id="qs-go"`, `id="qs-node"`, `id="qs-python"`, f.issuer, "http://localhost:8081/cb", "CLIENT_SECRET"} {
			if !strings.Contains(app.body, want) {
				t.Errorf("application page lacks %q", want)
			}
		}
	})
}

// TestConsoleMachineQuickstartCurlGetsAToken runs the curl command of a
// machine-to-machine application's quickstart, as shown, with its secret
// in CLIENT_SECRET: it gets an access token.
func TestConsoleMachineQuickstartCurlGetsAToken(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	b, _ := e.consoleAs(t, "ops@example.test", "")
	p := b.get(e.base + "/admin/t/acme/applications/" + f.worker.ClientID)
	m := curlSnippet.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no curl snippet:\n%s", p.body)
	}
	cmd := html.UnescapeString(m[1])
	if !strings.Contains(cmd, f.api) {
		t.Fatalf("the command does not name the API %s:\n%s", f.api, cmd)
	}
	// curl resolves *.localhost to the loopback address, where the test
	// server listens.
	run := exec.Command("sh", "-c", cmd)
	run.Env = append(os.Environ(), "CLIENT_SECRET="+f.worker.ClientSecret)
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"access_token"`) {
		t.Fatalf("%s\n%v\n%s", cmd, err, out)
	}
}
