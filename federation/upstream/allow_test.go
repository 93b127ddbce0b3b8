package upstream

import (
	"strings"
	"testing"
)

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "empty", in: "", want: ""},
		{name: "spaces and empty entries", in: " , ,", want: ""},
		{name: "host names", in: "idp.corp.internal, LocalHost., keycloak", want: "idp.corp.internal,localhost,keycloak"},
		{name: "host:port", in: "localhost:5556,idp.test:8443", want: "localhost:5556,idp.test:8443"},
		{name: "IP addresses", in: "127.0.0.1, ::1, [::1]:8443, 10.0.0.5:80", want: "127.0.0.1,[::1],[::1]:8443,10.0.0.5:80"},
		{name: "IPv6 in brackets", in: "[fd00::5]", want: "[fd00::5]"},
		{name: "duplicates once", in: "a.test,A.test,a.test.", want: "a.test"},
		{name: "docker service names", in: "saml_idp,keycloak-1", want: "saml_idp,keycloak-1"},
		{name: "a URL", in: "https://idp.test", wantErr: "not a host name"},
		{name: "a path", in: "idp.test/metadata", wantErr: "not a host name"},
		{name: "a wildcard", in: "*.corp.internal", wantErr: "not a host name"},
		{name: "user info", in: "user@idp.test", wantErr: "not a host name"},
		{name: "port zero", in: "idp.test:0", wantErr: "port"},
		{name: "port too large", in: "idp.test:65536", wantErr: "port"},
		{name: "port not a number", in: "idp.test:https", wantErr: "port"},
		{name: "port with a sign", in: "idp.test:+80", wantErr: "port"},
		{name: "empty port", in: "idp.test:", wantErr: "port"},
		{name: "a zone", in: "fe80::1%eth0", wantErr: "not a host name"},
		{name: "spaces inside", in: "idp test", wantErr: "not a host name"},
		{name: "a label too long", in: strings.Repeat("a", 64) + ".test", wantErr: "not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseAllowList(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAllowList(%q) = %v, %v; want an error %q", tt.in, l, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := l.String(); got != tt.want {
				t.Fatalf("ParseAllowList(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if l.Empty() != (tt.want == "") {
				t.Fatalf("Empty() = %v", l.Empty())
			}
		})
	}
}

func TestAllowListAllows(t *testing.T) {
	t.Parallel()
	l, err := ParseAllowList("idp.test, localhost:5556, [::1]:8443, 127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, port string
		want       bool
	}{
		{"idp.test", "443", true},
		{"idp.test", "8080", true},
		{"IDP.test.", "80", true},
		{"sub.idp.test", "443", false}, // no wildcards: a name, not a domain
		{"idp.test.evil", "443", false},
		{"localhost", "5556", true},
		{"localhost", "5557", false}, // another port of an allowed host:port
		{"localhost", "80", false},
		{"127.0.0.1", "5556", false}, // the name is allowed, not its address
		{"::1", "8443", true},
		{"0:0:0:0:0:0:0:1", "8443", true},
		{"::1", "8444", false},
		{"127.0.0.1", "9000", true},
		{"::ffff:127.0.0.1", "9000", false}, // another spelling is another host
		{"127.0.0.1", "9001", false},
		{"", "443", false},
	}
	for _, tt := range tests {
		if got := l.Allows(tt.host, tt.port); got != tt.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
	if (AllowList{}).Allows("localhost", "80") {
		t.Error("the empty list allows localhost")
	}
}
