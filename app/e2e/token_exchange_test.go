package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/tenants"
)

// exchangeFixture is a tenant that offers token exchange, with an
// application registered through the management API whose grants include
// it, granted two APIs: the fixture's Orders API and a Billing API.
type exchangeFixture struct {
	*fixture
	mgmt    *apiClient
	app     *admin.Client
	billing string
}

func (e *env) exchangeFixture(t *testing.T, slug string) *exchangeFixture {
	t.Helper()
	f := e.fixture(slug)
	c := e.managementClient(t, slug, admin.ScopeTenantsWrite)
	x := &exchangeFixture{fixture: f, mgmt: c, billing: "https://billing." + slug + ".test"}
	c.must(t, http.StatusOK, http.MethodPatch, "/tenants/"+slug, map[string]any{
		"grant_types": append(tenants.DefaultGrantTypes(), tenants.GrantTokenExchange)})
	c.must(t, http.StatusCreated, http.MethodPost, "/tenants/"+slug+"/apis", map[string]any{
		"name": "Billing API", "audience": x.billing, "scopes": []map[string]any{{"value": "read:invoices"}, {"value": "pay:invoices"}}})
	v := c.must(t, http.StatusCreated, http.MethodPost, "/tenants/"+slug+"/applications", map[string]any{
		"kind": "web", "client_name": "Gateway", "redirect_uris": []string{redirectURI},
		"grant_types": []string{"authorization_code", "refresh_token", "client_credentials", tenants.GrantTokenExchange},
		"audiences":   []string{f.api, x.billing}, "scopes": []string{"read:orders", "read:invoices"},
	})
	if !slices.Contains(strs(v["grant_types"]), tenants.GrantTokenExchange) {
		t.Fatalf("application grant types: %v", v["grant_types"])
	}
	x.app = &admin.Client{ClientID: v["client_id"].(string), ClientSecret: v["client_secret"].(string)}
	return x
}

// userToken signs the fixture's user in to the gateway application and
// returns its access token for the Orders API.
func (x *exchangeFixture) userToken(t *testing.T) string {
	t.Helper()
	at, _ := x.userTokens(t, "openid")
	return at
}

// userTokens signs the fixture's user in to the gateway application for
// scope and returns its access token for the Orders API and its refresh
// token ("" for none).
func (x *exchangeFixture) userTokens(t *testing.T, scope string) (string, string) {
	t.Helper()
	verifier, challenge := pkce()
	cb := x.login(x.e.browser(), x.authorizeURL(x.app.ClientID, url.Values{"scope": {scope}, "resource": {x.fixture.api},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
	status, _, body := x.post("/oauth/token", x.app.ClientID, x.app.ClientSecret, url.Values{
		"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	rt, _ := body["refresh_token"].(string)
	return mustToken(t, body, "access_token"), rt
}

// exchangeAs posts a token exchange as client c with form's parameters
// added to grant_type.
func (x *exchangeFixture) exchangeAs(c *admin.Client, form url.Values) (int, http.Header, map[string]any) {
	form.Set("grant_type", tenants.GrantTokenExchange)
	return x.post("/oauth/token", c.ClientID, c.ClientSecret, form)
}

func subjectForm(token, resource string) url.Values {
	return url.Values{"subject_token": {token}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "resource": {resource}}
}

// TestTokenExchange: an application registered through the API with the
// token exchange grant exchanges its user's access token for a token for
// another API it is granted (delegation: act names the client), audited
// with both parties; the result is a valid RFC 9068 token of that API,
// revoked with the subject token's family.
func TestTokenExchange(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		x := e.exchangeFixture(t, "acme")
		subject, refresh := x.userTokens(t, "openid offline_access")
		if refresh == "" {
			t.Fatal("no refresh token")
		}

		status, hdr, body := x.exchangeAs(x.app, subjectForm(subject, x.billing))
		if status != http.StatusOK {
			t.Fatalf("token exchange: %d %v", status, body)
		}
		if body["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || body["token_type"] != "Bearer" ||
			body["scope"] != "read:invoices" || body["refresh_token"] != nil || hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("token exchange answer: %v", body)
		}
		tok := mustToken(t, body, "access_token")
		claims := jwtClaims(t, tok)
		act, _ := claims["act"].(map[string]any)
		if claims["sub"] != x.userID || !slices.Equal(strs(claims["aud"]), []string{x.billing}) || claims["client_id"] != x.app.ClientID ||
			act["sub"] != x.app.ClientID || act["client_id"] != x.app.ClientID {
			t.Fatalf("exchanged token claims: %v", claims)
		}
		if exp, sexp := claims["exp"].(float64), jwtClaims(t, subject)["exp"].(float64); exp > sexp {
			t.Fatalf("exchanged token outlives its subject token: %v > %v", exp, sexp)
		}
		if in := x.introspectAs(x.app, tok); in["active"] != true || in["sub"] != x.userID {
			t.Fatalf("introspection of the exchanged token: %v", in)
		}

		// The exchange is in the audit log with both parties.
		evs, err := e.store.ListAudit(x.tctx(), tenants.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ev := range evs {
			if ev.Action == "token.exchanged" && ev.ActorID == x.app.ClientID && ev.TargetID == x.userID && ev.Outcome == "success" &&
				strings.Contains(ev.Reason, "delegation") && strings.Contains(ev.Reason, x.billing) && !strings.Contains(ev.Reason, subject) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no token.exchanged audit event naming client %s and user %s", x.app.ClientID, x.userID)
		}

		// Revoking the subject token's family (its refresh token) revokes
		// the exchanged token, and the subject token can be exchanged no more.
		if status, _, _ := x.post("/oauth/revoke", x.app.ClientID, x.app.ClientSecret, url.Values{"token": {refresh}}); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if in := x.introspectAs(x.app, tok); in["active"] != false {
			t.Fatalf("exchanged token still active after its subject was revoked: %v", in)
		}
		if status, _, body := x.exchangeAs(x.app, subjectForm(subject, x.billing)); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
			t.Fatalf("revoked subject token: %d %v", status, body)
		}
	})
}

func (x *exchangeFixture) introspectAs(c *admin.Client, token string) map[string]any {
	_, _, body := x.post("/oauth/introspect", c.ClientID, c.ClientSecret, url.Values{"token": {token}})
	return body
}

// TestTokenExchangeRefusals: each malformed or unacceptable exchange gets
// RFC 8693's error code, and none issues a token: token types, targets
// not granted, subject tokens of another client or another tenant, forged
// or huge tokens, a client without the grant, a tenant that does not offer it.
func TestTokenExchangeRefusals(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/g.db")
	x := e.exchangeFixture(t, "acme")
	other := e.exchangeFixture(t, "beta")
	subject := x.userToken(t)
	otherSubject := other.userToken(t)
	// The fixture's web client's own token, and the worker's.
	webCode, webVerifier := x.authCode(e.browser(), x.web.ClientID, "openid")
	_, webBody := x.exchange(webCode, webVerifier)
	webToken := mustToken(t, webBody, "access_token")
	_, _, ccBody := x.post("/oauth/token", x.app.ClientID, x.app.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "resource": {x.fixture.api}})
	appCC := mustToken(t, ccBody, "access_token")

	forged := subject[:len(subject)-4] + "AAAA"
	at := "urn:ietf:params:oauth:token-type:access_token"
	for _, tc := range []struct {
		name   string
		client *admin.Client
		form   url.Values
		status int
		code   string
	}{
		{"no subject token", x.app, url.Values{"subject_token_type": {at}, "resource": {x.billing}}, 400, "invalid_request"},
		{"no subject token type", x.app, url.Values{"subject_token": {subject}, "resource": {x.billing}}, 400, "invalid_request"},
		{"refresh token type", x.app, url.Values{"subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}, "resource": {x.billing}}, 400, "invalid_request"},
		{"id token requested", x.app, withParam(subjectForm(subject, x.billing), "requested_token_type", "urn:ietf:params:oauth:token-type:id_token"), 400, "invalid_request"},
		{"actor token without type", x.app, withParam(subjectForm(subject, x.billing), "actor_token", appCC), 400, "invalid_request"},
		{"actor type without token", x.app, withParam(subjectForm(subject, x.billing), "actor_token_type", at), 400, "invalid_request"},
		{"no target", x.app, url.Values{"subject_token": {subject}, "subject_token_type": {at}}, 400, "invalid_target"},
		{"two targets", x.app, withParam(subjectForm(subject, x.billing), "audience", x.fixture.api), 400, "invalid_target"},
		{"target not granted", x.app, subjectForm(subject, "https://api.beta.test"), 400, "invalid_target"},
		{"scope not granted", x.app, withParam(subjectForm(subject, x.billing), "scope", "pay:invoices"), 400, "invalid_scope"},
		{"subject token of another client", x.app, subjectForm(webToken, x.billing), 400, "invalid_grant"},
		{"subject token of another tenant", x.app, subjectForm(otherSubject, x.billing), 400, "invalid_grant"},
		{"forged subject token", x.app, subjectForm(forged, x.billing), 400, "invalid_grant"},
		{"garbage subject token", x.app, subjectForm("not-a-jwt", x.billing), 400, "invalid_grant"},
		{"huge subject token", x.app, subjectForm(strings.Repeat("a", 20000), x.billing), 400, "invalid_grant"},
		{"actor token of another tenant", x.app, withParam(withParam(subjectForm(subject, x.billing), "actor_token", otherSubject), "actor_token_type", at), 400, "invalid_grant"},
		{"actor token of another client", x.app, withParam(withParam(subjectForm(subject, x.billing), "actor_token", webToken), "actor_token_type", at), 400, "invalid_grant"},
		{"client without the grant", x.web, subjectForm(webToken, x.fixture.api), 400, "unauthorized_client"},
		{"wrong secret", &admin.Client{ClientID: x.app.ClientID, ClientSecret: "nope"}, subjectForm(subject, x.billing), 401, "invalid_client"},
		{"other tenant's client", other.app, subjectForm(subject, x.billing), 401, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := x.exchangeAs(tc.client, tc.form)
			if status != tc.status || errorCode(body) != tc.code || body["access_token"] != nil {
				t.Fatalf("%d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}

	// The subject token in the URL is refused before anything else.
	req, _ := http.NewRequest(http.MethodPost, x.issuer+"/oauth/token?subject_token="+url.QueryEscape(subject), strings.NewReader(url.Values{"grant_type": {tenants.GrantTokenExchange}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(x.app.ClientID, x.app.ClientSecret)
	if status, _, body := e.doJSON(req); status != http.StatusBadRequest || errorCode(body) != "invalid_request" {
		t.Fatalf("subject_token in the URL: %d %v", status, body)
	}

	// A tenant that stops offering the grant refuses it.
	x.mgmt.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"grant_types": tenants.DefaultGrantTypes()})
	if status, _, body := x.exchangeAs(x.app, subjectForm(subject, x.billing)); status != http.StatusBadRequest || errorCode(body) != "unauthorized_client" {
		t.Fatalf("tenant without the grant: %d %v", status, body)
	}
}

func withParam(v url.Values, k, val string) url.Values {
	v.Add(k, val)
	return v
}

// TestTokenExchangeImpersonationAndActors: without the tenant's consent an
// exchange is always a delegation; with it, an exchange without an actor
// token impersonates (no act), and one with an actor token still delegates
// to the actor token's subject, nesting the subject token's own act.
func TestTokenExchangeImpersonationAndActors(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/g.db")
	x := e.exchangeFixture(t, "acme")
	subject := x.userToken(t)
	at := "urn:ietf:params:oauth:token-type:access_token"

	v := x.mgmt.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"token_exchange_impersonation": true})
	if v["token_exchange_impersonation"] != true {
		t.Fatalf("tenant setting: %v", v)
	}
	status, _, body := x.exchangeAs(x.app, subjectForm(subject, x.billing))
	if status != http.StatusOK {
		t.Fatalf("impersonation: %d %v", status, body)
	}
	imp := jwtClaims(t, mustToken(t, body, "access_token"))
	if imp["act"] != nil || imp["sub"] != x.userID {
		t.Fatalf("impersonation token: %v", imp)
	}

	// With an actor token (the client's own client credentials token).
	_, _, ccBody := x.post("/oauth/token", x.app.ClientID, x.app.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "resource": {x.fixture.api}})
	appCC := mustToken(t, ccBody, "access_token")
	form := withParam(withParam(subjectForm(subject, x.billing), "actor_token", appCC), "actor_token_type", at)
	status, _, body = x.exchangeAs(x.app, form)
	if status != http.StatusOK {
		t.Fatalf("delegation with an actor token: %d %v", status, body)
	}
	delegated := mustToken(t, body, "access_token")
	if act, _ := jwtClaims(t, delegated)["act"].(map[string]any); act["sub"] != x.app.ClientID {
		t.Fatalf("delegated token act: %v", act)
	}

	// A delegated token exchanged again keeps its chain: the new act nests
	// the old one; impersonating with it is refused.
	status, _, body = x.exchangeAs(x.app, withParam(withParam(subjectForm(delegated, x.fixture.api), "actor_token", appCC), "actor_token_type", at))
	if status != http.StatusOK {
		t.Fatalf("second exchange: %d %v", status, body)
	}
	act, _ := jwtClaims(t, mustToken(t, body, "access_token"))["act"].(map[string]any)
	if inner, _ := act["act"].(map[string]any); act["sub"] != x.app.ClientID || inner["sub"] != x.app.ClientID {
		t.Fatalf("nested act: %v", act)
	}
	if status, _, body := x.exchangeAs(x.app, subjectForm(delegated, x.fixture.api)); status != http.StatusBadRequest || errorCode(body) != "invalid_grant" {
		t.Fatalf("impersonation with a delegated subject token: %d %v", status, body)
	}

	// Switched off again, no exchange is an impersonation.
	x.mgmt.must(t, http.StatusOK, http.MethodPatch, "/tenants/acme", map[string]any{"token_exchange_impersonation": false})
	_, _, body = x.exchangeAs(x.app, subjectForm(subject, x.billing))
	if act, _ := jwtClaims(t, mustToken(t, body, "access_token"))["act"].(map[string]any); act["sub"] != x.app.ClientID {
		t.Fatalf("impersonation switched off, act = %v", act)
	}
}

// TestTokenExchangeWithOAuth4WebAPI runs the exchange from oauth4webapi's
// genericTokenEndpointRequest (a strict client: it checks the answer's
// shape) and checks the token it got with validateJwtAccessToken for the
// Billing API (a strict RFC 9068 resource server).
func TestTokenExchangeWithOAuth4WebAPI(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("oauth4webapi check skipped: node not found")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "resource-server"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oauth4webapi")); err != nil {
		t.Skip("oauth4webapi check skipped: run `npm ci --prefix app/e2e/testdata/resource-server` (.ci/run does)")
	}
	e := newEnv(t, "sqlite:"+t.TempDir()+"/g.db")
	x := e.exchangeFixture(t, "acme")
	subject := x.userToken(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "exchange.mjs", x.issuer, x.app.ClientID, x.app.ClientSecret, subject, x.billing)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("exchange.mjs: %v: %s", err, stderr.String())
	}
	var resp map[string]any
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("exchange.mjs printed %q", out)
	}
	if resp["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" {
		t.Fatalf("oauth4webapi's answer: %v", resp)
	}
	claims, err := validateWithOAuth4WebAPI(t, x.issuer, x.billing, resp["access_token"].(string))
	if err != nil {
		t.Fatalf("validateJwtAccessToken: %v", err)
	}
	if act, _ := claims["act"].(map[string]any); act["sub"] != x.app.ClientID || claims["sub"] != x.userID {
		t.Fatalf("validated claims: %v", claims)
	}
}
