package tenants_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestCheckDomain(t *testing.T) {
	const apex = "id.example.com"
	for _, tc := range []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "plain", in: "login.acme.com", want: "login.acme.com"},
		{name: "upper case folds", in: "Login.ACME.com", want: "login.acme.com"},
		{name: "one trailing dot", in: "login.acme.com.", want: "login.acme.com"},
		{name: "spaces", in: "  login.acme.com ", want: "login.acme.com"},
		{name: "two labels", in: "acme.com", want: "acme.com"},
		{name: "valid A-label", in: "login.xn--mnchen-3ya.de", want: "login.xn--mnchen-3ya.de"},
		{name: "A-label look-alike of acme (Cyrillic а) is its own name", in: "xn--cme-8cd.com", want: "xn--cme-8cd.com"},
		{name: "U-label", in: "login.münchen.de", wantErr: true},
		{name: "Kelvin sign", in: "\u212Aacme.com", wantErr: true},
		{name: "Cyrillic look-alike", in: "login.аcme.com", wantErr: true},
		{name: "broken A-label", in: "xn--zz.com", wantErr: true},
		{name: "A-label of upper case", in: "xn--Mnchen-3ya.de", want: "xn--mnchen-3ya.de"},
		{name: "port", in: "login.acme.com:443", wantErr: true},
		{name: "scheme", in: "https://login.acme.com", wantErr: true},
		{name: "path", in: "login.acme.com/x", wantErr: true},
		{name: "wildcard", in: "*.acme.com", wantErr: true},
		{name: "single label", in: "localhost", wantErr: true},
		{name: "IPv4", in: "192.0.2.1", wantErr: true},
		{name: "IPv6", in: "[2001:db8::1]", wantErr: true},
		{name: "numeric TLD", in: "login.acme.123", wantErr: true},
		{name: "empty label", in: "login..acme.com", wantErr: true},
		{name: "two trailing dots", in: "login.acme.com..", wantErr: true},
		{name: "leading hyphen", in: "-login.acme.com", wantErr: true},
		{name: "underscore", in: "_login.acme.com", wantErr: true},
		{name: "NUL", in: "login.acme.com\x00.evil", wantErr: true},
		{name: "long label", in: "a234567890123456789012345678901234567890123456789012345678901234.com", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "the apex", in: "ID.example.com.", wantErr: true},
		{name: "a tenant host", in: "acme.id.example.com", wantErr: true},
		{name: "a parent of the apex is another domain", in: "example.com", want: "example.com"},
		{name: "suffix without a dot is another domain", in: "evilid.example.com", want: "evilid.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tenants.CheckDomain(tc.in, apex)
			if tc.wantErr {
				var ve *tenants.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("CheckDomain(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CheckDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDomainIssuer(t *testing.T) {
	for base, want := range map[string]string{
		"https://id.example.com":      "https://login.acme.com",
		"http://id.localhost:8080":    "http://login.acme.com:8080",
		"https://id.example.com:8443": "https://login.acme.com:8443",
	} {
		u, _ := url.Parse(base)
		if got := tenants.DomainIssuer(u, "login.acme.com"); got != want {
			t.Errorf("DomainIssuer(%s) = %s, want %s", base, got, want)
		}
	}
}
