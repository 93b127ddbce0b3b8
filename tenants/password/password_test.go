package password

import (
	"strings"
	"testing"
)

func TestHashVerifyAndRehash(t *testing.T) {
	weak := New(Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16})
	strong := New(Params{Memory: 2048, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16})
	h := weak.Hash("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("PHC string %q", h)
	}
	if rehash, err := weak.Verify(h, "correct horse battery staple"); err != nil || rehash {
		t.Fatalf("same parameters: rehash=%v err=%v", rehash, err)
	}
	if rehash, err := strong.Verify(h, "correct horse battery staple"); err != nil || !rehash {
		t.Fatalf("stronger parameters must ask for a rehash: rehash=%v err=%v", rehash, err)
	}
	if _, err := weak.Verify(h, "correct horse battery stapl"); err != ErrMismatch {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := weak.Verify(h, "correct horse battery staple"+strings.Repeat("x", MaxLength)); err != ErrMismatch {
		t.Fatalf("an overlong password must not match (no truncation): %v", err)
	}
	for _, bad := range []string{"", "$2y$10$abc", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=18$m=1024,t=1,p=1$c2FsdA$aGFzaA"} {
		if _, err := weak.Verify(bad, "x"); err == nil || err == ErrMismatch {
			t.Fatalf("malformed hash %q: %v", bad, err)
		}
	}
}

func TestCommonPasswords(t *testing.T) {
	c, err := LoadCommon()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.set) < 40000 {
		t.Fatalf("only %d common passwords loaded", len(c.set))
	}
	for _, pw := range []string{"password", "PASSWORD", " qwerty ", "123456654321", "qazwsxedcrfv"} {
		if !c.Contains(pw) {
			t.Errorf("%q is not found", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "Gatehouse-2026-is-fine"} {
		if c.Contains(pw) {
			t.Errorf("%q is found", pw)
		}
	}
}
