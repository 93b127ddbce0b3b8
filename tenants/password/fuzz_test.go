package password

import (
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-id/gatehouse/tenants/password/hashtest"
)

// FuzzDecode feeds arbitrary strings to the PHC parser that reads every
// stored password hash. It must never panic, must keep its parameter
// bounds (a stored hash decides how much memory Verify allocates), and
// must accept only the canonical form Hash writes: what it accepts
// re-encodes to exactly the input.
func FuzzDecode(f *testing.F) {
	h := New(small, Bound{})
	good, err := h.Hash(f.Context(), "correct horse battery staple")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		good,
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2id$v=16$m=1024,t=1,p=1$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2id$v=19$m=1024,t=1,p=256$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2id$v=19$m=1024,t=1,p=1x$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2id$v=19$m=-1,t=1,p=1$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0",
		"$argon2id$v=19$m=1024,t=1,p=1$$",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"", "$", "$$$$$", "\x00$argon2id",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		p, salt, key, err := decode(encoded)
		if err != nil {
			return
		}
		if p.Memory == 0 || p.Memory > 4*1024*1024 || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
			t.Fatalf("decode(%q) accepted out-of-range parameters %+v", encoded, p)
		}
		if len(key) < 16 {
			t.Fatalf("decode(%q) accepted a %d-byte hash", encoded, len(key))
		}
		b64 := base64.RawStdEncoding
		again := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
			argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
		if again != encoded {
			t.Fatalf("decode accepted the non-canonical %q (canonical: %q)", encoded, again)
		}
	})
}

// FuzzImport feeds arbitrary password_hash values to the import's parsers.
// They must never panic, and what they accept must be a stored form that
// Verify reads within its bounds and that imports as itself (so that an
// export imports unchanged).
func FuzzImport(f *testing.F) {
	for _, fx := range hashtest.All("pw") {
		f.Add(string(fx.JSON))
	}
	for _, s := range []string{
		`"$2b$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"`,
		`"$scrypt$ln=30,r=8,p=1$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0"`,
		`"pbkdf2_sha256$99999999999999999999$salt$aGFzaA=="`,
		`{"algorithm":"sha256","hash":{"value":"zz"},"salt":{"value":"","position":"prefix"}}`,
		`{"secretData":"{\"value\":1}","credentialData":"[]"}`,
		`"$pbkdf2-sha1$i=1,l=999$c2FsdA$ZGlnZXN0ZGlnZXN0ZGlnZXN0"`,
		`null`, `{}`, `"`, `""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		stored, err := Import([]byte(raw))
		if err != nil {
			return
		}
		fv, err := parseStored(stored)
		if err != nil {
			t.Fatalf("Import(%q) = %q, which Verify cannot read: %v", raw, stored, err)
		}
		if fv.memory > MaxArgon2Memory || fv.memory > MaxScryptMemory {
			t.Fatalf("Import(%q) accepted %d KiB", raw, fv.memory)
		}
		again, err := Import(mustJSON(stored))
		if err != nil || again != stored {
			t.Fatalf("stored form %q imports as %q, %v", stored, again, err)
		}
	})
}
