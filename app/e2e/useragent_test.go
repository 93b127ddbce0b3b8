package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// rawPost sends a URL-encoded POST with the browser's cookies and the given
// User-Agent byte for byte, over a connection of its own: Go's client
// refuses to send a header value holding a NUL, an attacker's does not.
func rawPost(t *testing.T, e *env, b *browser, target string, form url.Values, ua string) *http.Response {
	t.Helper()
	u, _ := url.Parse(target)
	conn, err := net.Dial("tcp", "127.0.0.1:"+e.port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var cookies []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	body := form.Encode()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		u.RequestURI(), u.Host, ua, strings.Join(cookies, "; "), len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestLongHostileUserAgentSignsIn is finding 12c end to end: a 600-byte
// user agent whose three-byte characters straddle what a session keeps,
// with invalid UTF-8 inside, signs in on PostgreSQL too, and the session
// keeps valid text; one holding a NUL byte, which net/http refuses as a
// header value, is answered 400, never 500.
func TestLongHostileUserAgentSignsIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.fixture("acme")
		ua := "Mozilla/5.0 \xff" + strings.Repeat("\u20ac", 195) + "xy" // 600 bytes; byte 512 falls inside a euro sign
		if len(ua) != 600 {
			t.Fatalf("user agent of %d bytes", len(ua))
		}
		b := e.browser()
		p := f.loginPage(b)
		form := url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}}
		if resp := rawPost(t, e, b, f.issuer+"/login", form, ua); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a login with a 600-byte multibyte user agent: %d", resp.StatusCode)
		}
		ss, err := e.store.ListSessions(f.tctx(), f.userID)
		if err != nil || len(ss) != 1 {
			t.Fatalf("sessions: %+v %v", ss, err)
		}
		if got := ss[0].UserAgent; !utf8.ValidString(got) || len(got) > 512 || len(got) < 500 || !strings.HasPrefix(got, "Mozilla/5.0 \u20ac") {
			t.Fatalf("the session's user agent: %q", got)
		}

		b = e.browser()
		p = f.loginPage(b)
		form = url.Values{"id": {field(t, idField, p.body)}, "csrf_token": {field(t, csrfField, p.body)}, "email": {f.email}, "password": {f.password}}
		if resp := rawPost(t, e, b, f.issuer+"/login", form, ua[:300]+"\x00"+ua[300:]); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a user agent holding a NUL byte: %d, want 400", resp.StatusCode)
		}
	})
}
