package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// TestConsoleSigningAlgorithms chooses signing algorithms in the console's
// forms: a new API's and an application's, a rotation with and without
// "now", the rotation schedule; anything but a supported value comes back
// with the error next to its field and nothing saved.
func TestConsoleSigningAlgorithms(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t))
	f := e.fixture("acme")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	svc, ctx := e.srv.Admin(), f.adminCtx()
	base := e.base + "/admin/t/acme"
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf_token": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	wantDone := func(what string, p *page, flash string) {
		t.Helper()
		if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "?done="+flash) {
			t.Fatalf("%s: %d %s\n%s", what, p.status, p.location, p.body)
		}
	}
	wantFieldError := func(what string, p *page, field string) {
		t.Helper()
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+field+`-error"`) {
			t.Fatalf("%s: %d, want 422 with an error at %s\n%s", what, p.status, field, p.body)
		}
	}

	// The forms offer exactly the supported algorithms.
	newAPI := b.get(base + "/apis/new").body
	for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
		if !strings.Contains(newAPI, `<option value="`+alg+`"`) {
			t.Fatalf("the new API form does not offer %s", alg)
		}
	}
	wantFieldError("HS256 API", b.post(base+"/apis/new", form("audience", "https://hs.acme.test", "signing_alg", "HS256")), "signing_alg")
	p := b.post(base+"/apis/new", form("audience", "https://es.acme.test", "signing_alg", "ES256"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("create an ES256 API: %d\n%s", p.status, p.body)
	}
	apis, _ := svc.ListAPIs(ctx)
	var es *admin.API
	for _, a := range apis {
		if a.Audience == "https://es.acme.test" {
			es = a
		}
	}
	if es == nil || es.SigningAlg != "ES256" {
		t.Fatalf("the new API: %+v", es)
	}
	if !strings.Contains(b.get(base+"/apis/"+es.ID).body, "<code>ES256</code>") {
		t.Fatal("the API's page does not say how its tokens are signed")
	}
	wantFieldError("none API", b.post(base+"/apis/"+es.ID, form("name", "ES", "signing_alg", "none")), "signing_alg")
	wantDone("API to EdDSA", b.post(base+"/apis/"+es.ID, form("name", "ES", "signing_alg", "EdDSA")), "api-updated")
	if a, _ := svc.GetAPI(ctx, es.ID); a.SigningAlg != "EdDSA" {
		t.Fatalf("API algorithm after the change: %s", a.SigningAlg)
	}

	// An application's ID tokens.
	app := base + "/applications/" + f.web.ClientID
	wantFieldError("none ID tokens", b.post(app, form("name", "web", "redirect_uris", "http://127.0.0.1:9000/cb", "grant_types", "authorization_code",
		"id_token_signed_response_alg", "none")), "id_token_signed_response_alg")
	wantDone("ID tokens PS256", b.post(app, form("name", "web", "redirect_uris", "http://127.0.0.1:9000/cb", "grant_types", "authorization_code",
		"grant_types", "refresh_token", "id_token_signed_response_alg", "PS256")), "app-updated")
	if c, _ := svc.GetClient(ctx, f.web.ClientID); c.IDTokenSignedResponseAlg != "PS256" {
		t.Fatalf("the application's ID token algorithm: %s", c.IDTokenSignedResponseAlg)
	}

	// Keys: every chosen algorithm has an active key; rotation and the
	// schedule.
	keysPage := b.get(base + "/keys").body
	for _, alg := range []string{"ES256", "EdDSA", "PS256"} {
		if !strings.Contains(keysPage, "<td>"+alg+"</td>") {
			t.Errorf("the keys page lists no %s key", alg)
		}
	}
	wantFieldError("rotate RS512", b.post(base+"/keys/rotate", form("alg", "RS512")), "alg")
	wantDone("rotate", b.post(base+"/keys/rotate", form("alg", "RS256")), "key-rotated")
	wantDone("rotate now", b.post(base+"/keys/rotate", form("alg", "ES256", "now", "on")), "key-rotated-now")
	if !strings.Contains(b.get(base+"/keys").body, ">next</span>") {
		t.Fatal("the pre-published key is not shown as next")
	}
	for _, bad := range []string{"1e9", "-1", "abc", "99999"} {
		wantFieldError("schedule "+bad, b.post(base+"/keys/rotation", form("rotation_period", bad)), "rotation_period")
	}
	wantDone("schedule", b.post(base+"/keys/rotation", form("rotation_period", "90")), "key-scheduled")
	if r, _ := svc.GetKeyRotation(ctx); r.PeriodSeconds != 90*24*3600 {
		t.Fatalf("rotation period: %d", r.PeriodSeconds)
	}
	// Without the anti-CSRF token nothing changes.
	if p := b.post(base+"/keys/rotation", url.Values{"rotation_period": {"0"}}); p.status != http.StatusForbidden {
		t.Fatalf("schedule without CSRF token: %d", p.status)
	}
}
