package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// tryFlow walks a browser from an authorization URL of the try client
// through the tenant's login and consent pages to the console's try
// callback, and returns that callback URL without opening it.
func (f *fixture) tryFlow(b *browser, authURL string) string {
	t := b.t
	t.Helper()
	callback := f.e.base + admin.ConsolePath + "/try/callback"
	cur := authURL
	p := b.get(cur)
	for range 8 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			cur = resolve(cur, p.location)
			if strings.HasPrefix(cur, callback+"?") {
				return cur
			}
			p = b.get(cur)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password}})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			p = b.post(f.issuer+"/consent", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"}})
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return ""
}

// tryGrants returns the try client's API grants, as the token endpoint
// would see them.
func (f *fixture) tryGrants(t *testing.T) []tenants.ClientGrant {
	t.Helper()
	gs, err := f.e.store.ClientGrants(tenants.WithTenant(context.Background(), f.tenant), admin.TryClientID)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

// TestTryClientIsTheConsolesAlone attacks the console's hidden "Try it"
// client as an end user of the tenant would: while an administrator's try
// holds the tried application's API grants, the user runs a code flow with
// the try client and its registered redirect URI, and takes the code to the
// token endpoint — without a secret, and with a guessed one, in the body
// and in the Authorization header. Each time the answer is invalid_client
// (401; WWW-Authenticate for the header), and the code is still there for
// the only holder of the secret, derived from the master key. The
// administrator's own try then ends with the try client holding no API
// grant and no consent; an abandoned try's grants lapse within TryTTL.
func TestTryClientIsTheConsolesAlone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		ctx := tenants.WithTenant(context.Background(), f.tenant)
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		startTry := func(clientID string) string {
			t.Helper()
			p := b.post(e.base+"/admin/t/acme/applications/"+clientID+"/try", url.Values{"csrf_token": {csrf}})
			if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, f.issuer+"/authorize?") {
				t.Fatalf("start a try: %d %s\n%s", p.status, p.location, p.body)
			}
			return p.location
		}
		adminAuth := startTry(f.web.ClientID)
		started := time.Now()
		gs := f.tryGrants(t)
		if len(gs) != 1 || gs[0].ExpiresAt == nil || gs[0].ExpiresAt.After(started.Add(admin.TryTTL+time.Minute)) {
			t.Fatalf("during a try the try client holds %+v: want the web app's grant, lapsing within %s", gs, admin.TryTTL)
		}
		c, err := e.store.ClientByClientID(ctx, admin.TryClientID)
		if err != nil || c.Public() || c.SecretHash == "" {
			t.Fatalf("the try client is public: %+v %v", c, err)
		}

		// The end user's own code flow with the try client, at the same
		// time.
		verifier := oauth2.GenerateVerifier()
		callback := e.base + admin.ConsolePath + "/try/callback"
		own := f.issuer + "/authorize?" + url.Values{"client_id": {admin.TryClientID}, "redirect_uri": {callback}, "response_type": {"code"},
			"scope": {"openid read:orders write:orders"}, "resource": {f.api}, "state": {"mine"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}.Encode()
		cb, _ := url.Parse(f.tryFlow(e.browser(), own))
		code := cb.Query().Get("code")
		if code == "" {
			t.Fatalf("no code in %s", cb)
		}
		redeem := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
		for _, tc := range []struct {
			name       string
			user, pass string
			form       url.Values
		}{
			{"as a public client", "", "", url.Values{"client_id": {admin.TryClientID}}},
			{"with a guessed secret in the body", "", "", url.Values{"client_id": {admin.TryClientID}, "client_secret": {secret.Token(32)}}},
			{"with a guessed secret in the header", admin.TryClientID, secret.Token(32), nil},
			{"with the console's own client's id", "", "", url.Values{"client_id": {admin.ConsoleClientID}}},
		} {
			form := url.Values{}
			for k, v := range redeem {
				form[k] = v
			}
			for k, v := range tc.form {
				form[k] = v
			}
			status, hdr, body := f.post("/oauth/token", tc.user, tc.pass, form)
			if status != http.StatusUnauthorized || errorCode(body) != "invalid_client" || body["access_token"] != nil {
				t.Fatalf("%s: %d %v, want 401 invalid_client", tc.name, status, body)
			}
			if tc.user != "" && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("%s: WWW-Authenticate %q", tc.name, hdr.Get("WWW-Authenticate"))
			}
		}
		// Only the secret derived from the master key redeems it (as the
		// console does in-process).
		box, err := secret.NewBox(e.masterKey)
		if err != nil {
			t.Fatal(err)
		}
		status, _, body := f.post("/oauth/token", admin.TryClientID, admin.TrySecret(box, f.tenant.ID), redeem)
		if status != http.StatusOK || body["access_token"] == nil {
			t.Fatalf("with the try client's secret: %d %v", status, body)
		}

		// The administrator's try, to its end.
		p := b.get(f.tryFlow(b, adminAuth))
		if p.status != http.StatusOK || !strings.Contains(p.body, "Try it: web") || !strings.Contains(p.body, `id="access-claims"`) {
			t.Fatalf("the try's result: %d\n%s", p.status, p.body)
		}
		if gs := f.tryGrants(t); len(gs) != 0 {
			t.Fatalf("after the try the try client holds %+v", gs)
		}
		if _, err := e.store.ConsentFor(ctx, f.userID, admin.TryClientID); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("after the try the user's consent to the try client: %v", err)
		}

		// An abandoned try leaves grants that lapse on their own; the next
		// try replaces them (an app without API grants: none).
		startTry(f.web.ClientID)
		if gs := f.tryGrants(t); len(gs) != 1 || !gs[0].ExpiresAt.Before(time.Now().Add(admin.TryTTL+time.Minute)) {
			t.Fatalf("an abandoned try's grants: %+v", gs)
		}
		startTry(f.spa.ClientID)
		if gs := f.tryGrants(t); len(gs) != 0 {
			t.Fatalf("the next try kept the previous one's grants: %+v", gs)
		}
	})
}
