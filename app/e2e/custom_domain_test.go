package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/admin/dnstest"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// withDNS makes the node's custom domain checks ask the DNS server at addr
// (GATEHOUSE_DNS_RESOLVER).
func withDNS(addr string) nodeOption {
	return func(n *nodeSetup) { n.env["GATEHOUSE_DNS_RESOLVER"] = addr }
}

// TestCustomDomainIssuesTokensWithItsIssuer serves tenant acme at
// login.acme.test once the TXT record proves it: discovery, the ID token
// and the access token carry http://login.acme.test:PORT, go-oidc verifies
// them against that host's JWKS, cookies stay host-only; a token of either
// host is refused at the other (the issuer must match exactly, OpenID
// Connect Core §3.1.3.7); an unverified domain, another tenant's claim and
// look-alike hosts route nowhere; removing the domain stops it.
func TestCustomDomainIssuesTokensWithItsIssuer(t *testing.T) {
	forEachDBWith(t, func(t *testing.T, e *env, dns *dnstest.Server) {
		f := e.fixture("acme")
		beta := e.fixture("beta")
		svc := e.srv.Admin()
		const host = "login.acme.test"
		custom := "http://" + host + ":" + e.port

		d, err := svc.AddDomain(f.adminCtx(), "Login.Acme.Test")
		if err != nil {
			t.Fatal(err)
		}
		if d.Issuer != custom || d.DNSRecords[0].Value != "localhost" || d.DNSRecords[1].Name != "_gatehouse-challenge."+host {
			t.Fatalf("domain = %+v", d)
		}
		status := func(rawURL string) int {
			t.Helper()
			resp, err := e.httpClient(false).Get(rawURL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		ask := func(domain string) int { return status(e.base + "/tls/ask?domain=" + url.QueryEscape(domain)) }
		discovery := custom + "/.well-known/openid-configuration"
		if got := status(discovery); got != http.StatusNotFound {
			t.Fatalf("an unverified domain answers %d, want 404", got)
		}
		if got := ask(host); got != http.StatusNotFound {
			t.Fatalf("ask about an unverified domain: %d", got)
		}
		// Another tenant can neither claim nor verify it.
		if _, err := svc.AddDomain(beta.adminCtx(), "LOGIN.acme.test."); !errors.Is(err, tenants.ErrAlreadyExists) {
			t.Fatalf("beta claims acme's domain: %v", err)
		}
		// Through the management API: taken is 409, a bad host 400, never 500.
		op := e.managementClient(t, "", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		if status, _, body := op.do(t, http.MethodPost, "/tenants/beta/domains", map[string]any{"domain": host}); status != http.StatusConflict {
			t.Fatalf("beta claims acme's domain through the API: %d %v", status, body)
		}
		for _, bad := range []string{host + ":443", "*.acme.test", "acme.localhost", strings.Repeat("a.", 200) + "test", "lоgin.acme.test", "xn--zz.test", "login.acme.test\x00", ""} {
			if status, _, body := op.do(t, http.MethodPost, "/tenants/beta/domains", map[string]any{"domain": bad}); status != http.StatusBadRequest {
				t.Errorf("POST domain %q: %d %v, want 400", bad, status, body)
			}
		}
		if status, _, _ := op.do(t, http.MethodPost, "/tenants/beta/domains/"+host+"/verify", nil); status != http.StatusNotFound {
			t.Errorf("verify acme's domain under beta: %d, want 404", status)
		}
		dns.Set("_gatehouse-challenge."+host, d.DNSRecords[1].Value)
		if _, err := svc.VerifyDomain(beta.adminCtx(), host); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("beta verifies acme's domain: %v", err)
		}
		if _, err := svc.VerifyDomain(f.adminCtx(), host); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{host, "LOGIN.ACME.TEST", host + ".", "acme.localhost", "localhost"} {
			if got := ask(h); got != http.StatusOK {
				t.Errorf("ask %q = %d, want 200", h, got)
			}
		}
		for _, h := range []string{"acme.test", "evil." + host, "xn--lgin-acme-test.test", "lоgin.acme.test", host + ":443", "127.0.0.1", "", "nobody.localhost", strings.Repeat("a", 300)} {
			if got := ask(h); got != http.StatusNotFound {
				t.Errorf("ask %q = %d, want 404", h, got)
			}
		}

		// The tenant at its domain: discovery names that issuer, in
		// every spelling of the host.
		ctx := oidc.ClientContext(e.ctx(), e.httpClient(true))
		provider, err := oidc.NewProvider(ctx, custom)
		if err != nil {
			t.Fatalf("discovery at the custom domain: %v", err)
		}
		var meta struct {
			Issuer   string `json:"issuer"`
			JWKS     string `json:"jwks_uri"`
			Token    string `json:"token_endpoint"`
			Userinfo string `json:"userinfo_endpoint"`
		}
		if err := provider.Claims(&meta); err != nil {
			t.Fatal(err)
		}
		if meta.Issuer != custom || meta.JWKS != custom+"/.well-known/jwks.json" || meta.Token != custom+"/oauth/token" || meta.Userinfo != custom+"/userinfo" {
			t.Fatalf("discovery at %s: %+v", custom, meta)
		}
		for _, spelling := range []string{"LOGIN.Acme.test", host + "."} {
			req, _ := http.NewRequest(http.MethodGet, discovery, nil)
			req.Host = spelling + ":" + e.port
			code, _, body := e.doJSON(req)
			if code != http.StatusOK || body["issuer"] != custom {
				t.Errorf("discovery with Host %q: %d %v", req.Host, code, body["issuer"])
			}
		}

		// A code flow at the custom domain: the tokens carry its issuer
		// and verify against its JWKS.
		at := *f
		at.issuer = custom
		b := e.browser()
		tok, nonce := at.codeFlow(b, f.web, []string{"openid", "email", "read:orders"}, oauth2.SetAuthURLParam("resource", f.api))
		idt, err := provider.Verifier(&oidc.Config{ClientID: f.web.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("ID token at the custom domain: %v", err)
		}
		if idt.Issuer != custom || idt.Nonce != nonce || idt.Subject != f.userID {
			t.Fatalf("ID token iss/nonce/sub = %s/%s/%s", idt.Issuer, idt.Nonce, idt.Subject)
		}
		if c := at.verifyAccessToken(t, tok.AccessToken, f.api); c.Issuer != custom {
			t.Fatalf("access token iss = %s", c.Issuer)
		}
		// The ID token does not verify as the tenant's own issuer.
		if _, err := f.idTokenVerifier().Verify(ctx, tok.Extra("id_token").(string)); err == nil {
			t.Fatal("a token of the custom domain verifies as acme.localhost's")
		}
		// Cookies were host-only.
		u, _ := url.Parse(custom)
		for _, ck := range b.client.Jar.Cookies(u) {
			if ck.Domain != "" {
				t.Errorf("cookie %s has Domain %q", ck.Name, ck.Domain)
			}
		}
		if got := b.client.Jar.Cookies(&url.URL{Scheme: "http", Host: "acme.localhost:" + e.port}); len(got) != 0 {
			t.Errorf("cookies of the custom domain reach acme.localhost: %v", got)
		}

		// Userinfo: a token answers at the host that issued it only.
		userinfo := func(base, token string) int {
			req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			code, _, _ := e.doJSON(req)
			return code
		}
		userTok, _ := at.codeFlow(e.browser(), f.web, []string{"openid", "email"})
		if got := userinfo(custom, userTok.AccessToken); got != http.StatusOK {
			t.Fatalf("userinfo at the custom domain: %d", got)
		}
		if got := userinfo(f.issuer, userTok.AccessToken); got != http.StatusUnauthorized {
			t.Fatalf("a custom-domain token at acme.localhost's userinfo: %d, want 401", got)
		}
		ownTok, _ := f.codeFlow(e.browser(), f.web, []string{"openid", "email"})
		if got := userinfo(custom, ownTok.AccessToken); got != http.StatusUnauthorized {
			t.Fatalf("an acme.localhost token at the custom domain's userinfo: %d, want 401", got)
		}
		if got := userinfo(f.issuer, ownTok.AccessToken); got != http.StatusOK {
			t.Fatalf("acme.localhost still serves its own: %d", got)
		}
		// A code is redeemed at the issuer it was asked at only: at the
		// other host it is invalid_grant, and spent.
		cfgAt, cfgOwn := at.oauth2Config(f.web, "openid"), f.oauth2Config(f.web, "openid")
		verifier := oauth2.GenerateVerifier()
		cb := at.login(e.browser(), cfgAt.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if cb.Get("code") == "" || cb.Get("iss") != custom {
			t.Fatalf("callback at the custom domain: %v", cb)
		}
		for _, cfg := range []*oauth2.Config{cfgOwn, cfgAt} {
			_, err := cfg.Exchange(e.ctx(), cb.Get("code"), oauth2.VerifierOption(verifier))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("a custom domain's code at %s: %v, want invalid_grant", cfg.Endpoint.TokenURL, err)
			}
		}

		// Introspection likewise: active only at the host that issued it.
		for _, tc := range []struct {
			at     *fixture
			token  string
			active bool
		}{{&at, userTok.AccessToken, true}, {f, userTok.AccessToken, false}, {&at, ownTok.AccessToken, false}, {f, ownTok.AccessToken, true}} {
			code, _, body := tc.at.post("/oauth/introspect", f.web.ClientID, f.web.ClientSecret, url.Values{"token": {tc.token}})
			if code != http.StatusOK || body["active"] != tc.active || tc.active && body["iss"] != tc.at.issuer {
				t.Errorf("introspection at %s: %d %v, want active %v", tc.at.issuer, code, body, tc.active)
			}
		}

		// Beta's own claim, unverified, routes nowhere; look-alikes of the
		// verified host neither.
		if _, err := svc.AddDomain(beta.adminCtx(), "sso.beta.test"); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"sso.beta.test", "acme.test", "xn--lgin-acme-test.test", "login.acme.test.evil.test"} {
			if got := status("http://" + h + ":" + e.port + "/.well-known/openid-configuration"); got != http.StatusNotFound {
				t.Errorf("host %s answers %d, want 404", h, got)
			}
		}
		for _, fwd := range []string{"login.acme.tést", "\u212Alogin.acme.test", host + ":1:2"} {
			req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+e.port+"/.well-known/openid-configuration", nil)
			req.Header.Set("X-Forwarded-Host", fwd) // not from a trusted proxy: ignored, and the Host 127.0.0.1 is nobody's
			if code, _, _ := e.doJSON(req); code != http.StatusNotFound {
				t.Errorf("X-Forwarded-Host %q: %d", fwd, code)
			}
		}

		// Every change was audited.
		evs, err := svc.AuditLog(f.adminCtx(), admin.AuditFilter{Action: "domain.", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range evs {
			if ev.TargetID == host {
				actions = append(actions, ev.Action)
			}
		}
		if strings.Join(actions, ",") != "domain.verified,domain.added" {
			t.Errorf("audit of the domain: %v", actions)
		}

		// Removed: no longer served, and free for beta.
		if err := svc.RemoveDomain(f.adminCtx(), host); err != nil {
			t.Fatal(err)
		}
		if got := status(discovery); got != http.StatusNotFound {
			t.Fatalf("a removed domain answers %d", got)
		}
		if got := userinfo(custom, userTok.AccessToken); got != http.StatusNotFound {
			t.Fatalf("userinfo at a removed domain: %d", got)
		}
		if _, err := svc.AddDomain(beta.adminCtx(), host); err != nil {
			t.Fatalf("beta claims the freed domain: %v", err)
		}
	})
}

// forEachDBWith is forEachDB with a DNS server of the test that the
// node's domain checks ask.
func forEachDBWith(t *testing.T, fn func(t *testing.T, e *env, dns *dnstest.Server)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		dns := dnstest.New(t)
		fn(t, newEnv(t, db.URL(t), withDNS(dns.Addr)), dns)
	})
}

// TestCustomDomainFederationCallbacks: an upstream connection's callback
// is the host's the sign-in started at — the tenant's own or its custom
// domain — whichever host built the connector first; the two never swap.
func TestCustomDomainFederationCallbacks(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		f := e.fixture("acme")
		conn := e.connect(f, tenants.ConnectionGitHub, "GitHub", true)
		const host = "login.acme.test"
		// Verified without DNS: this test is about the callbacks.
		ctx := tenants.WithTenant(context.Background(), f.tenant)
		if err := e.store.CreateDomain(ctx, &tenants.Domain{Host: host, Challenge: "c"}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.MarkDomainVerified(ctx, host); err != nil {
			t.Fatal(err)
		}
		custom := *f
		custom.issuer = "http://" + host + ":" + e.port
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := e.httpClient(false).Get(custom.issuer + "/.well-known/openid-configuration")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the node never routes the verified domain")
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, at := range []*fixture{&custom, f, &custom, f} {
			_, up := at.beginFederated(e.browser(), conn)
			u, err := url.Parse(up)
			if err != nil {
				t.Fatal(err)
			}
			if want := at.issuer + "/federation/" + conn.ID + "/callback"; u.Query().Get("redirect_uri") != want {
				t.Fatalf("sign-in at %s sends the upstream redirect_uri %q, want %q", at.issuer, u.Query().Get("redirect_uri"), want)
			}
		}
	})
}

// TestCustomDomainOverHTTPS signs in at a custom domain under an HTTPS
// base URL: the issuer is https://login.acme.test:PORT, the cookies are
// __Host-, Secure and host-only there, and the passkey ceremony's RP ID is
// the custom domain.
func TestCustomDomainOverHTTPS(t *testing.T) {
	const host = "login.acme.test"
	ln, pool := tlsListener(t, host)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	key, _ := secret.ParseMasterKey(secret.NewMasterKey())
	e := startNode(t, "sqlite:"+t.TempDir()+"/g.db", key, ln, "https://localhost:"+port)
	f := e.fixture("acme")
	ctx := tenants.WithTenant(context.Background(), f.tenant)
	if err := e.store.CreateDomain(ctx, &tenants.Domain{Host: host, Challenge: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.MarkDomainVerified(ctx, host); err != nil {
		t.Fatal(err)
	}
	custom := *f
	custom.issuer = "https://" + host + ":" + port
	b := e.browser()
	b.client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	var p *page
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, challenge := pkce()
		p = b.get(custom.authorizeURL(f.web.ClientID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}))
		if p.status != http.StatusNotFound || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // until the node's cache hears of the domain
	}
	p = b.get(resolve(custom.issuer, p.location))
	form := passkeyForm.FindString(p.body)
	if form == "" {
		t.Fatalf("the login page at the custom domain offers no passkey (%d):\n%s", p.status, p.body)
	}
	req, _ := http.NewRequest(http.MethodGet, custom.issuer+html.UnescapeString(field(t, dataOptions, form)), nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	var opts requestOptions
	if op := b.do(req); op.status != http.StatusOK || json.Unmarshal([]byte(op.body), &opts) != nil || opts.PublicKey.RPID != host {
		t.Fatalf("passkey options at the custom domain: %d %s", op.status, op.body)
	}
	p = b.post(custom.issuer+"/login", url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}})
	cookies := p.header.Values("Set-Cookie")
	if len(cookies) == 0 {
		t.Fatalf("no session cookie (status %d)", p.status)
	}
	for _, c := range cookies {
		lc := strings.ToLower(c)
		if !strings.HasPrefix(c, "__Host-") || !strings.Contains(lc, "; secure") || strings.Contains(lc, "domain=") {
			t.Fatalf("cookie %q must be __Host-, Secure, without Domain", c)
		}
	}
	if cb := custom.login(b, resolve(custom.issuer, p.location)); cb.Get("code") == "" || cb.Get("iss") != custom.issuer {
		t.Fatalf("flow at the custom domain over HTTPS did not complete: %v", cb)
	}
}
