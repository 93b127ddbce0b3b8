package upstream

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want Class
	}{
		// Public.
		{"8.8.8.8", Public},
		{"1.1.1.1", Public},
		{"93.184.216.34", Public},
		{"100.63.255.255", Public},
		{"100.128.0.0", Public},
		{"172.15.255.255", Public},
		{"172.32.0.0", Public},
		{"192.167.255.255", Public},
		{"192.169.0.0", Public},
		{"169.253.255.255", Public},
		{"223.255.255.255", Public},
		{"2001:4860:4860::8888", Public},
		{"2606:4700:4700::1111", Public},
		{"::ffff:8.8.8.8", Public},
		{"64:ff9b::808:808", Public}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", Public},  // 6to4 of 8.8.8.8
		{"2a00:1450:4001:82b::200e", Public},

		// Internal: only for allowed hosts.
		{"127.0.0.1", Internal},
		{"127.255.255.254", Internal},
		{"10.0.0.1", Internal},
		{"10.255.255.255", Internal},
		{"172.16.0.1", Internal},
		{"172.31.255.255", Internal},
		{"192.168.1.1", Internal},
		{"100.64.0.1", Internal},
		{"100.127.255.254", Internal},
		{"::1", Internal},
		{"fc00::1", Internal},
		{"fd12:3456:789a::1", Internal},
		{"::ffff:127.0.0.1", Internal},
		{"::ffff:10.1.2.3", Internal},
		{"::ffff:192.168.0.1", Internal},
		{"64:ff9b::7f00:1", Internal}, // NAT64 of 127.0.0.1
		{"64:ff9b::a00:1", Internal},  // NAT64 of 10.0.0.1

		// Forbidden for every host.
		{"0.0.0.0", Forbidden},
		{"0.1.2.3", Forbidden},
		{"169.254.169.254", Forbidden},
		{"169.254.0.1", Forbidden},
		{"192.0.0.8", Forbidden},
		{"192.0.2.1", Forbidden},
		{"192.88.99.1", Forbidden},
		{"198.18.0.1", Forbidden},
		{"198.19.255.255", Forbidden},
		{"198.51.100.7", Forbidden},
		{"203.0.113.9", Forbidden},
		{"224.0.0.1", Forbidden},
		{"239.255.255.250", Forbidden},
		{"240.0.0.1", Forbidden},
		{"255.255.255.255", Forbidden},
		{"::", Forbidden},
		{"::7f00:1", Forbidden}, // IPv4-compatible (deprecated) 127.0.0.1
		{"::ffff:0.0.0.0", Forbidden},
		{"::ffff:169.254.169.254", Forbidden},
		{"::ffff:224.0.0.1", Forbidden},
		{"::ffff:255.255.255.255", Forbidden},
		{"64:ff9b::a9fe:a9fe", Forbidden}, // NAT64 of 169.254.169.254
		{"64:ff9b::", Forbidden},          // NAT64 of 0.0.0.0
		{"64:ff9b:1::a00:1", Forbidden},   // local-use NAT64 (RFC 8215)
		{"fe80::1", Forbidden},
		{"fe80::1%eth0", Forbidden},
		{"febf::1", Forbidden},
		{"fec0::1", Forbidden},
		{"ff02::1", Forbidden},
		{"ff05::1:3", Forbidden},
		{"100::1", Forbidden},            // discard-only
		{"2001::1", Forbidden},           // Teredo
		{"2001:10::1", Forbidden},        // ORCHID
		{"2001:db8::1", Forbidden},       // documentation
		{"3fff::1", Forbidden},           // documentation
		{"2002:7f00:1::1", Forbidden},    // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", Forbidden}, // 6to4 of 169.254.169.254
		{"2002:a00:1::1", Forbidden},     // 6to4 of 10.0.0.1
		{"5f00::1", Forbidden},           // SRv6 SIDs
		{"4000::1", Forbidden},           // unassigned, outside 2000::/3
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			if got := Classify(a); got != tt.want {
				t.Fatalf("Classify(%s) = %s, want %s", tt.addr, got, tt.want)
			}
			// An allowed host reaches internal addresses, never forbidden
			// ones; any other host only public ones.
			if got := permitted(a, true); got != (tt.want != Forbidden) {
				t.Errorf("permitted(%s, allowed) = %v", tt.addr, got)
			}
			if got := permitted(a, false); got != (tt.want == Public) {
				t.Errorf("permitted(%s, not allowed) = %v", tt.addr, got)
			}
		})
	}
	if Classify(netip.Addr{}) != Forbidden {
		t.Fatal("the zero address is not forbidden")
	}
}
