package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// userCodeShape is how a user code is shown: two groups of four letters
// of the low-ambiguity alphabet (RFC 8628 §6.1).
var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// deviceClients are a fixture's applications of the device grant: a public
// one (a CLI: the client id alone) and a confidential one (a TV app with a
// secret in the body, as x/oauth2's DeviceAuth can send it).
type deviceClients struct {
	cli, tv *admin.Client
}

// offerDevice makes f's tenant offer the device grant and registers its
// device clients.
func (f *fixture) offerDevice(t testing.TB) deviceClients {
	t.Helper()
	svc, ctx := f.e.srv.Admin(), f.adminCtx()
	if _, err := svc.UpdateTenant(ctx, admin.TenantSettings{GrantTypes: append(tenants.DefaultGrantTypes(), tenants.GrantDeviceCode)}); err != nil {
		t.Fatal(err)
	}
	tn, err := f.e.store.TenantByID(context.Background(), f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.tenant = tn
	ctx = f.adminCtx()
	// The CLI signs users in by the device grant only, and keeps them
	// signed in with refresh tokens: no redirect URI.
	cli, err := svc.CreateClient(ctx, admin.CreateClientInput{Name: "Acme CLI", Kind: admin.KindNative, Public: true,
		GrantTypes: []string{tenants.GrantDeviceCode, tenants.GrantRefreshToken}, Audiences: []string{f.api}})
	if err != nil {
		t.Fatal(err)
	}
	tv, err := svc.CreateClient(ctx, admin.CreateClientInput{Name: "Acme TV", Kind: admin.KindWeb, GrantTypes: []string{tenants.GrantDeviceCode},
		TokenEndpointAuthMethod: tenants.AuthMethodPost, Audiences: []string{f.api}})
	if err != nil {
		t.Fatal(err)
	}
	return deviceClients{cli: cli, tv: tv}
}

// deviceConfig is x/oauth2's configuration of a device client.
func (f *fixture) deviceConfig(c *admin.Client, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: scopes,
		Endpoint: oauth2.Endpoint{DeviceAuthURL: f.issuer + "/oauth/device_authorization", TokenURL: f.issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// deviceAuth asks for a device authorization as c, through x/oauth2.
func (f *fixture) deviceAuth(t testing.TB, c *admin.Client, scopes ...string) *oauth2.DeviceAuthResponse {
	t.Helper()
	var opts []oauth2.AuthCodeOption
	if c.ClientSecret != "" {
		opts = append(opts, oauth2.SetAuthURLParam("client_secret", c.ClientSecret))
	}
	da, err := f.deviceConfig(c, scopes...).DeviceAuth(f.e.ctx(), opts...)
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	return da
}

// poll polls the token endpoint once for deviceCode as c.
func (f *fixture) poll(c *admin.Client, deviceCode string) (int, map[string]any) {
	form := url.Values{"grant_type": {tenants.GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {c.ClientID}}
	if c.ClientSecret != "" {
		form.Set("client_secret", c.ClientSecret)
	}
	status, _, body := f.post("/oauth/token", "", "", form)
	return status, body
}

// answerDevice walks browser b through the device page: it enters typed,
// signs in when asked, and answers action (allow or deny) on the consent
// page, which must say a device asked. It returns the page after the
// answer, or the first page it does not know.
func (f *fixture) answerDevice(b *browser, typed, action string) *page {
	t := b.t
	t.Helper()
	p := b.get(f.issuer + "/device?user_code=" + url.QueryEscape(typed))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="/device"`) {
		t.Fatalf("device page: %d\n%s", p.status, p.body)
	}
	p = b.post(f.issuer+"/device", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "user_code": {typed}})
	for range 8 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			p = b.get(resolve(f.issuer, p.location))
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{
				"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password},
			})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/device/consent"`):
			if !strings.Contains(p.body, `id="device-notice"`) || !strings.Contains(p.body, "A device asked") {
				t.Fatalf("the consent page does not say a device asked:\n%s", p.body)
			}
			return b.post(f.issuer+"/device/consent", url.Values{
				"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {action},
			})
		default:
			return p
		}
	}
	t.Fatal("too many steps")
	return nil
}

// TestDeviceGrant runs the device authorization grant with x/oauth2's
// DeviceAuth and DeviceAccessToken, for a public and a confidential
// client: the code entered on the device page (in lower case, without the
// dash), the user signs in and allows; the device gets an access token, an
// ID token go-oidc verifies and a refresh token, once.
func TestDeviceGrant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		dc := f.offerDevice(t)
		disc := discoveryOf(t, e, f)
		if disc["device_authorization_endpoint"] != f.issuer+"/oauth/device_authorization" || !slices.Contains(strs(disc["grant_types_supported"]), tenants.GrantDeviceCode) {
			t.Fatalf("discovery: device_authorization_endpoint %v, grant_types_supported %v", disc["device_authorization_endpoint"], disc["grant_types_supported"])
		}
		for _, c := range []*admin.Client{dc.cli, dc.tv} {
			t.Run(c.ClientName, func(t *testing.T) {
				scopes := []string{"openid", "email", "offline_access", "read:orders"}
				da := f.deviceAuth(t, c, scopes...)
				if !userCodeShape.MatchString(da.UserCode) || da.VerificationURI != f.issuer+"/device" ||
					da.VerificationURIComplete != f.issuer+"/device?user_code="+da.UserCode || da.Interval != 5 ||
					time.Until(da.Expiry) < 9*time.Minute || len(da.DeviceCode) < 40 {
					t.Fatalf("device authorization response %+v", da)
				}
				if status, body := f.poll(c, da.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "authorization_pending" {
					t.Fatalf("poll before the answer: %d %v", status, body)
				}
				typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))
				p := f.answerDevice(e.browser(), typed, "allow")
				if p.status != http.StatusOK || !strings.Contains(p.body, "Device connected") {
					t.Fatalf("after allow: %d\n%s", p.status, p.body)
				}
				ctx, cancel := context.WithTimeout(e.ctx(), 30*time.Second)
				defer cancel()
				tok, err := f.deviceConfig(c, scopes...).DeviceAccessToken(ctx, da)
				if err != nil {
					t.Fatalf("device access token: %v", err)
				}
				// A refresh token for offline_access where the client has
				// the refresh_token grant (the TV has the device grant only).
				if tok.AccessToken == "" || (tok.RefreshToken != "") != (c == dc.cli) {
					t.Fatalf("token %+v", tok)
				}
				idt, ok := tok.Extra("id_token").(string)
				if !ok {
					t.Fatal("no ID token for openid")
				}
				octx := oidc.ClientContext(e.ctx(), e.httpClient(true))
				prov, err := oidc.NewProvider(octx, f.issuer)
				if err != nil {
					t.Fatal(err)
				}
				id, err := prov.Verifier(&oidc.Config{ClientID: c.ClientID}).Verify(octx, idt)
				if err != nil || id.Subject != f.userID {
					t.Fatalf("ID token: %v, sub %v", err, id)
				}
				// The refresh token, where the client may have one, works
				// like any other.
				if c == dc.cli {
					rs := f.deviceConfig(c, scopes...).TokenSource(e.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)})
					if nt, err := rs.Token(); err != nil || nt.AccessToken == "" {
						t.Fatalf("refresh: %v", err)
					}
				}
			})
		}
		var issued []tenants.AuditEvent
		for _, ev := range f.audit("token.issued") {
			if ev.Reason == tenants.GrantDeviceCode {
				issued = append(issued, ev)
			}
		}
		if len(issued) != 2 {
			t.Errorf("%d token.issued events of the device grant, want 2", len(issued))
		}
		if len(f.audit("consent.granted")) != 2 {
			t.Errorf("consent.granted events: %v", f.audit("consent.granted"))
		}
	})
}

// discoveryOf fetches f's discovery document.
func discoveryOf(t *testing.T, e *env, f *fixture) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
	status, _, d := e.doJSON(req)
	if status != http.StatusOK {
		t.Fatalf("discovery: %d", status)
	}
	return d
}

// forEachDBWithClock runs fn on every database against a node whose clock
// the test moves.
func forEachDBWithClock(t *testing.T, fn func(t *testing.T, e *env, clk *testClock)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		clk := &testClock{}
		fn(t, newEnv(t, db.URL(t), withClock(clk)), clk)
	})
}

// TestDeviceGrantRefusals checks what the device grant refuses, with the
// RFC 8628 error codes: polling too fast (slow_down, with the interval
// enforced from the database), a denied request, an expired code, a
// device code presented by another client or at another tenant, a user
// code of another tenant, wrong codes, forms without their CSRF token, and
// a tenant or client that does not offer the grant. Concurrent polls after
// the approval get tokens once.
func TestDeviceGrantRefusals(t *testing.T) {
	forEachDBWithClock(t, func(t *testing.T, e *env, clk *testClock) {
		acme, beta := e.fixture("acme"), e.fixture("beta")

		// Not offered: not in discovery, unauthorized_client at both
		// endpoints.
		if d := discoveryOf(t, e, acme); d["device_authorization_endpoint"] != nil || slices.Contains(strs(d["grant_types_supported"]), tenants.GrantDeviceCode) {
			t.Fatalf("a tenant that does not offer the grant advertises it: %v %v", d["device_authorization_endpoint"], d["grant_types_supported"])
		}
		status, _, body := acme.post("/oauth/device_authorization", "", "", url.Values{"client_id": {acme.spa.ClientID}, "scope": {"openid"}})
		if status != http.StatusBadRequest || errorCode(body) != "unauthorized_client" {
			t.Fatalf("device authorization at a tenant without the grant: %d %v", status, body)
		}
		if status, body := acme.poll(acme.spa, "whatever"); status != http.StatusBadRequest || errorCode(body) != "unauthorized_client" {
			t.Fatalf("device grant at a tenant without it: %d %v", status, body)
		}
		a, b := acme.offerDevice(t), beta.offerDevice(t)
		// A client that did not register the grant.
		status, _, body = acme.post("/oauth/device_authorization", "", "", url.Values{"client_id": {acme.spa.ClientID}, "scope": {"openid"}})
		if status != http.StatusBadRequest || errorCode(body) != "unauthorized_client" {
			t.Fatalf("device authorization of a client without the grant: %d %v", status, body)
		}
		// Client authentication as at the token endpoint.
		for name, form := range map[string]url.Values{
			"unknown client":          {"client_id": {"nobody"}, "scope": {"openid"}},
			"confidential, no secret": {"client_id": {a.tv.ClientID}, "scope": {"openid"}},
			"wrong secret":            {"client_id": {a.tv.ClientID}, "client_secret": {"wrong"}, "scope": {"openid"}},
			"another tenant's client": {"client_id": {b.cli.ClientID}, "scope": {"openid"}},
		} {
			if status, _, body := acme.post("/oauth/device_authorization", "", "", form); status != http.StatusUnauthorized || errorCode(body) != "invalid_client" {
				t.Errorf("%s: %d %v", name, status, body)
			}
		}
		if status, _, body := acme.post("/oauth/device_authorization", "", "", url.Values{"client_id": {a.cli.ClientID}, "scope": {"openid admin:everything"}}); status != http.StatusBadRequest || errorCode(body) != "invalid_scope" {
			t.Errorf("a scope not granted: %d %v", status, body)
		}

		// slow_down: the interval is kept in the database and grows by 5 s.
		da := acme.deviceAuth(t, a.cli, "openid")
		for i, st := range []struct {
			wait time.Duration
			want string
		}{
			{0, "authorization_pending"},
			{time.Second, "slow_down"},     // interval now 10 s
			{6 * time.Second, "slow_down"}, // interval now 15 s
			{15 * time.Second, "authorization_pending"},
		} {
			clk.Advance(st.wait)
			if status, body := acme.poll(a.cli, da.DeviceCode); status != http.StatusBadRequest || errorCode(body) != st.want {
				t.Fatalf("poll %d: %d %v, want %s", i, status, body, st.want)
			}
		}
		// Another client, another tenant: invalid_grant, and the code is
		// not spent by it.
		clk.Advance(time.Minute)
		if status, body := acme.poll(a.tv, da.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Errorf("device code of another client: %d %v", status, body)
		}
		if status, body := beta.poll(b.cli, da.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Errorf("acme's device code at beta: %d %v", status, body)
		}
		if status, body := acme.poll(a.cli, da.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "authorization_pending" {
			t.Errorf("the code after another client tried it: %d %v", status, body)
		}
		// acme's user code entered on beta's device page: as a wrong code.
		if p := beta.answerDevice(e.browser(), da.UserCode, "allow"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "That code is not valid") {
			t.Errorf("acme's user code at beta: %d\n%s", p.status, p.body)
		}
		if p := acme.answerDevice(e.browser(), "BBBB-BBBB", "allow"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "That code is not valid") {
			t.Errorf("a wrong code: %d\n%s", p.status, p.body)
		}
		for _, typed := range []string{"", "AAAA-AAAA", strings.Repeat("B", 5000), "<script>", "BCDF\x00GHJK"} {
			br := e.browser()
			p := br.get(acme.issuer + "/device")
			p = br.post(acme.issuer+"/device", url.Values{"csrf_token": {field(t, csrfField, p.body)}, "user_code": {typed}})
			if p.status != http.StatusBadRequest || strings.Contains(p.body, "<script>") {
				t.Errorf("code %.20q: %d", typed, p.status)
			}
		}

		// Denied: access_denied.
		denied := acme.deviceAuth(t, a.cli, "openid")
		if p := acme.answerDevice(e.browser(), denied.UserCode, "deny"); p.status != http.StatusOK || !strings.Contains(p.body, "Access denied") {
			t.Fatalf("deny: %d\n%s", p.status, p.body)
		}
		if status, body := acme.poll(a.cli, denied.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "access_denied" {
			t.Errorf("poll after deny: %d %v", status, body)
		}

		// Without their CSRF token the forms change nothing.
		br := e.browser()
		br.get(acme.issuer + "/device")
		if p := br.post(acme.issuer+"/device", url.Values{"user_code": {da.UserCode}}); p.status != http.StatusForbidden {
			t.Errorf("code without CSRF token: %d", p.status)
		}
		if p := br.post(acme.issuer+"/device/consent", url.Values{"id": {"x.y"}, "action": {"allow"}}); p.status != http.StatusForbidden {
			t.Errorf("answer without CSRF token: %d", p.status)
		}

		// Concurrent polls after the approval: tokens once.
		raced := acme.deviceAuth(t, a.tv, "openid", "offline_access")
		if p := acme.answerDevice(e.browser(), raced.UserCode, "allow"); p.status != http.StatusOK {
			t.Fatalf("allow: %d\n%s", p.status, p.body)
		}
		const n = 10
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() { statuses[i], _ = acme.poll(a.tv, raced.DeviceCode) })
		}
		wg.Wait()
		if ok := countOf(statuses, http.StatusOK); ok != 1 {
			t.Errorf("%d of %d concurrent polls got tokens: %v", ok, n, statuses)
		}
		clk.Advance(time.Minute)
		if status, body := acme.poll(a.tv, raced.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Errorf("poll after redemption: %d %v", status, body)
		}

		// Expired: expired_token, and the page no longer knows the code.
		late := acme.deviceAuth(t, a.cli, "openid")
		clk.Advance(11 * time.Minute)
		if status, body := acme.poll(a.cli, late.DeviceCode); status != http.StatusBadRequest || errorCode(body) != "expired_token" {
			t.Errorf("poll after expiry: %d %v", status, body)
		}
		if p := acme.answerDevice(e.browser(), late.UserCode, "allow"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "That code is not valid") {
			t.Errorf("expired code on the page: %d\n%s", p.status, p.body)
		}
		// x/oauth2 reports what the server said.
		if _, err := acme.deviceConfig(a.cli, "openid").DeviceAccessToken(e.ctx(), &oauth2.DeviceAuthResponse{DeviceCode: late.DeviceCode, Interval: 1}); !isRetrieveError(err, "expired_token") {
			t.Errorf("x/oauth2 after expiry: %v", err)
		}
	})
}

func isRetrieveError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func countOf(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

// TestDeviceCodeThrottle checks that guessing user codes is throttled per
// address: after eleven wrong codes even the right one is answered as wrong,
// and the throttling is audited.
func TestDeviceCodeThrottle(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		dc := f.offerDevice(t)
		da := f.deviceAuth(t, dc.cli, "openid")
		for i := range 11 {
			if p := f.answerDevice(e.browser(), "BBBB-BBB"+string("CDFGHJKLMNP"[i]), "allow"); p.status != http.StatusBadRequest {
				t.Fatalf("wrong code %d: %d", i, p.status)
			}
		}
		p := f.answerDevice(e.browser(), da.UserCode, "allow")
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "That code is not valid") {
			t.Fatalf("the right code from a throttled address: %d\n%s", p.status, p.body)
		}
		if len(f.audit("device.throttled")) == 0 || len(f.audit("device.code_rejected")) != 11 {
			t.Errorf("audit: %d throttled, %d rejected", len(f.audit("device.throttled")), len(f.audit("device.code_rejected")))
		}
		if status, body := f.poll(dc.cli, da.DeviceCode); errorCode(body) != "authorization_pending" {
			t.Errorf("the request was answered: %d %v", status, body)
		}
	})
}

// TestDeviceAuthorizationRateLimited: anyone who knows a public client's
// id can make device authorizations, each a stored row: the per-address
// rate limit of the anonymous pages guards the endpoint, in JSON, and a
// refused request stores nothing.
func TestDeviceAuthorizationRateLimited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e, f := rateEnv(t, db, 3)
		dc := f.offerDevice(t)
		ask := func() (int, http.Header, map[string]any) {
			return f.post("/oauth/device_authorization", "", "", url.Values{"client_id": {dc.cli.ClientID}, "scope": {"openid"}})
		}
		for i := range 3 {
			if status, _, body := ask(); status != http.StatusOK {
				t.Fatalf("request %d within the burst: %d %v", i, status, body)
			}
		}
		status, hdr, body := ask()
		if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Fatalf("over the burst: %d %v %v", status, hdr, body)
		}
		if n := devicesStored(t, e); n != 3 {
			t.Errorf("%d device authorizations stored, want 3", n)
		}
	})
}

// devicesStored counts the device authorizations of every tenant.
func devicesStored(t *testing.T, e *env) int {
	t.Helper()
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM device_authorizations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
