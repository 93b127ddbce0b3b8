package federation

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	base := Identity{Issuer: "https://idp.test", Subject: "s1", Email: "ann@acme.test", EmailVerified: true}
	for _, tt := range []struct {
		name      string
		edit      func(*Identity)
		refused   bool
		email     string
		verified  bool
		givenName string
		groups    int
	}{
		{name: "clean", edit: func(*Identity) {}, email: "ann@acme.test", verified: true},
		{name: "NUL in subject", edit: func(id *Identity) { id.Subject = "s\x00" }, refused: true},
		{name: "escape in issuer", edit: func(id *Identity) { id.Issuer = "https://idp.test/\x1b" }, refused: true},
		{name: "long subject", edit: func(id *Identity) { id.Subject = strings.Repeat("s", MaxSubject+1) }, refused: true},
		{name: "spaced subject", edit: func(id *Identity) { id.Subject = " s1" }, refused: true},
		{name: "invalid UTF-8 subject", edit: func(id *Identity) { id.Subject = "s\xff" }, refused: true},
		{name: "NUL in email", edit: func(id *Identity) { id.Email = "ann\x00@acme.test" }},
		{name: "long email", edit: func(id *Identity) { id.Email = strings.Repeat("a", 250) + "@acme.test" }},
		{name: "display name email", edit: func(id *Identity) { id.Email = "Ann <ann@acme.test>" }},
		{name: "spaces around email", edit: func(id *Identity) { id.Email = " ann@acme.test " }, email: "ann@acme.test", verified: true},
		{name: "unverified email kept unverified", edit: func(id *Identity) { id.EmailVerified = false }, email: "ann@acme.test"},
		{name: "names", edit: func(id *Identity) { id.GivenName = "\x00\u202eA\u2028n\tn\x07 " }, email: "ann@acme.test", verified: true, givenName: "An n"},
		{name: "groups", edit: func(id *Identity) {
			for i := range 1000 {
				id.Groups = append(id.Groups, strings.Repeat("g", i%3)+"\x00")
			}
			for i := range 1000 {
				id.Groups = append(id.Groups, strings.Repeat("h", i+1))
			}
		}, email: "ann@acme.test", verified: true, groups: MaxGroups},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			tt.edit(&in)
			got, err := Clean(&in)
			if tt.refused {
				if err == nil {
					t.Fatalf("Clean accepted %+v", in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != tt.email || got.EmailVerified != tt.verified || got.GivenName != tt.givenName || len(got.Groups) != tt.groups {
				t.Fatalf("Clean = %q %v %q %d groups", got.Email, got.EmailVerified, got.GivenName, len(got.Groups))
			}
			for _, g := range got.Groups {
				if len(g) > MaxGroup || g == "" || strings.ContainsRune(g, 0) {
					t.Fatalf("group %q", g)
				}
			}
		})
	}
}
