package upstream

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// AllowList is the hosts that may resolve to internal addresses (loopback,
// private, CGNAT): upstreams an operator runs on their own machine or
// network, named in GATEHOUSE_UPSTREAM_ALLOW_HOSTS. An entry names a host
// as URLs write it (a DNS name or an IP address), with any port, or with
// one port only. The zero value allows none. Forbidden addresses (link-local,
// multicast, unspecified, ...) stay forbidden for every host.
type AllowList struct {
	entries []allowEntry
}

type allowEntry struct {
	host string // normalized: lower case, no trailing dot; an IP in netip's form
	port string // "" for any port
}

// hostName is a DNS name as a URL carries it (ASCII; IDNs in punycode).
var hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)*$`)

// ParseAllowList reads a comma-separated list of host names, IP addresses
// and host:port pairs ("idp.corp.internal, localhost:5556, [::1]:8443").
// Spaces around entries and empty entries are ignored; anything else that
// is not a host (a URL, a path, a wildcard) is an error.
func ParseAllowList(s string) (AllowList, error) {
	var l AllowList
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		e, err := parseAllowEntry(raw)
		if err != nil {
			return AllowList{}, err
		}
		if !slices.Contains(l.entries, e) {
			l.entries = append(l.entries, e)
		}
	}
	return l, nil
}

func parseAllowEntry(raw string) (allowEntry, error) {
	host, port := raw, ""
	if strings.ContainsAny(raw, "/@*?#%\\ \t") {
		return allowEntry{}, fmt.Errorf("%q is not a host name, an IP address or host:port", raw)
	}
	if h, p, err := net.SplitHostPort(raw); err == nil {
		host, port = h, p
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return allowEntry{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", raw)
		}
	} else if strings.HasPrefix(raw, "[") && strings.HasSuffix(raw, "]") {
		host = raw[1 : len(raw)-1]
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Zone() == "" {
		return allowEntry{host: a.String(), port: port}, nil
	}
	h := normalizeHost(host)
	if !hostName.MatchString(h) || len(h) > 253 {
		return allowEntry{}, fmt.Errorf("%q is not a host name, an IP address or host:port", raw)
	}
	return allowEntry{host: h, port: port}, nil
}

// normalizeHost is host as it is compared: lower case, without the trailing
// dot of a fully qualified name, an IP address in netip's form.
func normalizeHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	return host
}

// Allows reports whether host (as the URL names it) on port may resolve to
// internal addresses.
func (l AllowList) Allows(host, port string) bool {
	host = normalizeHost(host)
	for _, e := range l.entries {
		if e.host == host && (e.port == "" || e.port == port) {
			return true
		}
	}
	return false
}

// String is the list as ParseAllowList reads it.
func (l AllowList) String() string {
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.host
		if strings.Contains(e.host, ":") {
			out[i] = "[" + e.host + "]"
		}
		if e.port != "" {
			out[i] = net.JoinHostPort(e.host, e.port)
		}
	}
	return strings.Join(out, ",")
}

// Empty reports whether the list allows no host.
func (l AllowList) Empty() bool { return len(l.entries) == 0 }
