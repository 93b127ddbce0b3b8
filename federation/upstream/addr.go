package upstream

import "net/netip"

// Class is what an IP address is to the client: one it connects to, one it
// connects to only for an allowed host, or one it never connects to.
type Class int

const (
	// Public addresses are globally reachable unicast: always allowed.
	Public Class = iota
	// Internal addresses are this machine's and its networks': loopback
	// (127.0.0.0/8, ::1), private (10.0.0.0/8, 172.16.0.0/12,
	// 192.168.0.0/16, fc00::/7) and shared CGNAT space (100.64.0.0/10).
	// Only a host in the allow list may resolve to one.
	Internal
	// Forbidden addresses are never dialled, allowed host or not: the
	// unspecified and "this network" block, link-local (the cloud metadata
	// service at 169.254.169.254, fe80::/10), multicast, broadcast and
	// reserved space, documentation and benchmarking ranges, and the IPv6
	// blocks outside global unicast or that embed an IPv4 address which is
	// not public.
	Forbidden
)

func (c Class) String() string {
	switch c {
	case Public:
		return "public"
	case Internal:
		return "internal"
	}
	return "forbidden"
}

// The IANA special-purpose address registries (RFC 6890 and its updates).
var (
	internal4  = prefixes("10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
	forbidden4 = prefixes(
		"0.0.0.0/8",       // "this network", 0.0.0.0 (RFC 791, 1122)
		"169.254.0.0/16",  // link-local, cloud metadata services (RFC 3927)
		"192.0.0.0/24",    // IETF protocol assignments (RFC 6890)
		"192.0.2.0/24",    // TEST-NET-1 (RFC 5737)
		"192.88.99.0/24",  // 6to4 relay anycast (RFC 7526)
		"198.18.0.0/15",   // benchmarking (RFC 2544)
		"198.51.100.0/24", // TEST-NET-2 (RFC 5737)
		"203.0.113.0/24",  // TEST-NET-3 (RFC 5737)
		"224.0.0.0/4",     // multicast (RFC 5771)
		"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast (RFC 1112, 919)
	)
	internal6  = prefixes("::1/128", "fc00::/7")
	global6    = netip.MustParsePrefix("2000::/3")
	forbidden6 = prefixes(
		"2001::/23",     // IETF protocol assignments: Teredo, ORCHID, ... (RFC 2928, 4380, 7343)
		"2001:db8::/32", // documentation (RFC 3849)
		"3fff::/20",     // documentation (RFC 9637)
	)
	nat64  = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 prefix (RFC 6052)
	sixTo4 = netip.MustParsePrefix("2002::/16")    // 6to4 (RFC 3056)
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func within(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Classify returns the class of a. An IPv4-mapped IPv6 address is its IPv4
// address; one under the NAT64 well-known prefix is the IPv4 address it
// embeds; a 6to4 address is public only when its IPv4 address is. A zoned
// address is forbidden (zones name links, and only link-scoped addresses
// need them).
func Classify(a netip.Addr) Class {
	if !a.IsValid() || a.Zone() != "" {
		return Forbidden
	}
	a = a.Unmap()
	if a.Is4() {
		switch {
		case within(a, forbidden4):
			return Forbidden
		case within(a, internal4):
			return Internal
		}
		return Public
	}
	switch {
	case within(a, internal6):
		return Internal
	case nat64.Contains(a):
		b := a.As16()
		return Classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case !global6.Contains(a), within(a, forbidden6):
		return Forbidden
	case sixTo4.Contains(a):
		b := a.As16()
		if Classify(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})) != Public {
			return Forbidden
		}
	}
	return Public
}

// permitted reports whether the client may dial a, for a host that is
// (allowed) or is not in the allow list.
func permitted(a netip.Addr, allowed bool) bool {
	switch Classify(a) {
	case Public:
		return true
	case Internal:
		return allowed
	}
	return false
}
