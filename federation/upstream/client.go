package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Use is what a request is for; it sets how large an answer may be.
type Use int

const (
	// API is a call to an upstream's JSON endpoints: OpenID discovery,
	// JWKS, token, userinfo, the social providers' profile APIs.
	API Use = iota
	// Metadata is a SAML metadata document.
	Metadata
)

// The largest answer of each use. One IdP's SAML metadata is a few KiB to
// a few hundred (every certificate of a rollover, every endpoint); a
// discovery document, a JWKS or a token answer is a few KiB.
const (
	MaxMetadataSize = 1 << 20
	MaxAPISize      = 256 << 10
)

// MaxBody is the largest answer u accepts, in bytes.
func (u Use) MaxBody() int64 {
	if u == Metadata {
		return MaxMetadataSize
	}
	return MaxAPISize
}

// Limits bound each request in time. Zero fields take the defaults.
type Limits struct {
	// Dial bounds each TCP connect (default 5 s).
	Dial time.Duration
	// TLSHandshake bounds each TLS handshake (default 5 s).
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for the answer's headers once the
	// request is sent (default 10 s).
	ResponseHeader time.Duration
	// Total bounds the whole request, body included (default 15 s).
	Total time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.Dial, 5*time.Second)
	def(&l.TLSHandshake, 5*time.Second)
	def(&l.ResponseHeader, 10*time.Second)
	def(&l.Total, 15*time.Second)
	return l
}

// Resolver returns the addresses to dial for host (a DNS name, never an IP
// address) on port.
type Resolver func(ctx context.Context, host, port string) ([]netip.AddrPort, error)

// Options are how a Client reaches the network, besides its allow list.
// The zero value is DNS, the system's roots and the default limits. Tests
// give a Resolver that maps fake host names to their own listeners, the
// roots of their fakes' certificates and short limits; no option lets a
// request reach an address the allow list does not allow.
type Options struct {
	// Resolver replaces DNS. Every address it returns is checked as DNS's
	// would be.
	Resolver Resolver
	// RootCAs, if set, are the only certificate authorities trusted.
	RootCAs *x509.CertPool
	Limits  Limits
	// Wrap, if set, wraps the guarded transport (tracing: a span per
	// fetch, W3C trace context to the upstream). It sees every request
	// after the checks and cannot bypass them.
	Wrap func(http.RoundTripper) http.RoundTripper
}

// Client is the one way to the upstreams. It is safe for concurrent use.
type Client struct {
	allow     AllowList
	resolve   Resolver
	limits    Limits
	transport *http.Transport
	api       *http.Client
	metadata  *http.Client
	wrap      func(http.RoundTripper) http.RoundTripper
}

// New returns a Client that lets the hosts of allow resolve to internal
// addresses.
func New(allow AllowList, opts Options) *Client {
	c := &Client{allow: allow, resolve: opts.Resolver, limits: opts.Limits.withDefaults(), wrap: opts.Wrap}
	if c.resolve == nil {
		c.resolve = lookup
	}
	c.transport = &http.Transport{
		// Never a proxy from the environment: it would connect for us to
		// any address, and it is not ours to check.
		Proxy:                  nil,
		DialContext:            c.dial,
		TLSClientConfig:        &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    c.limits.TLSHandshake,
		ResponseHeaderTimeout:  c.limits.ResponseHeader,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    4,
		ForceAttemptHTTP2:      true,
	}
	c.api = c.httpClient(API)
	c.metadata = c.httpClient(Metadata)
	return c
}

func (c *Client) httpClient(u Use) *http.Client {
	var rt http.RoundTripper = &roundTripper{c: c, use: u}
	if c.wrap != nil {
		rt = c.wrap(rt)
	}
	return &http.Client{
		Transport: rt,
		Timeout:   c.limits.Total,
		// The round tripper turns every 3xx into an error; this is the
		// second lock on the same door.
		CheckRedirect: func(*http.Request, []*http.Request) error { return errNoRedirects },
	}
}

var errNoRedirects = errors.New("upstream: redirects are not followed")

// HTTP returns the *http.Client for requests of use u, for libraries that
// take one (oauth2, go-oidc, goth). Its answers reach them only when they
// are 2xx, read whole and within u's size; every other answer is an error
// that wraps an *Error.
func (c *Client) HTTP(u Use) *http.Client {
	if u == Metadata {
		return c.metadata
	}
	return c.api
}

// Get fetches rawURL for use u and returns the body of its 2xx answer.
// Every failure is an *Error.
func (c *Client) Get(ctx context.Context, u Use, rawURL string) ([]byte, error) {
	target, err := c.CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &Error{Kind: KindURL}
	}
	resp, err := c.HTTP(u).Do(req)
	if err != nil {
		e := Safe(err).(*Error)
		if e.Host == "" {
			e.Host = normalizeHost(target.Hostname())
		}
		return nil, e
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body) // read whole by the round tripper already
}

// CheckURL parses rawURL and checks that the client would fetch it: http or
// https, a host, no user name or password, and, where the host is an IP
// address or a loopback name (localhost, *.localhost, RFC 6761), an
// address the allow list lets it reach. Names are only checked when they
// are dialled: DNS may answer differently then.
func (c *Client) CheckURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || checkURL(u) != nil {
		return nil, &Error{Kind: KindURL}
	}
	host, port := normalizeHost(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	allowed := c.allow.Allows(host, port)
	if a, err := netip.ParseAddr(host); err == nil && !permitted(a, allowed) {
		return nil, &Error{Kind: KindRefused, Host: host, Addr: a}
	}
	if (host == "localhost" || strings.HasSuffix(host, ".localhost")) && !allowed {
		return nil, &Error{Kind: KindRefused, Host: host}
	}
	return u, nil
}

func checkURL(u *url.URL) error {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return &Error{Kind: KindURL}
	}
	return nil
}

// lookup resolves host with DNS (the system's resolver).
func lookup(ctx context.Context, host, port string) ([]netip.AddrPort, error) {
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.AddrPort, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrPortFrom(ip.Unmap(), uint16(p))
	}
	return out, nil
}

// dial connects to addr (host:port, as the URL names it): it resolves the
// host itself, skips every address the host may not reach, and checks the
// address again when the socket connects (net.Dialer.Control), so that
// what is dialled is what was checked: no second lookup, no DNS rebinding.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	h, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &Error{Kind: KindURL}
	}
	host := normalizeHost(h)
	allowed := c.allow.Allows(host, port)
	var targets []netip.AddrPort
	if a, err := netip.ParseAddr(host); err == nil {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, &Error{Kind: KindURL}
		}
		targets = []netip.AddrPort{netip.AddrPortFrom(a, uint16(p))}
	} else {
		targets, err = c.resolve(ctx, host, port)
		if err != nil || len(targets) == 0 {
			return nil, &Error{Kind: KindUnreachable, Host: host}
		}
	}
	var refused *Error
	var last error
	for _, t := range targets {
		if !permitted(t.Addr(), allowed) {
			if refused == nil {
				refused = &Error{Kind: KindRefused, Host: host, Addr: t.Addr().Unmap()}
			}
			continue
		}
		d := &net.Dialer{Timeout: c.limits.Dial, Control: control(host, allowed)}
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(t.Addr().Unmap(), t.Port()).String())
		if err == nil {
			return conn, nil
		}
		last = err
	}
	switch {
	case last == nil:
		return nil, refused
	case isTimeout(last):
		return nil, &Error{Kind: KindTimeout, Host: host}
	}
	var e *Error
	if errors.As(last, &e) {
		return nil, e
	}
	return nil, &Error{Kind: KindUnreachable, Host: host}
}

// control checks the address a socket is about to connect to.
func control(host string, allowed bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &Error{Kind: KindRefused, Host: host}
		}
		if !permitted(ap.Addr(), allowed) {
			return &Error{Kind: KindRefused, Host: host, Addr: ap.Addr().Unmap()}
		}
		return nil
	}
}

// roundTripper is the client's transport for one use: it refuses URLs the
// client does not fetch, turns every answer but a 2xx into an *Error (so
// that no library sees, logs or quotes an error body), and reads each 2xx
// answer whole, within the use's size, before handing it on.
type roundTripper struct {
	c   *Client
	use Use
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	host := normalizeHost(req.URL.Hostname())
	resp, err := rt.c.transport.RoundTrip(req)
	if err != nil {
		return nil, transportError(host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Kind: KindStatus, Host: host, Status: resp.StatusCode, Code: oauthCode(resp)}
	}
	limit := rt.use.MaxBody()
	if resp.ContentLength > limit {
		return nil, &Error{Kind: KindTooLarge, Host: host, Limit: limit}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, transportError(host, err)
	}
	if int64(len(body)) > limit {
		return nil, &Error{Kind: KindTooLarge, Host: host, Limit: limit}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// transportError is err, from connecting or reading, as an *Error.
func transportError(host string, err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case isTimeout(err):
		return &Error{Kind: KindTimeout, Host: host}
	}
	return &Error{Kind: KindUnreachable, Host: host}
}

// oauthCode returns the registered OAuth 2.0 error code of an error answer
// (RFC 6749 §5.2: a JSON object with "error"), or "". It reads at most
// 4 KiB, and keeps nothing else.
func oauthCode(resp *http.Response) string {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return ""
	}
	var body struct {
		Error string `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&body) != nil || !oauthErrors[body.Error] {
		return ""
	}
	return body.Error
}
