package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// marker is what an attacker's upstream writes in its answers, to see it
// come back in an error.
const marker = "MARKER-c0ffee-secret-body"

// server is a loopback HTTP server that counts the requests it gets.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

func metadataHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	fmt.Fprint(w, `<EntityDescriptor entityID="https://idp.test"/>`)
}

// names is a Resolver for tests: name -> addresses (the port kept).
func names(m map[string][]string) Resolver {
	return func(_ context.Context, host, port string) ([]netip.AddrPort, error) {
		ips, ok := m[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.AddrPort
		for _, ip := range ips {
			out = append(out, netip.MustParseAddrPort(net.JoinHostPort(ip, port)))
		}
		return out, nil
	}
}

func mustAllow(t *testing.T, s string) AllowList {
	t.Helper()
	l, err := ParseAllowList(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func wantKind(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("err = %v (%T), want an *Error of kind %d", err, err, k)
	}
	return e
}

// TestClientRefusesInternalAddresses points the client at a server on
// loopback under every spelling an attacker would try: none reaches it,
// unless its host is allowed.
func TestClientRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	s := newServer(t, metadataHandler)
	p := s.port()
	c := New(mustAllow(t, "allowed.test:"+p+", literal.test"), Options{Resolver: names(map[string][]string{
		"allowed.test":     {"127.0.0.1"},
		"rebound.test":     {"127.0.0.1"},
		"mapped.test":      {"::ffff:127.0.0.1"},
		"mixed.test":       {"10.0.0.1", "::ffff:127.0.0.1", "0.0.0.0"},
		"literal.test":     {"169.254.169.254"},
		"nat64.test":       {"64:ff9b::7f00:1"},
		"unspecified.test": {"0.0.0.0"},
	}), Limits: Limits{Total: 2 * time.Second}})
	ctx := context.Background()
	for _, tt := range []struct {
		name, url string
		kind      Kind
	}{
		{"loopback", "http://127.0.0.1:" + p + "/md", KindRefused},
		{"loopback, another address of 127/8", "http://127.0.0.2:" + p + "/md", KindRefused},
		{"localhost", "http://localhost:" + p + "/md", KindRefused},
		{"IPv6 loopback", "http://[::1]:" + p + "/md", KindRefused},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + p + "/md", KindRefused},
		{"IPv4-mapped loopback, hex", "http://[::ffff:7f00:1]:" + p + "/md", KindRefused},
		{"unspecified (reaches loopback on Linux)", "http://0.0.0.0:" + p + "/md", KindRefused},
		{"private", "http://10.0.0.1:" + p + "/md", KindRefused},
		{"private 192.168", "http://192.168.0.1:" + p + "/md", KindRefused},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", KindRefused},
		{"CGNAT", "http://100.64.0.1:" + p + "/md", KindRefused},
		{"link-local IPv6", "http://[fe80::1]:" + p + "/md", KindRefused},
		{"unique local IPv6", "http://[fd00::1]:" + p + "/md", KindRefused},
		{"a name that resolves to loopback", "http://rebound.test:" + p + "/md", KindRefused},
		{"a name that resolves to IPv4-mapped loopback", "http://mapped.test:" + p + "/md", KindRefused},
		{"a name with only internal addresses", "http://mixed.test:" + p + "/md", KindRefused},
		{"a name that resolves to NAT64 of loopback", "http://nat64.test:" + p + "/md", KindRefused},
		{"a name that resolves to 0.0.0.0", "http://unspecified.test:" + p + "/md", KindRefused},
		{"an allowed host that resolves to cloud metadata", "http://literal.test:" + p + "/md", KindRefused},
		{"another port of an allowed host:port", "http://allowed.test:1/md", KindRefused},
		{"an unknown name", "http://nowhere.test:" + p + "/md", KindUnreachable},
		{"user info", "http://user:pass@allowed.test:" + p + "/md", KindURL},
		{"not http", "ftp://allowed.test:" + p + "/md", KindURL},
		{"file", "file:///etc/passwd", KindURL},
		{"no host", "http:///md", KindURL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(ctx, Metadata, tt.url)
			wantKind(t, err, tt.kind)
			// The libraries' path (not Get) is guarded too.
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			if req != nil {
				resp, err := c.HTTP(API).Do(req)
				if err == nil {
					resp.Body.Close()
					t.Fatal("the library client fetched it")
				}
			}
		})
	}
	if n := s.hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests", n)
	}
	// The allowed host:port is fetched.
	b, err := c.Get(ctx, Metadata, "http://allowed.test:"+p+"/md")
	if err != nil || !strings.Contains(string(b), "EntityDescriptor") {
		t.Fatalf("allowed host: %q, %v", b, err)
	}
}

// TestClientChecksTheDialledAddress checks the address again as the socket
// connects: a resolver (or DNS rebinding) cannot slip one past it.
func TestClientChecksTheDialledAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr    string
		allowed bool
		ok      bool
	}{
		{"127.0.0.1:80", false, false},
		{"127.0.0.1:80", true, true},
		{"[::1]:80", false, false},
		{"[::ffff:127.0.0.1]:80", false, false},
		{"169.254.169.254:80", true, false},
		{"0.0.0.0:80", true, false},
		{"8.8.8.8:443", false, true},
		{"not an address", true, false},
	} {
		err := control("h.test", tt.allowed)("tcp", tt.addr, nil)
		if (err == nil) != tt.ok {
			t.Errorf("control(%s, allowed %v) = %v", tt.addr, tt.allowed, err)
		}
	}
	// A resolver answering differently each time: the client looks up
	// once, and dials what it checked.
	s := newServer(t, metadataHandler)
	var lookups atomic.Int32
	flip := func(_ context.Context, host, port string) ([]netip.AddrPort, error) {
		lookups.Add(1)
		return []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:" + port)}, nil
	}
	c := New(AllowList{}, Options{Resolver: flip})
	if _, err := c.Get(context.Background(), API, "http://rebind.test:"+s.port()+"/"); KindOf(err) != KindRefused {
		t.Fatalf("err = %v", err)
	}
	if lookups.Load() != 1 || s.hits.Load() != 0 {
		t.Fatalf("%d lookups, %d hits", lookups.Load(), s.hits.Load())
	}
}

// TestClientFollowsNoRedirect: an allowed upstream that redirects to a
// loopback or private address gets its redirect status back as an error;
// the target is never asked.
func TestClientFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	target := newServer(t, metadataHandler)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, to := range []string{target.URL + "/md", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://public.test:" + target.port() + "/md"} {
			redirector := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, to, status)
			})
			c := New(mustAllow(t, "idp.test"), Options{Resolver: names(map[string][]string{"idp.test": {"127.0.0.1"}, "public.test": {"127.0.0.1"}})})
			_, err := c.Get(context.Background(), Metadata, "http://idp.test:"+redirector.port()+"/md")
			if e := wantKind(t, err, KindStatus); e.Status != status {
				t.Fatalf("status %d, want %d", e.Status, status)
			}
			// A POST (a token request) is not sent again elsewhere either.
			resp, err := c.HTTP(API).Post("http://idp.test:"+redirector.port()+"/token", "application/x-www-form-urlencoded", strings.NewReader("code=x&client_secret=s3cret"))
			if err == nil {
				resp.Body.Close()
				t.Fatal("a redirected POST answered")
			}
			wantKind(t, err, KindStatus)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

// TestClientErrorsHoldNothingOfTheAnswer: an error answer's body never
// reaches the error, however it is formatted; a registered OAuth error
// code is kept.
func TestClientErrorsHoldNothingOfTheAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, marker)
		case "/chosen-code":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":%q}`, "x_"+strings.ToLower(marker[:6]))
		default:
			w.Header().Set("X-Marker", marker)
			http.Error(w, marker, http.StatusForbidden)
		}
	})
	c := New(mustAllow(t, "idp.test"), Options{Resolver: names(map[string][]string{"idp.test": {"127.0.0.1"}})})
	base := "http://idp.test:" + s.port()
	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/forbidden", http.StatusForbidden, ""},
		{"/oauth", http.StatusBadRequest, "invalid_grant"},
		{"/chosen-code", http.StatusBadRequest, ""},
	} {
		_, err := c.Get(context.Background(), API, base+tt.path)
		e := wantKind(t, err, KindStatus)
		if e.Status != tt.status || e.Code != tt.code {
			t.Fatalf("%s: %+v", tt.path, e)
		}
		// As libraries wrap it, and as Safe turns it back.
		req, _ := http.NewRequest(http.MethodGet, base+tt.path+"?access_token="+marker, nil)
		_, lerr := c.HTTP(API).Do(req)
		for _, text := range []string{e.Error(), Safe(lerr).Error(), Safe(fmt.Errorf("oidc: get keys failed %w", lerr)).Error()} {
			if strings.Contains(text, marker) || strings.Contains(strings.ToLower(text), strings.ToLower(marker[:6])) {
				t.Fatalf("%s: the error shows the answer: %s", tt.path, text)
			}
		}
	}
}

// TestClientBoundsAnswers: answers over the use's size are cut off, with
// or without a Content-Length; metadata may be larger than an API answer.
func TestClientBoundsAnswers(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := 0
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if r.URL.Query().Has("chunked") {
			w.Header().Set("Transfer-Encoding", "chunked")
			for i := 0; i < n; i += 1024 {
				w.Write([]byte(strings.Repeat(" ", min(1024, n-i))))
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(n))
		w.Write([]byte(strings.Repeat(" ", n)))
	})
	c := New(mustAllow(t, "idp.test"), Options{Resolver: names(map[string][]string{"idp.test": {"127.0.0.1"}})})
	base := "http://idp.test:" + s.port() + "/?n="
	for _, tt := range []struct {
		use Use
		n   int
		ok  bool
	}{
		{API, MaxAPISize, true},
		{API, MaxAPISize + 1, false},
		{Metadata, MaxAPISize + 1, true},
		{Metadata, MaxMetadataSize, true},
		{Metadata, MaxMetadataSize + 1, false},
		{Metadata, 20 << 20, false},
	} {
		for _, chunked := range []string{"", "&chunked"} {
			b, err := c.Get(context.Background(), tt.use, base+fmt.Sprint(tt.n)+chunked)
			if tt.ok {
				if err != nil || len(b) != tt.n {
					t.Fatalf("use %d, %d bytes%s: %d bytes, %v", tt.use, tt.n, chunked, len(b), err)
				}
				continue
			}
			if e := wantKind(t, err, KindTooLarge); e.Limit != tt.use.MaxBody() || !strings.Contains(e.Error(), "larger than") {
				t.Fatalf("use %d, %d bytes%s: %v", tt.use, tt.n, chunked, e)
			}
		}
	}
}

// TestClientTimesOut: an upstream that accepts the connection and never
// answers, or answers too slowly, is given up on within the limits.
func TestClientTimesOut(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // kept open, never answered
	t.Cleanup(func() {
		silent.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range held {
			conn.Close()
		}
	})
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn)
			mu.Unlock()
		}
	}()
	slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := New(mustAllow(t, "idp.test"), Options{Resolver: names(map[string][]string{"idp.test": {"127.0.0.1"}}),
		Limits: Limits{ResponseHeader: 300 * time.Millisecond, Total: 600 * time.Millisecond}})
	_, port, _ := net.SplitHostPort(silent.Addr().String())
	for _, u := range []string{"http://idp.test:" + port + "/", "https://idp.test:" + port + "/", "http://idp.test:" + slow.port() + "/"} {
		start := time.Now()
		_, err := c.Get(context.Background(), API, u)
		wantKind(t, err, KindTimeout)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%s: gave up after %v", u, d)
		}
	}
}

// TestClientIgnoresProxyEnvironment: HTTP(S)_PROXY would connect for us to
// any address; the client never uses it.
func TestClientIgnoresProxyEnvironment(t *testing.T) {
	proxy := newServer(t, metadataHandler)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	s := newServer(t, metadataHandler)
	c := New(mustAllow(t, "idp.test"), Options{Resolver: names(map[string][]string{"idp.test": {"127.0.0.1"}})})
	if _, err := c.Get(context.Background(), Metadata, "http://idp.test:"+s.port()+"/md"); err != nil {
		t.Fatal(err)
	}
	// A refused address stays refused, proxy or not.
	if _, err := c.Get(context.Background(), Metadata, "http://127.0.0.1:"+s.port()+"/md"); KindOf(err) != KindRefused {
		t.Fatalf("err = %v", err)
	}
	if proxy.hits.Load() != 0 || s.hits.Load() != 1 {
		t.Fatalf("proxy %d hits, server %d", proxy.hits.Load(), s.hits.Load())
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	c := New(mustAllow(t, "localhost:5556, 10.0.0.5, [::1]:8443"), Options{})
	for _, tt := range []struct {
		url  string
		kind Kind // KindInvalid: no error
	}{
		{"https://idp.example.com/metadata", KindInvalid},
		{"http://idp.example.com", KindInvalid},
		{"https://internal.corp/", KindInvalid}, // a name: checked when dialled
		{"http://localhost:5556/", KindInvalid},
		{"http://10.0.0.5/md", KindInvalid},
		{"https://[::1]:8443/", KindInvalid},
		{"http://localhost/", KindRefused},
		{"http://localhost:5557/", KindRefused},
		{"http://LOCALHOST./", KindRefused},
		{"http://a.localhost:5556/", KindRefused},
		{"http://127.0.0.1:5556/", KindRefused},
		{"http://10.0.0.6/", KindRefused},
		{"https://[::1]/", KindRefused},
		{"http://[::ffff:127.0.0.1]/", KindRefused},
		{"http://0.0.0.0/", KindRefused},
		{"http://169.254.169.254/", KindRefused},
		{"http://100.64.0.1/", KindRefused},
		{"ftp://idp.example.com/", KindURL},
		{"https://user@idp.example.com/", KindURL},
		{"https://user:pass@idp.example.com/", KindURL},
		{"https:idp.example.com", KindURL},
		{"//idp.example.com/", KindURL},
		{"idp.example.com", KindURL},
		{"", KindURL},
		{"http://[::1/", KindURL},
	} {
		_, err := c.CheckURL(tt.url)
		if tt.kind == KindInvalid {
			if err != nil {
				t.Errorf("CheckURL(%q) = %v", tt.url, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind != tt.kind {
			t.Errorf("CheckURL(%q) = %v, want kind %d", tt.url, err, tt.kind)
		}
	}
}

func TestSafe(t *testing.T) {
	t.Parallel()
	if Safe(nil) != nil {
		t.Fatal("Safe(nil) is not nil")
	}
	inner := &Error{Kind: KindStatus, Host: "idp.test", Status: 500}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("oidc: get keys failed %w", inner), "upstream: idp.test answered HTTP 500"},
		{errors.New("500 Internal Server Error: " + marker), "upstream: the answer of the upstream is not valid"},
		{fmt.Errorf("oidc: failed to decode keys: %v %s", errors.New("bad"), marker), "upstream: the answer of the upstream is not valid"},
		{context.DeadlineExceeded, "upstream: the upstream did not answer in time"},
		{&oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: marker, Body: []byte(marker)}, "upstream: the answer of the upstream is not valid: an OAuth error answer (invalid_grant)"},
		{&oauth2.RetrieveError{ErrorCode: marker, Body: []byte(marker)}, "upstream: the answer of the upstream is not valid: an OAuth error answer"},
		{Invalid("login.microsoftonline.com", "discovery names an endpoint elsewhere"), "upstream: the answer of login.microsoftonline.com is not valid: discovery names an endpoint elsewhere"},
	} {
		if got := Safe(tt.err).Error(); got != tt.want {
			t.Errorf("Safe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	const generic = "could not fetch metadata"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&Error{Kind: KindRefused, Host: "internal.test", Addr: netip.MustParseAddr("10.0.0.1")}, generic},
		{&Error{Kind: KindUnreachable, Host: "idp.test"}, generic},
		{&Error{Kind: KindTimeout, Host: "idp.test"}, generic},
		{&Error{Kind: KindInvalid, Host: "idp.test", What: "garbage"}, generic},
		{&Error{Kind: KindURL}, generic},
		{errors.New(marker), generic},
		{fmt.Errorf("wrapped: %w", &Error{Kind: KindStatus, Host: "idp.test", Status: 403, Code: "invalid_client"}), generic + " (HTTP 403)"},
		{&Error{Kind: KindTooLarge, Host: "idp.test", Limit: MaxMetadataSize}, generic + ": the answer is larger than 1 MiB"},
	} {
		if got := Message("fetch metadata", tt.err); got != tt.want {
			t.Errorf("Message(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestClientWithDNS uses the system's resolver: loopback under names DNS
// (or /etc/hosts, or the C library's inet_aton forms) turns into
// 127.0.0.1 is refused like 127.0.0.1 itself.
func TestClientWithDNS(t *testing.T) {
	t.Parallel()
	s := newServer(t, metadataHandler)
	p := s.port()
	c := New(AllowList{}, Options{Limits: Limits{Total: 2 * time.Second}})
	for _, host := range []string{"localhost", "localhost.", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "017700000001"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+":"+p+"/md", nil)
		resp, err := c.HTTP(Metadata).Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: fetched", host)
		}
		// localhost is in every /etc/hosts; the numeric forms resolve
		// only with some resolvers, and are refused where they do.
		if k := KindOf(err); k != KindRefused && (strings.HasPrefix(host, "localhost") || k != KindUnreachable && k != KindTimeout) {
			t.Errorf("%s: %v", host, err)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests", n)
	}
}
