package tenants

import (
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
