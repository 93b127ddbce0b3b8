package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/admin"
	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
	"github.com/gatehouse-id/gatehouse/tenants/storetest"
)

// The attacker of these tests is a tenant admin who points the server's
// upstream fetches (a SAML metadata URL, an OpenID issuer, and through its
// discovery every later call) at the operator's own network, to read it or
// to map it.

// What an admin is told (admin.upstreamURLProblem, upstream.Message).
const (
	refusedAddress = "names an address the server does not connect to"
	couldNotFetch  = "could not fetch metadata"
)

// ssrfLab is the network around a node under attack: an internal service
// on loopback that the attacker wants to reach (it serves good metadata and
// discovery to whoever asks), the attacker's own upstream that the
// operator allowed (it redirects, answers errors with a marker in them,
// huge answers, slow answers), and allowed host:ports where a port is
// closed, answers garbage, or never answers.
type ssrfLab struct {
	marker   string
	internal *countingServer
	allowed  *countingServer
	// ports of the internal service, the allowed upstream, and the
	// closed, garbage and silent ports.
	pInternal, pAllowed, pClosed, pGarbage, pSilent string
	metadata                                        []byte
}

type countingServer struct {
	*httptest.Server
	hits atomic.Int32
}

func countingHTTP(t *testing.T, h http.HandlerFunc) *countingServer {
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func portOf(addr net.Addr) string {
	_, p, _ := net.SplitHostPort(addr.String())
	return p
}

// rawListener accepts connections on loopback and hands each to serve.
func rawListener(t *testing.T, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go serve(c)
		}
	}()
	return portOf(ln.Addr())
}

func newSSRFLab(t *testing.T) *ssrfLab {
	l := &ssrfLab{marker: "MARKER-" + secret.Token(12), metadata: samltest.NewIdP(t).Metadata()}
	discovery := func(issuer, token string) map[string]any {
		return map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": token,
			"jwks_uri": issuer + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}}
	}
	l.internal = countingHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			base := "http://" + r.Host + strings.TrimSuffix(r.URL.Path, "/.well-known/openid-configuration")
			writeJSONAnswer(w, http.StatusOK, discovery(base, base+"/token"))
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(l.metadata)
	})
	l.pInternal = portOf(l.internal.Listener.Addr())
	l.allowed = countingHTTP(t, l.attacker)
	l.pAllowed = portOf(l.allowed.Listener.Addr())
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.pClosed = portOf(closed.Addr())
	closed.Close()
	l.pGarbage = rawListener(t, func(c net.Conn) {
		fmt.Fprintf(c, "SSH-2.0-OpenSSH_9.6 %s\r\n", l.marker)
		c.Close()
	})
	l.pSilent = rawListener(t, func(net.Conn) {}) // held open, never answered
	return l
}

func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// attacker is the allowed upstream's handler.
func (l *ssrfLab) attacker(w http.ResponseWriter, r *http.Request) {
	internal := "http://127.0.0.1:" + l.pInternal
	op := "http://allowed.localhost:" + l.pAllowed + "/op/"
	switch r.URL.Path {
	case "/metadata":
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(l.metadata)
	case "/redirect/loopback":
		http.Redirect(w, r, internal+"/metadata", http.StatusFound)
	case "/redirect/private":
		http.Redirect(w, r, "http://10.0.0.1/metadata", http.StatusFound)
	case "/redirect/metadata-service":
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	case "/redirect/other-port":
		http.Redirect(w, r, "http://allowed.test:"+l.pInternal+"/metadata", http.StatusTemporaryRedirect)
	case "/forbidden":
		w.Header().Set("X-Debug", l.marker)
		http.Error(w, "internal error page "+l.marker, http.StatusForbidden)
	case "/huge":
		// Good metadata, then 2 MiB more, with no Content-Length.
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(l.metadata)
		pad := []byte("<!--" + strings.Repeat(" ", 64<<10) + "-->")
		for range 32 {
			w.Write(pad)
			w.(http.Flusher).Flush()
		}
	case "/op/error/.well-known/openid-configuration":
		writeJSONAnswer(w, http.StatusInternalServerError, map[string]any{"error": "server_error", "error_description": l.marker})
	case "/op/huge/.well-known/openid-configuration":
		b, _ := json.Marshal(map[string]any{"issuer": op + "huge", "authorization_endpoint": op + "huge/authorize",
			"token_endpoint": op + "huge/token", "jwks_uri": op + "huge/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		pad := []byte(strings.Repeat(" ", 64<<10))
		for range 160 { // 10 MiB of whitespace: valid JSON
			w.Write(pad)
		}
	case "/op/redirect/.well-known/openid-configuration":
		http.Redirect(w, r, internal+"/op/redirect/.well-known/openid-configuration", http.StatusFound)
	case "/op/token/.well-known/openid-configuration":
		b, _ := json.Marshal(map[string]any{"issuer": op + "token", "authorization_endpoint": op + "token/authorize",
			"token_endpoint": op + "token/token", "jwks_uri": op + "token/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case "/op/token/token":
		writeJSONAnswer(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "no: " + l.marker})
	case "/op/internal-token/.well-known/openid-configuration":
		// Discovery is the attacker's: it sends the next calls inside.
		b, _ := json.Marshal(map[string]any{"issuer": op + "internal-token", "authorization_endpoint": op + "internal-token/authorize",
			"token_endpoint": internal + "/token", "jwks_uri": internal + "/jwks", "userinfo_endpoint": internal + "/userinfo",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

// nodeOptions allow the attacker's upstream on its port only, and the
// closed, garbage and silent ports; answers must come within a second.
func (l *ssrfLab) nodeOptions() []nodeOption {
	return []nodeOption{
		withAllowHosts("allowed.test:"+l.pAllowed, "allowed.localhost:"+l.pAllowed, "closed.test:"+l.pClosed,
			"garbage.test:"+l.pGarbage, "silent.test:"+l.pSilent),
		withUpstreamLimits(upstream.Limits{ResponseHeader: 500 * time.Millisecond, Total: time.Second}),
	}
}

// route names the lab's hosts for e: all of them are on loopback, which is
// what the allow list is for. internal.test is not allowed at all.
func (l *ssrfLab) route(e *env) {
	for _, h := range []string{"internal.test", "allowed.test", "allowed.localhost", "closed.test", "garbage.test", "silent.test"} {
		e.names.route(h, "127.0.0.1")
	}
}

// wantNoHits checks that the internal service was never asked.
func (l *ssrfLab) wantNoHits(t *testing.T) {
	t.Helper()
	if n := l.internal.hits.Load(); n != 0 {
		t.Fatalf("the internal service got %d requests", n)
	}
}

// refusedLiterals are metadata URLs and issuers whose host is itself an
// address the server does not connect to (port: the internal service's).
func (l *ssrfLab) refusedLiterals() []string {
	p := l.pInternal
	return []string{"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p, "[::ffff:127.0.0.1]:" + p, "0.0.0.0:" + p,
		"10.0.0.1", "169.254.169.254", "100.64.0.1:" + p, "sso.localhost:" + p}
}

// fetchFailures are metadata URLs whose fetch fails, each with what the
// admin must be told: the same for a name that resolves to loopback, another
// port of an allowed host, a closed port, a port answering garbage and one
// that never answers; the status of an allowed upstream's real answer (its
// redirects included: none is followed); the size a real answer exceeded.
func (l *ssrfLab) fetchFailures() []struct{ name, url, want string } {
	a := "http://allowed.test:" + l.pAllowed
	return []struct{ name, url, want string }{
		{"a name that resolves to loopback", "http://internal.test:" + l.pInternal + "/metadata", couldNotFetch},
		{"another port of an allowed host:port", "http://allowed.test:" + l.pInternal + "/metadata", couldNotFetch},
		{"a closed port", "http://closed.test:" + l.pClosed + "/metadata", couldNotFetch},
		{"an open port answering garbage", "http://garbage.test:" + l.pGarbage + "/metadata", couldNotFetch},
		{"a port that never answers", "http://silent.test:" + l.pSilent + "/metadata", couldNotFetch},
		{"https to a port that never answers", "https://silent.test:" + l.pSilent + "/metadata", couldNotFetch},
		{"a redirect to loopback", a + "/redirect/loopback", couldNotFetch + " (HTTP 302)"},
		{"a redirect to a private address", a + "/redirect/private", couldNotFetch + " (HTTP 302)"},
		{"a redirect to the cloud metadata service", a + "/redirect/metadata-service", couldNotFetch + " (HTTP 302)"},
		{"a redirect to another port of the allowed host", a + "/redirect/other-port", couldNotFetch + " (HTTP 307)"},
		{"an error page with a marker", a + "/forbidden", couldNotFetch + " (HTTP 403)"},
		{"a huge answer", a + "/huge", couldNotFetch + ": the answer is larger than 1 MiB"},
	}
}

// problemMessage is the message of the problem's first field error.
func problemMessage(t *testing.T, body map[string]any, field string) string {
	t.Helper()
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no field error in %v", body)
	}
	e := errs[0].(map[string]any)
	if e["field"] != field {
		t.Fatalf("field error %v, want one for %s", e, field)
	}
	return e["message"].(string)
}

// TestUpstreamSSRFManagementAPI attacks through the management API: SAML
// metadata URLs and OpenID issuers at loopback, private, link-local and
// CGNAT addresses are refused without a request; names that resolve
// inside, redirects inside and other ports of an allowed host are refused
// on the dialled address; a closed port, a port answering garbage and one
// that never answers look alike; no byte of an answer reaches the API, the
// log or the database, and a refused change leaves the connection as it
// was.
func TestUpstreamSSRFManagementAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		l := newSSRFLab(t)
		logs.watch(t, l.marker)
		e := newEnv(t, db.URL(t), l.nodeOptions()...)
		l.route(e)
		f := e.fixture("acme")
		c := e.managementClient(t, "acme", admin.ScopeTenantsRead, admin.ScopeTenantsWrite)
		base := "/tenants/acme/connections"
		post := func(body map[string]any, field string) string {
			t.Helper()
			status, hdr, resp := c.do(t, http.MethodPost, base, body)
			wantProblem(t, fmt.Sprint(body), status, hdr, resp, http.StatusBadRequest, field)
			return problemMessage(t, resp, field)
		}
		saml := func(u string) map[string]any {
			return map[string]any{"type": "saml", "name": "Corp", "metadata_url": u}
		}
		oidc := func(issuer string) map[string]any {
			return map[string]any{"type": "oidc", "name": "Corp", "issuer": issuer, "client_id": "x", "client_secret": "s3cret"}
		}

		for _, host := range l.refusedLiterals() {
			if msg := post(saml("http://"+host+"/metadata"), "metadata_url"); !strings.HasPrefix(msg, refusedAddress) {
				t.Fatalf("metadata at %s: %q", host, msg)
			}
			if msg := post(oidc("https://"+host), "issuer"); !strings.HasPrefix(msg, refusedAddress) {
				t.Fatalf("issuer at %s: %q", host, msg)
			}
			post(oidc("http://"+host), "issuer") // refused for its address, or for http on a host that is not loopback
		}
		for _, tt := range l.fetchFailures() {
			start := time.Now()
			if msg := post(saml(tt.url), "metadata_url"); msg != tt.want {
				t.Errorf("%s: %q, want %q", tt.name, msg, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s: answered after %v", tt.name, d)
			}
		}
		if msg := post(saml("http://user:pw@allowed.test:"+l.pAllowed+"/metadata"), "metadata_url"); !strings.Contains(msg, "without a user name or password") {
			t.Errorf("user info: %q", msg)
		}
		if items := c.items(t, base); len(items) != 0 {
			t.Fatalf("refused connections were saved: %v", items)
		}

		// The allowed upstream on its port works; a refused change later
		// leaves the connection as it was.
		ok := c.must(t, http.StatusCreated, http.MethodPost, base, saml("http://allowed.test:"+l.pAllowed+"/metadata"))
		path := base + "/" + ok["id"].(string)
		before := c.must(t, http.StatusOK, http.MethodGet, path, nil)
		for _, u := range []string{"http://allowed.test:" + l.pAllowed + "/huge", "http://internal.test:" + l.pInternal + "/metadata", "http://127.0.0.1:" + l.pInternal + "/metadata"} {
			status, hdr, resp := c.do(t, http.MethodPatch, path, map[string]any{"metadata_url": u, "name": "Changed"})
			wantProblem(t, "change to "+u, status, hdr, resp, http.StatusBadRequest, "metadata_url")
		}
		if after := c.must(t, http.StatusOK, http.MethodGet, path, nil); fmtAny(after) != fmtAny(before) {
			t.Fatalf("a refused change changed the connection:\n%v\n%v", before, after)
		}
		row := f.storedConnection(t, ok["id"].(string))
		if strings.Contains(row.Config, "<!--") || strings.Contains(row.Config, l.marker) {
			t.Fatal("a refused answer was stored")
		}
		l.wantNoHits(t)
		for _, x := range *c.transcript {
			if strings.Contains(x, l.marker) {
				t.Fatalf("an answer shows the upstream's: %s", x)
			}
		}
	})
}

// TestUpstreamSSRFConsole attacks through the console's connection forms:
// the same refusals as the API, each next to its field, in pages that
// hold no byte of an upstream's answer, and nothing saved.
func TestUpstreamSSRFConsole(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		l := newSSRFLab(t)
		logs.watch(t, l.marker)
		e := newEnv(t, db.URL(t), l.nodeOptions()...)
		l.route(e)
		e.fixture("acme")
		b, csrf := e.consoleAs(t, "ops@example.test", "")
		conns := e.base + "/admin/t/acme/connections"
		refused := func(kind string, form url.Values, field, want string) {
			t.Helper()
			form.Set("csrf_token", csrf)
			p := b.post(conns+"/new/"+kind, form)
			body := html.UnescapeString(p.body)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+field+`-error"`) || !strings.Contains(body, want) {
				t.Fatalf("%v: %d, want %q next to %s:\n%s", form, p.status, want, field, p.body)
			}
			if strings.Contains(p.body, l.marker) {
				t.Fatalf("the page shows the upstream's answer:\n%s", p.body)
			}
		}
		for _, host := range l.refusedLiterals() {
			refused("saml", url.Values{"name": {"Corp"}, "enabled": {"true"}, "metadata_url": {"http://" + host + "/metadata"}}, "metadata_url", "Names an address the server does not connect to")
			refused("oidc", url.Values{"name": {"Corp"}, "enabled": {"true"}, "client_id": {"x"}, "client_secret": {"s3cret"}, "issuer": {"https://" + host}},
				"issuer", "Names an address the server does not connect to")
		}
		for _, tt := range l.fetchFailures() {
			// The console makes a sentence of the message.
			want := "C" + tt.want[1:] + "."
			refused("saml", url.Values{"name": {"Corp"}, "enabled": {"true"}, "metadata_url": {tt.url}}, "metadata_url", want)
		}
		if p := b.get(conns); !strings.Contains(p.body, "No connections yet") {
			t.Fatalf("refused connections were saved:\n%s", p.body)
		}
		l.wantNoHits(t)
	})
}

// TestUpstreamSSRFIssuer attacks through an OpenID issuer, which is
// fetched when a user presses "Continue with ...": discovery at a name that
// resolves inside, discovery that redirects inside, answers an error with a
// marker, or is huge; a discovery document that sends the token request
// inside; a token endpoint whose error answer has a marker. Each fails
// with the generic page, the internal service is never asked, and no page
// or log line holds a byte of the answers.
func TestUpstreamSSRFIssuer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Parallel()
		l := newSSRFLab(t)
		logs.watch(t, l.marker)
		e := newEnv(t, db.URL(t), l.nodeOptions()...)
		l.route(e)
		f := e.fixture("acme")
		op := "http://allowed.localhost:" + l.pAllowed + "/op/"
		connect := func(name, issuer string) *admin.Connection {
			t.Helper()
			id, secret := "acme", "s3cret"
			c, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionOIDC, Name: &name,
				Issuer: &issuer, ClientID: &id, ClientSecret: &secret})
			if err != nil {
				t.Fatalf("connection to %s: %v", issuer, err)
			}
			return c
		}
		noMarker := func(p *page) {
			t.Helper()
			if strings.Contains(p.body, l.marker) || strings.Contains(fmt.Sprint(p.header), l.marker) {
				t.Fatalf("the page shows the upstream's answer:\n%s", p.body)
			}
		}
		for _, tt := range []struct{ name, issuer string }{
			{"a name that resolves to loopback", "https://internal.test:" + l.pInternal},
			{"another port of an allowed host", "https://allowed.test:" + l.pInternal},
			{"discovery redirected to loopback", op + "redirect"},
			{"discovery answering an error with a marker", op + "error"},
			{"a huge discovery document", op + "huge"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// Saved through the service, the issuer is refused: its
				// discovery is fetched, and the admin is told no more than
				// that it failed.
				id, secret, name := "acme", "s3cret", tt.name
				_, err := e.srv.Admin().CreateConnection(f.adminCtx(), admin.ConnectionInput{Type: tenants.ConnectionOIDC, Name: &name,
					Issuer: &tt.issuer, ClientID: &id, ClientSecret: &secret})
				if err == nil || strings.Contains(err.Error(), l.marker) || !strings.Contains(err.Error(), "issuer") {
					t.Fatalf("connection to %s saved, or refused with the upstream's answer: %v", tt.issuer, err)
				}
				// An upstream that broke after the connection was saved:
				// the row as the check once let it in.
				row := &tenants.Connection{Type: tenants.ConnectionOIDC, Name: tt.name, Enabled: true, Issuer: strings.TrimSuffix(tt.issuer, "/"), ClientID: id}
				if err := e.store.CreateConnection(tenants.WithTenant(context.Background(), f.tenant), row); err != nil {
					t.Fatal(err)
				}
				conn, err := e.srv.Admin().GetConnection(f.adminCtx(), row.ID)
				if err != nil {
					t.Fatal(err)
				}
				_, p := f.pressContinue(e.browser(), conn)
				if p.status != http.StatusBadGateway || !strings.Contains(p.body, "The sign-in provider cannot be reached") {
					t.Fatalf("Continue with %s: %d %s\n%s", tt.name, p.status, p.location, p.body)
				}
				noMarker(p)
			})
		}
		for _, tt := range []struct{ name, issuer string }{
			{"discovery that sends the token request inside", op + "internal-token"},
			{"a token endpoint answering an error with a marker", op + "token"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				conn := connect(tt.name, tt.issuer)
				b := e.browser()
				_, up := f.beginFederated(b, conn)
				u, err := url.Parse(up)
				if err != nil || !strings.HasPrefix(up, tt.issuer+"/authorize?") {
					t.Fatalf("upstream authorization URL %q", up)
				}
				// The upstream "approves" at once: its code comes back.
				p := b.get(conn.CallbackURL + "?" + url.Values{"state": {u.Query().Get("state")}, "code": {"code-" + secret.Token(8)}}.Encode())
				f.wantRefused(t, p, "the code exchange failed")
				noMarker(p)
			})
		}
		l.wantNoHits(t)
	})
}

// TestUpstreamSSRFSocial: the social connectors' answers never reach a
// page or the log either: a token endpoint that refuses the code with a
// marker in its answer (GitHub answers such errors with 200), and a
// profile answer that breaks off (goth's Google error then names the
// userinfo URL, access token and all).
func TestUpstreamSSRFSocial(t *testing.T) {
	forEachDBFederated(t, func(t *testing.T, e *fedEnv) {
		marker := "MARKER-" + secret.Token(12)
		logs.watch(t, marker)
		logs.watch(t, "access_token=")
		f := e.fixture("acme")
		google := e.connect(f, tenants.ConnectionGoogle, "Google", true)
		github := e.connect(f, tenants.ConnectionGitHub, "GitHub", true)
		microsoft := e.connect(f, tenants.ConnectionMicrosoft, "Microsoft", true)
		for _, tt := range []struct {
			p    socialtest.Provider
			conn *admin.Connection
			user socialtest.User
		}{
			{socialtest.Google, google, socialtest.User{Subject: "1", Email: "g@gmail.test", EmailVerified: true, Name: "G"}},
			{socialtest.GitHub, github, socialtest.User{Subject: "2", Login: "gh", Email: "gh@github.test", EmailVerified: true}},
			{socialtest.Microsoft, microsoft, socialtest.User{Subject: "3", TenantID: contosoTenant, Email: "m@contoso.test", Name: "M"}},
		} {
			t.Run(string(tt.p), func(t *testing.T) {
				e.fake.SetUser(tt.p, tt.user)
				e.fake.Tamper(tt.p, socialtest.Tamper{ErrorBody: "try again: " + marker})
				b := e.browser()
				fl, up := f.beginFederated(b, tt.conn)
				p := b.get(fl.atProvider(up))
				f.wantRefused(t, p, "the code exchange at "+tt.conn.Name+" failed")
				if strings.Contains(p.body, marker) {
					t.Fatalf("the page shows the upstream's answer:\n%s", p.body)
				}
			})
		}
		// A profile that breaks off: the login still succeeds on the ID
		// token (Google's profile is optional), and the log names no URL.
		e.fake.SetUser(socialtest.Google, socialtest.User{Subject: "4", Email: "h@gmail.test", EmailVerified: true})
		e.fake.Tamper(socialtest.Google, socialtest.Tamper{BrokenProfile: true})
		if c := f.federatedLogin(e.browser(), google); c.Email != "h@gmail.test" {
			t.Fatalf("claims %+v", c)
		}
	})
}
