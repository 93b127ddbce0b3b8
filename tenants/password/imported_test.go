package password

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants/password/hashtest"
)

// TestImportEveryFormat: a hash of each format another platform exports
// is accepted, verifies its password (and no other) and asks for a
// rehash to the Hasher's argon2id, which then verifies without one.
func TestImportEveryFormat(t *testing.T) {
	ctx := context.Background()
	h := New(small, Bound{})
	const pw = "correct horse battery staple"
	for _, f := range hashtest.All(pw) {
		t.Run(f.Name, func(t *testing.T) {
			stored, err := Import(f.JSON)
			if err != nil {
				t.Fatalf("Import(%s): %v", f.JSON, err)
			}
			again, err := Import(mustJSON(stored))
			if err != nil || again != stored {
				t.Fatalf("the stored form must import as itself: %q, %v", again, err)
			}
			if _, err := h.Verify(ctx, stored, pw+"!"); !errors.Is(err, ErrMismatch) {
				t.Fatalf("wrong password: %v", err)
			}
			rehash, err := h.Verify(ctx, stored, pw)
			if err != nil {
				t.Fatalf("Verify(%q): %v", stored, err)
			}
			if !rehash && !strings.HasPrefix(stored, "$argon2id$") {
				t.Fatalf("an imported %s hash must ask for a rehash", f.Name)
			}
			if _, err := h.Verify(ctx, stored, pw+strings.Repeat("x", MaxLength)); !errors.Is(err, ErrMismatch) {
				t.Fatalf("an overlong password must not match: %v", err)
			}
		})
	}
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// TestImportRefuses: unknown formats, malformed hashes and costs out of
// bounds are refused before anything is stored.
func TestImportRefuses(t *testing.T) {
	b := hashtest.Bcrypt("pw", 10, "2b")
	for _, tc := range []struct {
		name, raw string
		unknown   bool
		want      string
	}{
		{name: "empty string", raw: `""`, unknown: true},
		{name: "plain md5 hex", raw: `"5f4dcc3b5aa765d61d8327deb882cf99"`, unknown: true},
		{name: "number", raw: `42`, want: "string or an object"},
		{name: "unknown object", raw: `{"foo":1}`, unknown: true},
		{name: "bcrypt cost 31", raw: `"` + b[:4] + "31" + b[6:] + `"`, want: "bcrypt cost 31"},
		{name: "bcrypt cost 9", raw: `"` + b[:4] + "09" + b[6:] + `"`, want: "bcrypt cost 09"},
		{name: "bcrypt cost 15", raw: `"` + b[:4] + "15" + b[6:] + `"`, want: "bcrypt cost 15"},
		{name: "bcrypt $2x$", raw: `"$2x$` + b[4:] + `"`, want: "malformed bcrypt"},
		{name: "bcrypt short", raw: `"` + b[:50] + `"`, want: "malformed bcrypt"},
		{name: "argon2id 4 GiB", raw: `"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "out of bounds"},
		{name: "argon2id t=1000", raw: `"$argon2id$v=19$m=1024,t=1000,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "out of bounds"},
		{name: "argon2 v=16", raw: `"$argon2i$v=16$m=1024,t=1,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "version"},
		{name: "argon2d", raw: `"$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, unknown: true},
		{name: "scrypt ln=24", raw: `"$scrypt$ln=24,r=8,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "out of bounds"},
		{name: "scrypt p huge", raw: `"$scrypt$ln=14,r=8,p=16$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "out of bounds"},
		{name: "pbkdf2 2M iterations", raw: `"$pbkdf2-sha256$i=2000000$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "iterations out of bounds"},
		{name: "pbkdf2 md5", raw: `"$pbkdf2-md5$i=1000$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "not supported"},
		{name: "Django 2M iterations", raw: `"pbkdf2_sha256$2000000$salt$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`, want: "iterations out of bounds"},
		{name: "Django bcrypt_sha256", raw: `"bcrypt_sha256$$2b$12$abc"`, unknown: true},
		{name: "Keycloak 10M iterations", raw: `{"type":"password","hashedSaltedValue":"ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0","salt":"c2FsdA==","hashIterations":10000000,"algorithm":"pbkdf2-sha256"}`, want: "iterations out of bounds"},
		{name: "Keycloak argon2", raw: `{"secretData":"{}","credentialData":"{\"algorithm\":\"argon2\",\"hashIterations\":5}"}`, want: "not supported"},
		{name: "Keycloak otp", raw: `{"type":"otp","hashIterations":1,"algorithm":"pbkdf2"}`, want: "not a password"},
		{name: "Auth0 ldap", raw: `{"algorithm":"ldap","hash":{"value":"{SSHA}abc"}}`, want: "not supported"},
		{name: "Auth0 bcrypt cost 20", raw: `{"algorithm":"bcrypt","hash":{"value":"` + b[:4] + "20" + b[6:] + `"}}`, want: "bcrypt cost 20"},
		{name: "Auth0 sha256 short", raw: `{"algorithm":"sha256","hash":{"value":"abcd"}}`, want: "malformed"},
		{name: "Auth0 bad salt position", raw: `{"algorithm":"sha1","hash":{"value":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"},"salt":{"value":"x","position":"middle"}}`, want: "position"},
		{name: "too long", raw: `"` + strings.Repeat("a", 5000) + `"`, want: "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Import([]byte(tc.raw))
			if err == nil {
				t.Fatalf("Import(%s) = %q, want an error", tc.raw, got)
			}
			if tc.unknown != errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("Import(%s): %v, unknown format %v", tc.raw, err, tc.unknown)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Import(%s): %q does not say %q", tc.raw, err, tc.want)
			}
		})
	}
}

// TestImportBoundsAdmitDefaults: the bounds admit what platforms use by
// default: bcrypt 14, Django's 600,000 PBKDF2 iterations.
func TestImportBoundsAdmitDefaults(t *testing.T) {
	b := hashtest.Bcrypt("pw", 10, "2b")
	for _, raw := range []string{
		`"` + b[:4] + "14" + b[6:] + `"`,
		`"pbkdf2_sha256$600000$salt$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGk="`,
		`"$pbkdf2-sha512$i=1000000$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`,
		`"$argon2id$v=19$m=262144,t=10,p=4$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`,
		`"$scrypt$ln=17,r=8,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0"`,
	} {
		if _, err := Import([]byte(raw)); err != nil {
			t.Errorf("Import(%s): %v", raw, err)
		}
	}
}
