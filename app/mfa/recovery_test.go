package mfa

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestRecoveryCode(t *testing.T) {
	seen := map[rune]int{}
	for range 2000 {
		code, err := recoveryCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 11 || code[5] != '-' {
			t.Fatalf("code %q: want xxxxx-xxxxx", code)
		}
		for _, r := range strings.ReplaceAll(code, "-", "") {
			if !strings.ContainsRune(recoveryAlphabet, r) {
				t.Fatalf("code %q has %q", code, r)
			}
			seen[r]++
		}
		if normalizeRecovery(strings.ToUpper(" "+code+" ")) != strings.ReplaceAll(code, "-", "") {
			t.Fatalf("%q does not normalise to itself", code)
		}
	}
	for _, lookAlike := range "01ilo" {
		if strings.ContainsRune(recoveryAlphabet, lookAlike) {
			t.Errorf("the alphabet has the look-alike %q", lookAlike)
		}
	}
	if len(seen) != len(recoveryAlphabet) {
		t.Errorf("%d of %d symbols drawn in 20000", len(seen), len(recoveryAlphabet))
	}
	for r, n := range seen { // about 645 each
		if n < 450 || n > 850 {
			t.Errorf("symbol %q drawn %d times of 20000: not uniform", r, n)
		}
	}
}

func TestRecoveryCodeRejectsBiasedBytes(t *testing.T) {
	// 248 = 256 - 256%31: bytes from it on are skipped, the next used.
	code, err := recoveryCode(bytes.NewReader([]byte{255, 248, 0, 1, 2, 3, 4, 30, 31, 32, 33, 34}))
	if err != nil {
		t.Fatal(err)
	}
	if code != "23456-z2345" {
		t.Fatalf("code %q", code)
	}
	if _, err := recoveryCode(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("a short reader gave a code")
	}
}
