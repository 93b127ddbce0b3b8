package tenants

import (
	"strings"
	"unicode/utf8"
)

// Truncate returns s with invalid UTF-8 removed, cut to at most n bytes at
// a rune boundary: what a text column may keep of a value someone else
// chose (a user agent, a name typed in a form, a reason). Cutting bytes
// blindly can split a multibyte character, which PostgreSQL refuses in
// text.
func Truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
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
