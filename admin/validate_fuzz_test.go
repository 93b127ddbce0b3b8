package admin_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/admin"
)

// FuzzValidateRedirectURI checks what registration lets through: whatever
// ValidateRedirectURI accepts parses as an absolute URI without user
// information, fragment, wildcard or whitespace, is https with a host or
// http on a loopback host, or (native only) has a reverse-domain scheme;
// and what it accepts for a web client it accepts for a native one.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/callback",
		"https://app.example.com:8443/cb?x=1",
		"http://localhost:3000/cb",
		"http://127.0.0.1/cb",
		"http://[::1]:8080/cb",
		"http://app.localhost/cb",
		"http://localhost.evil.com/cb",
		"http://127.0.0.1.nip.io/cb",
		"http://0x7f000001/cb",
		"http://LOCALHOST/cb",
		"com.example.app:/oauth2redirect",
		"com.example.app://cb",
		"javascript:alert(1)",
		"https://user:pass@app.example.com/cb",
		"https://app.example.com/cb#frag",
		"https://*.example.com/cb",
		"https:///cb",
		"https:opaque",
		"https://app.example.com/\x00",
		"https://app.example.com/cb\u00a0",
		"https://%61pp.example.com/",
		"//app.example.com/cb",
		"",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, native bool) {
		if admin.ValidateRedirectURI("redirect_uris", raw, native) != nil {
			return
		}
		if !native && admin.ValidateRedirectURI("redirect_uris", raw, true) != nil {
			t.Fatalf("%q is accepted for a web client but not a native one", raw)
		}
		if len(raw) > 2000 || strings.ContainsAny(raw, "*# \t\r\n") {
			t.Fatalf("accepted %q", raw)
		}
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.User != nil || u.Fragment != "" {
			t.Fatalf("accepted %q: parsed %+v, %v", raw, u, err)
		}
		switch u.Scheme {
		case "https":
			if u.Host == "" {
				t.Fatalf("accepted %q without a host", raw)
			}
		case "http":
			h := u.Hostname()
			ip := net.ParseIP(h)
			if h != "localhost" && !strings.HasSuffix(h, ".localhost") && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("accepted http on non-loopback host %q in %q", h, raw)
			}
		default:
			if !native || !strings.Contains(u.Scheme, ".") {
				t.Fatalf("accepted scheme %q in %q (native %v)", u.Scheme, raw, native)
			}
		}
	})
}
