package admin

import (
	"errors"
	"testing"
)

// FuzzParseTenantFile feeds arbitrary bytes to the tenant file parser: it
// returns a file or a *FileError, and never panics.
func FuzzParseTenantFile(f *testing.F) {
	for _, s := range []string{"tenant: acme\n", "tenant: acme\nsettings: {name: A}\n", "{\"tenant\": 1}", "- a\n- b\n", "a: &x [*x]\n", "tenant: acme\napis: [{audience: x, scopes: [{value: y}]}]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tf, err := ParseTenantFile(raw)
		var fe *FileError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error of another type: %T %v", err, err)
		}
		if err == nil && tf == nil {
			t.Fatal("no file and no error")
		}
	})
}

// FuzzDecodeTenantDocument feeds arbitrary bytes to the tenant document
// decoder: it never panics.
func FuzzDecodeTenantDocument(f *testing.F) {
	f.Add([]byte(`{"format":"gatehouse.tenant","version":1,"source":{"slug":"a"},"applications":[{"client_id":"x"}]}`))
	f.Add([]byte(`{"users":[{"email":"a@b.c"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = DecodeTenantDocument(raw)
	})
}
