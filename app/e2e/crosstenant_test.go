package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCrossTenantUseAnswersAsNonexistent uses tenant acme's code, access
// token, refresh token, client and session at tenant beta, and checks each
// answer is exactly what a made-up value of the same kind gets there.
func TestCrossTenantUseAnswersAsNonexistent(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, bt := e.fixture("acme"), e.fixture("beta")
		browser := e.browser()
		tokA, _ := a.codeFlow(browser, a.web, []string{"openid", "offline_access"})
		codeA, verifierA := a.authCode(browser, a.web.ClientID, "openid")
		fakeCode, fakeVerifier := "x"+codeA[1:], verifierA

		// Code: beta's own client presenting acme's code.
		realStatus, realBody := bt.exchange(codeA, verifierA)
		fakeStatus, fakeBody := bt.exchange(fakeCode, fakeVerifier)
		sameAnswer(t, "code", realStatus, realBody, fakeStatus, fakeBody)
		if realStatus != http.StatusBadRequest || errorCode(realBody) != "invalid_grant" {
			t.Fatalf("acme code at beta: %d %v", realStatus, realBody)
		}
		// ...and acme's code is untouched by the attempt.
		if status, _ := a.exchange(codeA, verifierA); status != http.StatusOK {
			t.Fatalf("acme code after use at beta: %d", status)
		}

		// Refresh token.
		realStatus, realBody = bt.refresh(tokA.RefreshToken)
		fakeStatus, fakeBody = bt.refresh("x" + tokA.RefreshToken[1:])
		sameAnswer(t, "refresh token", realStatus, realBody, fakeStatus, fakeBody)

		// Access token: userinfo, introspection, revocation.
		realUI, realHdr := bt.userinfo(tokA.AccessToken)
		fakeUI, fakeHdr := bt.userinfo(tokA.AccessToken[:len(tokA.AccessToken)-4] + "AAAA")
		if realUI != http.StatusUnauthorized || realUI != fakeUI || realHdr.Get("WWW-Authenticate") != fakeHdr.Get("WWW-Authenticate") {
			t.Fatalf("userinfo: acme token %d %q, fake %d %q", realUI, realHdr.Get("WWW-Authenticate"), fakeUI, fakeHdr.Get("WWW-Authenticate"))
		}
		if in := bt.introspect(tokA.AccessToken); len(in) != 1 || in["active"] != false {
			t.Fatalf("introspection at beta: %v", in)
		}
		if in := bt.introspect(tokA.RefreshToken); len(in) != 1 || in["active"] != false {
			t.Fatalf("refresh introspection at beta: %v", in)
		}
		status, _, _ := bt.post("/oauth/revoke", bt.web.ClientID, bt.web.ClientSecret, url.Values{"token": {tokA.RefreshToken}})
		if status != http.StatusOK {
			t.Fatalf("revocation at beta: %d", status)
		}
		if a.introspect(tokA.AccessToken)["active"] != true {
			t.Fatal("revocation at beta changed acme's token")
		}

		// Client: acme's client id and secret at beta's token endpoint and
		// authorization endpoint.
		form := url.Values{"grant_type": {"client_credentials"}}
		realStatus, _, realBody = bt.post("/oauth/token", a.worker.ClientID, a.worker.ClientSecret, form)
		fakeStatus, _, fakeBody = bt.post("/oauth/token", "no-such-client", a.worker.ClientSecret, form)
		sameAnswer(t, "client", realStatus, realBody, fakeStatus, fakeBody)
		if realStatus != http.StatusUnauthorized {
			t.Fatalf("acme client at beta: %d", realStatus)
		}
		_, challenge := pkce()
		pk := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s"}}
		pa := browser.get(bt.authorizeURL(a.web.ClientID, pk))
		pf := browser.get(bt.authorizeURL("no-such-client", pk))
		if pa.status != http.StatusBadRequest || pa.status != pf.status || pa.location != "" ||
			stripRequestID(pa.body) != stripRequestID(pf.body) {
			t.Fatalf("authorize with acme client at beta: %d vs %d", pa.status, pf.status)
		}

		// Session: the browser is logged in at acme; at beta it is not.
		p := browser.get(bt.authorizeURL(bt.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {"none"}, "state": {"s"}}))
		u, _ := url.Parse(p.location)
		if u == nil || u.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none at beta with an acme session: %d %s", p.status, p.location)
		}
		// Even with acme's session cookie copied onto beta's host.
		var sess string
		for _, c := range browser.client.Jar.Cookies(mustURL(a.issuer)) {
			if c.Name == "gh_session" {
				sess = c.Value
			}
		}
		if sess == "" {
			t.Fatal("no acme session cookie")
		}
		req, _ := http.NewRequest(http.MethodGet, bt.authorizeURL(bt.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {"none"}, "state": {"s"}}), nil)
		req.AddCookie(&http.Cookie{Name: "gh_session", Value: sess})
		p = e.browser().do(req)
		u, _ = url.Parse(p.location)
		if u == nil || u.Query().Get("error") != "login_required" {
			t.Fatalf("acme session cookie at beta: %d %s", p.status, p.location)
		}

		// Keys: a token signed for acme does not verify with beta's JWKS.
		if kidOf(t, tokA.AccessToken) == "" {
			t.Fatal("no kid")
		}
		jwksA, jwksB := fetch(t, e, a.issuer+"/.well-known/jwks.json"), fetch(t, e, bt.issuer+"/.well-known/jwks.json")
		if strings.Contains(jwksB, kidOf(t, tokA.AccessToken)) || jwksA == jwksB {
			t.Fatal("beta publishes acme's key")
		}
	})
}

func sameAnswer(t *testing.T, what string, s1 int, b1 map[string]any, s2 int, b2 map[string]any) {
	t.Helper()
	if s1 != s2 || errorCode(b1) != errorCode(b2) || b1["error_description"] != b2["error_description"] {
		t.Fatalf("%s of another tenant: %d %v; a nonexistent one: %d %v", what, s1, b1, s2, b2)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func stripRequestID(body string) string {
	if i := strings.Index(body, "reference"); i >= 0 {
		return body[:i]
	}
	return body
}

func fetch(t *testing.T, e *env, u string) string {
	t.Helper()
	resp, err := e.httpClient(false).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	_, _ = io.Copy(b, resp.Body)
	return b.String()
}
