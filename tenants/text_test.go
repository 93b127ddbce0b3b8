package tenants

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "exact", in: "abcde", n: 5, want: "abcde"},
		{name: "ascii cut", in: "abcdef", n: 3, want: "abc"},
		{name: "two-byte rune straddles the cut", in: "ab\u00e9cd", n: 3, want: "ab"},
		{name: "three-byte rune straddles the cut", in: "a\u20acb", n: 2, want: "a"},
		{name: "four-byte rune straddles the cut", in: "\U0001F600x", n: 3, want: ""},
		{name: "cut after a whole rune", in: "a\u20acb", n: 4, want: "a\u20ac"},
		{name: "invalid UTF-8 dropped", in: "a\xffb", n: 10, want: "ab"},
		{name: "zero", in: "abc", n: 0, want: ""},
		{name: "NUL dropped", in: "a\x00b", n: 10, want: "ab"},
		{name: "NUL and invalid UTF-8 dropped before the cut", in: "\x00\xff\u20acb", n: 3, want: "\u20ac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.in, tt.n)
			if got != tt.want {
				t.Fatalf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if !utf8.ValidString(got) || len(got) > max(tt.n, 0) {
				t.Fatalf("Truncate(%q, %d) = %q: not valid UTF-8 within %d bytes", tt.in, tt.n, got, tt.n)
			}
		})
	}
	// A 600-byte user agent of multibyte runes, cut anywhere, stays valid.
	ua := strings.Repeat("\u00e9", 300)
	for n := 0; n <= 600; n++ {
		if got := Truncate(ua, n); !utf8.ValidString(got) {
			t.Fatalf("cut at %d: invalid UTF-8", n)
		}
	}
}

func TestPlainEmail(t *testing.T) {
	long := strings.Repeat("a", 250) + "@b.io"
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{" ann@acme.test ", "ann@acme.test", true},
		{"Ann <ann@acme.test>", "", false},
		{"ann@acme", "", false},
		{"ann@.acme.test", "", false},
		{"ann@acme.test.", "", false},
		{"@acme.test", "", false},
		{"an n@acme.test", "", false},
		{"ann\t@acme.test", "", false},
		{"ann@acme.test (work)", "", false},
		{long, "", false},
		{"", "", false},
	} {
		got, ok := PlainEmail(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("PlainEmail(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
