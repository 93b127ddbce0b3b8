package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/app/config"
	"github.com/gatehouse-id/gatehouse/app/server"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/password"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// env is one running Gatehouse node on a fresh database.
type env struct {
	t      testing.TB
	srv    *server.Server
	store  *tenants.Store
	port   string
	base   string // apex URL
	dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// names are where the node's upstream client and the test's browsers
	// find host names.
	names *upstreamNames
	// databaseURL and masterKey are the node's, for the CLI.
	databaseURL string
	masterKey   []byte
}

// forEachDB runs fn against a fresh server on every available database.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		fn(t, newEnv(t, db.URL(t)))
	})
}

// testHasher is argon2id with small parameters: tests log in often.
func testHasher() *password.Hasher {
	return password.New(password.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, password.Bound{})
}

func newEnv(t testing.TB, databaseURL string, opts ...nodeOption) *env {
	t.Helper()
	key, _ := secret.ParseMasterKey(secret.NewMasterKey())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return startNode(t, databaseURL, key, ln, "http://localhost:"+port, opts...)
}

// nodeSetup is what a test node is built from: the GATEHOUSE_* settings
// its configuration is loaded from, its dependencies, its names.
type nodeSetup struct {
	env    map[string]string
	deps   *server.Deps
	names  *upstreamNames
	limits upstream.Limits
}

// nodeOption changes what a test node is built with. Test nodes have no
// anonymous rate limit unless an option sets one: every test client comes
// from 127.0.0.1.
type nodeOption func(*nodeSetup)

// withHasher makes the node hash passwords with h.
func withHasher(h *password.Hasher) nodeOption {
	return func(n *nodeSetup) { n.deps.Hasher = h }
}

// withAnonymousRate limits costly anonymous requests per client address
// (GATEHOUSE_ANONYMOUS_RATE_LIMIT).
func withAnonymousRate(r config.Rate) nodeOption {
	return func(n *nodeSetup) {
		n.env["GATEHOUSE_ANONYMOUS_RATE_LIMIT"] = strconv.Itoa(r.Requests) + "/" + r.Per.String()
	}
}

// testClock is a time source for the node's store, the one clock of
// expiry: the real time, moved forward by what a test adds.
type testClock struct{ offset atomic.Int64 }

// Now is the real time plus the offset.
func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// withClock makes the node's store (and so its keys, tokens and sessions)
// read the time from clk.
func withClock(clk *testClock) nodeOption {
	return func(n *nodeSetup) { n.deps.Store.SetClock(clk.Now) }
}

// withTrustedProxies believes X-Forwarded-For from the networks cidrs:
// the tests, on loopback, then speak for any client address.
func withTrustedProxies(cidrs ...string) nodeOption {
	return func(n *nodeSetup) { n.env["GATEHOUSE_TRUSTED_PROXIES"] = strings.Join(cidrs, ",") }
}

// startNode starts a node on ln with base URL base; nodes sharing a
// database must share the master key.
func startNode(t testing.TB, databaseURL string, key []byte, ln net.Listener, baseURL string, opts ...nodeOption) *env {
	t.Helper()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	store := storetest.Open(t, databaseURL)
	n := &nodeSetup{
		env: map[string]string{
			"GATEHOUSE_BASE_URL": baseURL, "GATEHOUSE_ADDR": ln.Addr().String(), "GATEHOUSE_MODE": config.ModeDevelopment,
			"GATEHOUSE_MASTER_KEY": hex.EncodeToString(key), "GATEHOUSE_DATA_DIR": t.TempDir(),
			"GATEHOUSE_UPSTREAM_ALLOW_HOSTS": defaultAllowHosts(port), "GATEHOUSE_ANONYMOUS_RATE_LIMIT": "off",
		},
		// The node logs where TestMain sends the test process's lines: the
		// test output (errors) and the watch tests read (every level).
		deps:  &server.Deps{Store: store, Hasher: testHasher(), Logger: slog.Default()},
		names: newUpstreamNames(ln.Addr().String()),
	}
	for _, o := range opts {
		o(n)
	}
	cfg, err := config.Load(func(k string) string { return n.env[k] }, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.CachePoll = 200 * time.Millisecond
	cfg.WebhookPoll, cfg.WebhookRetry = 100*time.Millisecond, 300*time.Millisecond
	n.deps.Upstream = n.names.options(n.limits)
	srv, err := server.New(cfg, *n.deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := srv.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	srv.Background(ctx)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		cancel()
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = hs.Shutdown(sctx)
	})
	// Go does not resolve *.localhost: every host dials the test server,
	// but names a test routes to a listener of its own.
	return &env{t: t, srv: srv, store: store, port: port, base: cfg.BaseURL.String(), databaseURL: databaseURL, masterKey: key,
		dialer: n.names.dial, names: n.names}
}

// httpClient returns a client that reaches the server for any host name.
// With follow false it does not follow redirects.
func (e *env) httpClient(follow bool) *http.Client {
	c := &http.Client{
		Transport: &http.Transport{DialContext: e.dialer, MaxIdleConnsPerHost: 64},
		Timeout:   30 * time.Second,
	}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// ctx returns a context whose oauth2 and go-oidc calls use e's client.
func (e *env) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.httpClient(true))
}

// fixture is a tenant set up like the README's quickstart.
type fixture struct {
	e        *env
	slug     string
	issuer   string
	tenant   *tenants.Tenant
	api      string
	web      *admin.Client
	spa      *admin.Client
	worker   *admin.Client
	email    string
	password string
	userID   string
}

const (
	testPassword = "correct horse battery staple"
	redirectURI  = "http://127.0.0.1:9000/cb"
	postLogout   = "http://127.0.0.1:9000/bye"
)

func (e *env) fixture(slug string) *fixture {
	t := e.t
	t.Helper()
	ctx := context.Background()
	svc := e.srv.Admin()
	tv, err := svc.CreateTenant(ctx, admin.CreateTenantInput{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " Inc"})
	if err != nil {
		t.Fatal(err)
	}
	tctx, tn, err := svc.WithTenant(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{e: e, slug: slug, issuer: tv.Issuer, tenant: tn, api: "https://api." + slug + ".test", email: "ann@" + slug + ".test", password: testPassword}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = svc.CreateAPI(tctx, admin.CreateAPIInput{Name: "Orders API", Audience: f.api, Scopes: []admin.ScopeInput{
		{Name: "read:orders", Description: "Read your orders"}, {Name: "write:orders"},
	}})
	must(err)
	f.web, err = svc.CreateClient(tctx, admin.CreateClientInput{Name: "web", RedirectURIs: []string{redirectURI},
		PostLogoutRedirectURIs: []string{postLogout}, GrantTypes: []string{"authorization_code", "refresh_token"},
		Audiences: []string{f.api}})
	must(err)
	f.spa, err = svc.CreateClient(tctx, admin.CreateClientInput{Name: "spa", Public: true, RedirectURIs: []string{redirectURI}})
	must(err)
	f.worker, err = svc.CreateClient(tctx, admin.CreateClientInput{Name: "worker", GrantTypes: []string{"client_credentials"},
		Audiences: []string{f.api}, Scopes: []string{"read:orders"}})
	must(err)
	u, err := svc.CreateUser(tctx, admin.CreateUserInput{Email: f.email, Password: f.password, Name: "Ann Example"})
	must(err)
	f.userID = u.ID
	return f
}

// adminCtx is a context in which the admin services act on the fixture's
// tenant as the CLI (an operator).
func (f *fixture) adminCtx() context.Context {
	return tenants.WithTenant(admin.WithPrincipal(context.Background(), admin.CLI()), f.tenant)
}

func (f *fixture) oauth2Config(c *admin.Client, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   f.issuer + "/authorize",
			TokenURL:  f.issuer + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: redirectURI,
		Scopes:      scopes,
	}
}

// browser is a cookie-keeping HTTP client that steps through redirects.
type browser struct {
	t      testing.TB
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := e.httpClient(false)
	c.Jar = jar
	return &browser{t: e.t, client: c}
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), header: resp.Header}
}

func (b *browser) get(rawURL string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(rawURL string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	idField   = regexp.MustCompile(`name="id" value="([^"]*)"`)
)

func field(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("field %s not found in page:\n%s", re, body)
	}
	return html.UnescapeString(m[1])
}

// resolve makes a Location header absolute against the issuer.
func resolve(base, loc string) string {
	u, err := url.Parse(base)
	if err != nil {
		return loc
	}
	r, err := u.Parse(loc)
	if err != nil {
		return loc
	}
	return r.String()
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds an authorization request.
func (f *fixture) authorizeURL(clientID string, params url.Values) string {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid profile email"}, "state": {"st-" + secret.Token(6)}}
	for k, v := range params {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return f.issuer + "/authorize?" + q.Encode()
}

// login walks a browser from an authorization URL through login (when
// asked) and consent (when asked) to the client's redirect, and returns the
// callback parameters.
func (f *fixture) login(b *browser, authURL string) url.Values {
	t := b.t
	t.Helper()
	p := b.get(authURL)
	for range 6 {
		switch {
		case p.status == http.StatusFound || p.status == http.StatusSeeOther:
			loc := resolve(f.issuer, p.location)
			if strings.HasPrefix(loc, redirectURI) {
				u, _ := url.Parse(loc)
				return u.Query()
			}
			p = b.get(loc)
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/login"`):
			p = b.post(f.issuer+"/login", url.Values{
				"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)},
				"email": {f.email}, "password": {f.password},
			})
		case p.status == http.StatusOK && strings.Contains(p.body, `action="/consent"`):
			p = b.post(f.issuer+"/consent", url.Values{
				"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "action": {"allow"},
			})
		default:
			t.Fatalf("unexpected page %d %s:\n%s", p.status, p.location, p.body)
		}
	}
	t.Fatal("too many steps")
	return nil
}

// codeFlow runs a full authorization code + PKCE flow for c and returns the
// token and the nonce sent.
func (f *fixture) codeFlow(b *browser, c *admin.Client, scopes []string, extra ...oauth2.AuthCodeOption) (*oauth2.Token, string) {
	t := b.t
	t.Helper()
	cfg := f.oauth2Config(c, scopes...)
	verifier := oauth2.GenerateVerifier()
	state, nonce := secret.Token(8), secret.Token(8)
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)}, extra...)
	cb := f.login(b, cfg.AuthCodeURL(state, opts...))
	if cb.Get("error") != "" {
		t.Fatalf("authorization failed: %v", cb)
	}
	if cb.Get("state") != state || cb.Get("iss") != f.issuer {
		t.Fatalf("callback state/iss = %q/%q, want %q/%q", cb.Get("state"), cb.Get("iss"), state, f.issuer)
	}
	tok, err := cfg.Exchange(f.e.ctx(), cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, nonce
}

// tokenRequest posts form to the token endpoint (or another) with basic
// auth when user is set, and returns status, header and decoded body.
func (f *fixture) post(path string, user, pass string, form url.Values) (int, http.Header, map[string]any) {
	t := f.e.t
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return f.e.doJSON(req)
}

func (e *env) doJSON(req *http.Request) (int, http.Header, map[string]any) {
	e.t.Helper()
	resp, err := e.httpClient(false).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(body) > 0 {
		if err := jsonUnmarshal(body, &out); err != nil {
			out["_raw"] = string(body)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func errorCode(body map[string]any) string {
	s, _ := body["error"].(string)
	return s
}

var errNoToken = errors.New("no token")

func tokenOf(body map[string]any, key string) (string, error) {
	s, ok := body[key].(string)
	if !ok || s == "" {
		return "", fmt.Errorf("%w %s in %v", errNoToken, key, body)
	}
	return s, nil
}

// postRedirected posts form and follows the 303 the console answers a
// change with (redirect after POST), failing the test on any other answer:
// the page shown after a change is a GET that a reload repeats harmlessly.
func (b *browser) postRedirected(base, rawURL string, form url.Values) *page {
	b.t.Helper()
	p := b.post(rawURL, form)
	if p.status != http.StatusSeeOther || p.location == "" {
		b.t.Fatalf("POST %s: %d (want 303 and a Location)\n%s", rawURL, p.status, p.body)
	}
	loc := p.location
	if strings.HasPrefix(loc, "/") {
		loc = base + loc
	}
	return b.get(loc)
}
