package tenants

import (
	netmail "net/mail"
	"strings"
	"unicode/utf8"
)

// Truncate returns s with invalid UTF-8 and NUL bytes removed, cut to at
// most n bytes at a rune boundary: what a text column may keep of a value
// someone else chose (a user agent, a name typed in a form, a reason, an
// upstream's claim). PostgreSQL refuses both a NUL and a multibyte
// character split by a blind cut in text.
func Truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// MaxEmail is the longest email address kept (RFC 5321's path limit).
const MaxEmail = 254

// PlainEmail returns s, trimmed, when it is a plain email address (no
// display name, no comment, no whitespace inside) of at most MaxEmail bytes
// with a dotted domain: the one rule for addresses typed by users and
// asserted by upstreams.
func PlainEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxEmail || strings.ContainsAny(s, " \t\r\n<>,;\"()") {
		return "", false
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return s, true
}
