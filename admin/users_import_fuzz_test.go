package admin

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/tenants/password"
)

// FuzzParseRecord feeds arbitrary lines to the import's line parser: it
// never panics, and what it accepts keeps the format's bounds.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com"}`,
		`{"id":"auth0|1","email":"a@example.com","email_verified":true,"name":"A","password_hash":"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}`,
		`{"email":"a@example.com","user_metadata":{"a":[1,{"b":null}]},"identities":[{"connection":"Okta","subject":"s"}]}`,
		`{"email":"a@example.com","custom_password_hash":{"algorithm":"sha256","hash":{"value":"00"}}}`,
		`{"email":"a@example.com","roles":[]}`, `{"email":"a@example.com","roles":["admin"],"groups":["Sales","x"]}`, `{`, `[]`, `null`, `{"email":null}`,
	} {
		f.Add(s)
	}
	names := &importNames{connections: map[string]string{"Okta": "conn-1"}, roles: map[string]string{"admin": "role-1"}, groups: map[string]string{"Sales": "group-1"}}
	f.Fuzz(func(t *testing.T, line string) {
		u, err := parseRecord([]byte(line), 1, names)
		if err != nil {
			return
		}
		if ValidateEmail(u.Email) != nil || u.ID != "" && !userIDPattern.MatchString(u.ID) {
			t.Fatalf("accepted %q as %+v", line, u)
		}
		if len(u.UserMetadata) > MaxMetadata || len(u.AppMetadata) > MaxMetadata || !utf8.ValidString(u.UserMetadata) {
			t.Fatalf("accepted oversized metadata from %q", line)
		}
		if u.PasswordHash != "" {
			if again, err := password.Import([]byte(`"` + strings.ReplaceAll(u.PasswordHash, `"`, `\"`) + `"`)); err != nil || again != u.PasswordHash {
				t.Fatalf("stored hash %q does not import as itself: %v", u.PasswordHash, err)
			}
		}
		for _, id := range append(append([]string{}, u.RoleIDs...), u.GroupIDs...) {
			if id != "role-1" && id != "group-1" {
				t.Fatalf("link %q from %q", id, line)
			}
		}
		for _, x := range u.Identities {
			if x.ConnectionID != "conn-1" || x.Subject == "" {
				t.Fatalf("identity %+v from %q", x, line)
			}
		}
	})
}
