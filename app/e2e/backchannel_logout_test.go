package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// logoutEvent is the member of a logout token's events claim (OpenID
// Connect Back-Channel Logout 1.0 §2.4).
const logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutReceiver is a relying party's back-channel logout endpoint on
// loopback (reached as hooksHost): it validates every logout token as §2.6
// says, with its own code, against the issuer's JWKS.
type logoutReceiver struct {
	t        *testing.T
	url      string
	issuer   string
	audience string
	keys     func() jose.JSONWebKeySet

	mu      sync.Mutex
	got     []logoutClaims
	bad     []string
	failing int
}

type logoutClaims struct {
	Iss    string         `json:"iss"`
	Sub    string         `json:"sub"`
	Aud    any            `json:"aud"`
	Iat    int64          `json:"iat"`
	Exp    int64          `json:"exp"`
	Jti    string         `json:"jti"`
	Sid    string         `json:"sid"`
	Nonce  *string        `json:"nonce"`
	Events map[string]any `json:"events"`
}

func newLogoutReceiver(t *testing.T, e *env, f *fixture, audience string) *logoutReceiver {
	r := &logoutReceiver{t: t, issuer: f.issuer, audience: audience}
	r.keys = func() jose.JSONWebKeySet {
		resp, err := e.httpClient(true).Get(f.issuer + "/.well-known/jwks.json")
		if err != nil {
			t.Error(err)
			return jose.JSONWebKeySet{}
		}
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		_ = json.NewDecoder(resp.Body).Decode(&set)
		return set
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		form, _ := url.ParseQuery(string(body))
		c, problem := r.validate(req, form.Get("logout_token"))
		r.mu.Lock()
		defer r.mu.Unlock()
		if problem != "" {
			r.bad = append(r.bad, problem)
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if r.failing > 0 {
			r.failing--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.got = append(r.got, c)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	e.names.route(hooksHost, srv.Listener.Addr().String())
	r.url = "http://" + hooksHost + ":" + port + "/backchannel-logout"
	return r
}

// validate is Back-Channel Logout 1.0 §2.6, step by step.
func (r *logoutReceiver) validate(req *http.Request, token string) (logoutClaims, string) {
	var c logoutClaims
	if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || token == "" {
		return c, "not a form POST with logout_token"
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return c, "not a JWS"
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "logout+jwt" {
		return c, "typ " + typ
	}
	set := r.keys()
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return c, "unknown kid"
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return c, "bad signature"
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, "bad claims"
	}
	aud := map[string]bool{}
	switch a := c.Aud.(type) {
	case string:
		aud[a] = true
	case []any:
		for _, x := range a {
			s, _ := x.(string)
			aud[s] = true
		}
	}
	now := time.Now().Unix()
	_, hasEvent := c.Events[logoutEvent]
	switch {
	case c.Iss != r.issuer:
		return c, "iss " + c.Iss
	case !aud[r.audience]:
		return c, "aud"
	case c.Iat == 0 || c.Iat > now+60 || c.Iat < now-300 || c.Exp <= now:
		return c, "iat/exp"
	case c.Jti == "":
		return c, "no jti"
	case !hasEvent || len(c.Events) != 1:
		return c, "events"
	case c.Sub == "" && c.Sid == "":
		return c, "neither sub nor sid"
	case c.Nonce != nil:
		return c, "a nonce"
	}
	return c, ""
}

func (r *logoutReceiver) all() ([]logoutClaims, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logoutClaims(nil), r.got...), append([]string(nil), r.bad...)
}

// wait returns the first valid logout token after the first n with sid
// (any sid when "").
func (r *logoutReceiver) wait(n int, sid string) logoutClaims {
	r.t.Helper()
	var found logoutClaims
	eventually(r.t, 20*time.Second, "a logout token for sid "+sid, func() bool {
		got, _ := r.all()
		for _, c := range got[min(n, len(got)):] {
			if sid == "" || c.Sid == sid {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// sidOf returns the sid claim of an ID token (already verified by the
// client library that received it).
func sidOf(t *testing.T, idToken string) string {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q", idToken)
	}
	var c struct {
		Sid string `json:"sid"`
	}
	raw, err := jose.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw.UnsafePayloadWithoutVerification(), &c); err != nil || c.Sid == "" {
		t.Fatalf("ID token without sid: %v", err)
	}
	return c.Sid
}

// TestBackchannelLogout: an application registers a back-channel logout
// URI through the API (a loopback URL is refused unless allowed); its ID
// tokens carry sid; signing out, an admin revoking a session, disabling the
// user and a password change each send it a logout token (typ logout+jwt,
// signed with a key of the tenant's JWKS, the logout event, sid, sub, no
// nonce), retried after a failure, and the audit log records each
// delivery. Discovery says so.
func TestBackchannelLogout(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		e := newEnv(t, db.URL(t), withHooksHost())
		f := e.fixture("acme")
		e.fixture("globex")
		rcv := newLogoutReceiver(t, e, f, f.web.ClientID)
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		app := "/tenants/acme/applications/" + f.web.ClientID

		// URLs the server will not send to.
		for _, bad := range []string{"http://127.0.0.1:9/logout", "http://localhost:9/logout", "https://10.0.0.1/logout",
			"https://rp.example.com/logout#frag", "/relative", "ftp://rp.example.com/x", "https://" + strings.Repeat("a", 2100) + ".com/"} {
			if status, _, body := c.do(t, http.MethodPatch, app, map[string]any{"backchannel_logout_uri": bad}); status != http.StatusBadRequest ||
				!strings.Contains(fmtAny(body), "backchannel_logout_uri") {
				t.Errorf("backchannel_logout_uri %.60q: %d %v, want 400 naming the field", bad, status, body)
			}
		}
		got := c.must(t, http.StatusOK, http.MethodPatch, app, map[string]any{"backchannel_logout_uri": rcv.url, "backchannel_logout_session_required": true})
		if got["backchannel_logout_uri"] != rcv.url || got["backchannel_logout_session_required"] != true {
			t.Fatalf("update: %v", got)
		}
		// Another tenant's admin cannot touch the application.
		oc := e.managementClient(t, "globex", admin.ScopeTenantsRead, admin.ScopeTenantsWrite, admin.ScopeAuditRead)
		oc.must(t, http.StatusNotFound, http.MethodPatch, "/tenants/globex/applications/"+f.web.ClientID, map[string]any{"backchannel_logout_uri": rcv.url})

		// Discovery.
		req, _ := http.NewRequest(http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
		status, _, disc := e.doJSON(req)
		if status != http.StatusOK || disc["backchannel_logout_supported"] != true || disc["backchannel_logout_session_supported"] != true {
			t.Fatalf("discovery: %d %v", status, disc)
		}

		// 1. The user signs out (RP-initiated, with the ID token as hint).
		b := e.browser()
		tok, _ := f.codeFlow(b, f.web, []string{"openid", "offline_access"})
		idToken, _ := tok.Extra("id_token").(string)
		sid1 := sidOf(t, idToken)
		// The same browser signing in again keeps its session: same sid.
		tok2, _ := f.codeFlow(b, f.web, []string{"openid"})
		if s := sidOf(t, tok2.Extra("id_token").(string)); s != sid1 {
			t.Fatalf("a second sign-in of one session: sid %s, want %s", s, sid1)
		}
		rcv.mu.Lock()
		rcv.failing = 1 // the first attempt fails: it is retried
		rcv.mu.Unlock()
		if p := b.get(f.issuer + "/logout?id_token_hint=" + url.QueryEscape(idToken)); p.status != http.StatusOK {
			t.Fatalf("logout: %d %s", p.status, p.body)
		}
		lt := rcv.wait(0, sid1)
		if lt.Sub != f.userID {
			t.Fatalf("logout token sub %s, want %s", lt.Sub, f.userID)
		}
		if got, bad := rcv.all(); len(bad) > 0 || len(got) != 1 {
			t.Fatalf("receiver: %d tokens, refused %v", len(got), bad)
		}

		// 2. An admin ends a session through the API.
		b2 := e.browser()
		tok, _ = f.codeFlow(b2, f.web, []string{"openid"})
		sid2 := sidOf(t, tok.Extra("id_token").(string))
		if sid2 == sid1 {
			t.Fatal("two sessions share a sid")
		}
		sessions := c.items(t, "/tenants/acme/users/"+f.userID+"/sessions")
		if len(sessions) != 1 {
			t.Fatalf("sessions %v", sessions)
		}
		// Not from another tenant.
		oc.must(t, http.StatusNotFound, http.MethodDelete, "/tenants/globex/users/"+f.userID+"/sessions/"+sessions[0]["id"].(string), nil)
		c.must(t, http.StatusNoContent, http.MethodDelete, "/tenants/acme/users/"+f.userID+"/sessions/"+sessions[0]["id"].(string), nil)
		rcv.wait(1, sid2)

		// 3. Disabling the user ends every session.
		b3 := e.browser()
		tok, _ = f.codeFlow(b3, f.web, []string{"openid"})
		sid3 := sidOf(t, tok.Extra("id_token").(string))
		c.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/users/"+f.userID+"/disable", nil)
		rcv.wait(2, sid3)
		c.must(t, http.StatusOK, http.MethodPost, "/tenants/acme/users/"+f.userID+"/enable", nil)

		// 4. A password set by an admin ends every session too.
		b4 := e.browser()
		tok, _ = f.codeFlow(b4, f.web, []string{"openid"})
		sid4 := sidOf(t, tok.Extra("id_token").(string))
		n, _ := rcv.all()
		if err := e.srv.Admin().SetUserPassword(f.adminCtx(), f.userID, "another correct horse battery"); err != nil {
			t.Fatal(err)
		}
		rcv.wait(len(n), sid4)

		got2, bad := rcv.all()
		if len(bad) > 0 {
			t.Fatalf("the receiver refused tokens: %v", bad)
		}
		jtis := map[string]bool{}
		for _, c := range got2 {
			if jtis[c.Jti] {
				t.Fatalf("jti %s sent twice after a success", c.Jti)
			}
			jtis[c.Jti] = true
		}

		// The audit log has each delivery, the first after two attempts.
		eventually(t, 10*time.Second, "the audit events of the deliveries", func() bool {
			evs := c.items(t, "/tenants/acme/audit?action="+tenants.ActionLogoutDelivered)
			retried := false
			for _, ev := range evs {
				if strings.Contains(fmtAny(ev), "attempt 2") {
					retried = true
				}
			}
			return len(evs) >= 4 && retried
		})
		// The deliveries are counted by outcome, apart from webhooks'.
		rec := httptest.NewRecorder()
		e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for outcome, least := range map[string]float64{"delivered": 4, "retry": 1} {
			m := regexp.MustCompile(`(?m)^gatehouse_backchannel_logout_deliveries_total\{outcome="` + outcome + `"\} ([0-9.e+]+)$`).FindStringSubmatch(rec.Body.String())
			if m == nil {
				t.Fatalf("no %s logout deliveries counted", outcome)
			}
			if v, _ := strconv.ParseFloat(m[1], 64); v < least {
				t.Errorf("%s logout deliveries: %v, want at least %v", outcome, v, least)
			}
		}
		if strings.Contains(rec.Body.String(), "gatehouse_webhook_deliveries_total{") {
			t.Errorf("logout deliveries counted as webhook deliveries")
		}
		// The other tenant heard of none of it.
		if evs := oc.items(t, "/tenants/globex/audit?action=logout."); len(evs) != 0 {
			t.Fatalf("the other tenant's log: %v", evs)
		}
	})
}

// TestConsoleLogoutAndRegistrationSettings: the console sets an
// application's back-channel logout URI (refusing one the server would not
// send to) and the tenant's client registration mode.
func TestConsoleLogoutAndRegistrationSettings(t *testing.T) {
	e := newEnv(t, storetest.SQLiteURL(t), withHooksHost())
	f := e.fixture("acme")
	b, csrf := e.consoleAs(t, "ops@example.test", "")
	app := e.base + "/admin/t/acme/applications/" + f.web.ClientID
	form := func(uri string, required bool) url.Values {
		v := url.Values{"csrf_token": {csrf}, "name": {"web"}, "redirect_uris": {redirectURI}, "post_logout_redirect_uris": {postLogout},
			"grant_types": {"authorization_code", "refresh_token"}, "id_token_signed_response_alg": {"RS256"}, "backchannel_logout_uri": {uri}}
		if required {
			v.Set("backchannel_logout_session_required", "on")
		}
		return v
	}
	if p := b.get(app); p.status != http.StatusOK || !strings.Contains(p.body, `name="backchannel_logout_uri"`) {
		t.Fatalf("application page: %d", p.status)
	}
	if p := b.post(app, form("http://127.0.0.1:9/logout", false)); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "GATEHOUSE_UPSTREAM_ALLOW_HOSTS") {
		t.Fatalf("a loopback logout URI: %d", p.status)
	}
	uri := "http://" + hooksHost + ":9/logout"
	if p := b.post(app, form(uri, true)); p.status != http.StatusSeeOther && p.status != http.StatusFound {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	got, err := e.srv.Admin().GetClient(f.adminCtx(), f.web.ClientID)
	if err != nil || got.BackchannelLogoutURI != uri || !got.BackchannelLogoutSessionRequired {
		t.Fatalf("after saving: %+v, %v", got, err)
	}
	p := b.get(e.base + "/admin/t/acme/settings")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="client_registration" value="open"`) {
		t.Fatalf("settings page: %d", p.status)
	}
}
