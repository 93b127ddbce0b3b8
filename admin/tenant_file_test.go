package admin

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTenantFile(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		wantLine  int
		wantField string
		wantMsg   string
	}{
		{name: "valid", file: "tenant: acme\nsettings:\n  name: Acme\n  mfa_policy: required\napis:\n  - audience: https://api.acme.test\n    scopes:\n      - value: read:orders\n"},
		{name: "JSON is YAML", file: `{"tenant": "acme", "roles": [{"name": "clerk"}]}`},
		{name: "no tenant", file: "settings:\n  name: Acme\n", wantLine: 1, wantField: "(file)", wantMsg: "tenant"},
		{name: "unknown field", file: "tenant: acme\nsettings:\n  name: Acme\n  colour: red\n", wantLine: 4, wantField: "settings.colour", wantMsg: "colour"},
		{name: "bad enum", file: "tenant: acme\nsettings:\n  mfa_policy: sometimes\n", wantLine: 3, wantField: "settings.mfa_policy"},
		{name: "out of range", file: "tenant: acme\nsettings:\n  access_token_lifetime: 999999999\n", wantLine: 3, wantField: "settings.access_token_lifetime"},
		{name: "wrong type", file: "tenant: acme\napis:\n  - audience: https://a.test\n  - audience: 12\n", wantLine: 4, wantField: "apis[1].audience"},
		{name: "missing required in a list", file: "tenant: acme\napplications:\n  - name: web\n", wantLine: 3, wantField: "applications[0]", wantMsg: "kind"},
		{name: "bad slug", file: "tenant: ../admin\n", wantLine: 1, wantField: "tenant"},
		{name: "duplicate key", file: "tenant: acme\ntenant: beta\n", wantLine: 2, wantField: "tenant", wantMsg: "twice"},
		{name: "alias", file: "tenant: acme\nroles:\n  - &r {name: clerk}\n  - *r\n", wantLine: 4, wantMsg: "aliases"},
		{name: "not YAML", file: "tenant: [acme\n", wantLine: 1, wantField: "(file)"},
		{name: "empty", file: "", wantLine: 1, wantMsg: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseTenantFile([]byte(tt.file))
			if tt.wantLine == 0 {
				if err != nil || f.Tenant != "acme" {
					t.Fatalf("ParseTenantFile: %v %+v", err, f)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 {
				t.Fatalf("err = %v, want a FileError", err)
			}
			p := fe.Problems[0]
			if p.Line != tt.wantLine || (tt.wantField != "" && p.Field != tt.wantField) || !strings.Contains(p.Message, tt.wantMsg) {
				t.Fatalf("problem = %+v, want line %d field %q message with %q", p, tt.wantLine, tt.wantField, tt.wantMsg)
			}
		})
	}
}
