package e2e

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/federation/saml/samltest"
	"github.com/gatehouse-id/gatehouse/federation/social/socialtest"
	"github.com/gatehouse-id/gatehouse/federation/upstream"
)

// Host names under which tests run upstreams on loopback. The node's
// upstream client resolves them with the test's names (Deps.Upstream) and
// reaches them only because GATEHOUSE_UPSTREAM_ALLOW_HOSTS lists them: the
// real guarded client runs in every federation test.
const (
	// samlIdPHost is every test SAML IdP's host, for its metadata URL
	// (samlMetadataURL); any port.
	samlIdPHost = "idp.test"
	// zitadelHost is zitadel/oidc's example OpenID provider, on the port
	// the test gives it.
	zitadelHost = "zitadel.localhost"
)

// defaultAllowHosts is GATEHOUSE_UPSTREAM_ALLOW_HOSTS of a test node on
// port: the tenant partner of this node (http://partner.localhost:port,
// an upstream of other tenants), the SAML IdPs and the example OpenID
// provider.
func defaultAllowHosts(port string) string {
	return strings.Join([]string{"partner.localhost:" + port, samlIdPHost, zitadelHost}, ",")
}

// upstreamNames is the test's name service, for the node's upstream client
// and the test's browsers alike: names routed to a test's listener, then
// localhost and *.localhost (the node itself: Go does not resolve them),
// then the fake social providers' names, when the node has the fake. No
// other name exists: no test reaches the internet.
type upstreamNames struct {
	mu     sync.Mutex
	node   netip.AddrPort
	routes map[string]netip.AddrPort // a zero port keeps the port asked for
	fake   *socialtest.Fake
}

func newUpstreamNames(node string) *upstreamNames {
	return &upstreamNames{node: netip.MustParseAddrPort(node), routes: map[string]netip.AddrPort{samlIdPHost: netip.MustParseAddrPort("127.0.0.1:0")}}
}

// route makes host (on any port) resolve to to ("ip:port"; "ip" keeps the
// port asked for).
func (n *upstreamNames) route(host, to string) {
	ap, err := netip.ParseAddrPort(to)
	if err != nil {
		ap = netip.AddrPortFrom(netip.MustParseAddr(to), 0)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.routes[host] = ap
}

// lookup returns where host:port is, and whether the name exists.
func (n *upstreamNames) lookup(host, port string) (netip.AddrPort, bool) {
	n.mu.Lock()
	r, ok := n.routes[host]
	n.mu.Unlock()
	if ok {
		if r.Port() == 0 {
			p, _ := strconv.ParseUint(port, 10, 16)
			r = netip.AddrPortFrom(r.Addr(), uint16(p))
		}
		return r, true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return n.node, true
	}
	return netip.AddrPort{}, false
}

// resolve is the node's upstream.Resolver.
func (n *upstreamNames) resolve(ctx context.Context, host, port string) ([]netip.AddrPort, error) {
	if ap, ok := n.lookup(host, port); ok {
		return []netip.AddrPort{ap}, nil
	}
	if n.fake != nil {
		return n.fake.Resolve(ctx, host, port)
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// options are the node's upstream.Options.
func (n *upstreamNames) options(limits upstream.Limits) upstream.Options {
	o := upstream.Options{Resolver: n.resolve, Limits: limits}
	if n.fake != nil {
		o.RootCAs = n.fake.RootCAs()
	}
	return o
}

// dial is a browser's dialer: routed names to their listeners, IP
// addresses as they are, every other host to the node.
func (n *upstreamNames) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ap, ok := n.lookup(host, port); ok {
		return d.DialContext(ctx, network, ap.String())
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return d.DialContext(ctx, network, addr)
	}
	return d.DialContext(ctx, network, n.node.String())
}

// samlMetadataURL is where the node fetches idp's metadata: under
// samlIdPHost, which resolves to the IdP's loopback address.
func samlMetadataURL(idp *samltest.IdP) string {
	return "http://" + samlIdPHost + ":" + idp.Port() + "/metadata"
}

// withAllowHosts replaces the node's GATEHOUSE_UPSTREAM_ALLOW_HOSTS.
func withAllowHosts(hosts ...string) nodeOption {
	return func(n *nodeSetup) { n.env["GATEHOUSE_UPSTREAM_ALLOW_HOSTS"] = strings.Join(hosts, ",") }
}

// withUpstreamLimits bounds the node's upstream requests in time.
func withUpstreamLimits(l upstream.Limits) nodeOption {
	return func(n *nodeSetup) { n.limits = l }
}

// withSocialFake makes the fake social providers' real host names resolve
// to fake (and allows them), and trusts its certificate authority.
func withSocialFake(fake *socialtest.Fake) nodeOption {
	return func(n *nodeSetup) {
		n.names.fake = fake
		if allow := n.env["GATEHOUSE_UPSTREAM_ALLOW_HOSTS"]; allow != "" {
			n.env["GATEHOUSE_UPSTREAM_ALLOW_HOSTS"] = allow + "," + socialtest.AllowHosts().String()
		} else {
			n.env["GATEHOUSE_UPSTREAM_ALLOW_HOSTS"] = socialtest.AllowHosts().String()
		}
	}
}
