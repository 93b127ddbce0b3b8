package federation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// Bounds of what an upstream's identity may hold.
const (
	// MaxIssuer and MaxSubject bound the identity's key. A key beyond them
	// is refused, not cut: a cut subject could name another identity.
	MaxIssuer  = 1024
	MaxSubject = 512
	// MaxEmail is the longest address kept (tenants.MaxEmail).
	MaxEmail = tenants.MaxEmail
	// MaxName bounds each of the names; MaxGroup each group, and
	// MaxGroups how many are kept.
	MaxName   = 256
	MaxGroup  = 256
	MaxGroups = 256
)

// Clean is the one place an upstream's assertion about its user becomes
// Gatehouse's: every connector's identity passes it before anything is
// stored or looked up. What an upstream sends is its own text — it may
// hold NUL bytes (which PostgreSQL refuses in text), invalid UTF-8,
// control characters (escape sequences for an admin's terminal, line
// separators in a log) or no bound on length. The issuer and subject must
// be clean as given or the identity is refused; an address that is not a
// plain address within MaxEmail bytes is dropped (and with it the claim
// that it is verified); names and groups lose what is unsafe and are cut
// at a character.
func Clean(id *Identity) (*Identity, error) {
	out := *id
	if !cleanKey(id.Issuer, MaxIssuer) || !cleanKey(id.Subject, MaxSubject) {
		return nil, Reject("the upstream identity's issuer or subject is malformed", nil)
	}
	out.Email = ""
	out.EmailVerified = false
	if e, ok := plainEmail(id.Email); ok {
		out.Email, out.EmailVerified = e, id.EmailVerified
	}
	out.Name = cleanText(id.Name, MaxName)
	out.GivenName = cleanText(id.GivenName, MaxName)
	out.FamilyName = cleanText(id.FamilyName, MaxName)
	out.Groups = nil
	seen := map[string]bool{}
	for _, g := range id.Groups {
		if len(out.Groups) == MaxGroups {
			break
		}
		if g = cleanText(g, MaxGroup); g != "" && !seen[g] {
			seen[g] = true
			out.Groups = append(out.Groups, g)
		}
	}
	return &out, nil
}

// cleanKey reports whether s can key an identity as given: not empty,
// valid UTF-8 of at most n bytes, with no control or invisible formatting
// character and no surrounding space.
func cleanKey(s string, n int) bool {
	return s != "" && len(s) <= n && utf8.ValidString(s) && !strings.ContainsFunc(s, unsafeRune) && strings.TrimSpace(s) == s
}

// cleanText is s without invalid UTF-8, control characters, line or
// paragraph separators and bidirectional overrides, its runs of space
// made one, cut to n bytes at a character.
func cleanText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		if r == utf8.RuneError || unsafeRune(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	return tenants.Truncate(strings.Join(strings.Fields(s), " "), n)
}

// unsafeRune reports a character no name or key of someone else's should
// hold: control characters (NUL among them), line and paragraph
// separators, and the bidirectional embeddings, overrides and isolates
// that make text read otherwise than it is.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}

// plainEmail returns s, trimmed, when it is a plain address
// (tenants.PlainEmail) made of valid UTF-8 without control or bidi
// characters.
func plainEmail(s string) (string, bool) {
	if !utf8.ValidString(s) || strings.ContainsFunc(strings.TrimSpace(s), unsafeRune) {
		return "", false
	}
	return tenants.PlainEmail(s)
}
