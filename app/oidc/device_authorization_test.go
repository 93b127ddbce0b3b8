package oidc

import (
	"strings"
	"testing"
)

func TestNormalizeUserCode(t *testing.T) {
	tests := []struct {
		name, typed, want string
		ok                bool
	}{
		{"as shown", "WDJB-MJHT", "WDJBMJHT", true},
		{"lower case", "wdjb-mjht", "WDJBMJHT", true},
		{"no dash", "wdjbmjht", "WDJBMJHT", true},
		{"spaces", " WDJB MJHT ", "WDJBMJHT", true},
		{"mixed case", "wDjB-mJhT", "WDJBMJHT", true},
		{"vowel", "WDJA-MJHT", "", false},
		{"digit", "WDJ0-MJHT", "", false},
		{"too short", "WDJB-MJH", "", false},
		{"too long", "WDJB-MJHTB", "", false},
		{"empty", "", "", false},
		{"NUL", "WDJB\x00MJHT", "", false},
		{"non-ASCII look-alike", "WDJB-MJHТ", "", false}, // Cyrillic Т
		{"huge", strings.Repeat("B", 1<<16), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NormalizeUserCode(tt.typed)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("NormalizeUserCode(%.20q) = %q, %v; want %q, %v", tt.typed, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNewUserCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for range n {
		c := newUserCode()
		norm, ok := NormalizeUserCode(FormatUserCode(c))
		if !ok || norm != c {
			t.Fatalf("code %q does not survive being shown and typed back: %q, %v", c, norm, ok)
		}
		if f := FormatUserCode(c); len(f) != 9 || f[4] != '-' {
			t.Fatalf("shown as %q", f)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	if len(seen) < n-1 {
		t.Errorf("%d distinct codes of %d", len(seen), n)
	}
	// Every letter of the alphabet is used, about evenly (8·2000/20 = 800
	// each; a biased draw would be far off).
	for _, r := range UserCodeAlphabet {
		if c := counts[r]; c < 600 || c > 1000 {
			t.Errorf("letter %c drawn %d times of %d", r, c, 8*n)
		}
	}
}
