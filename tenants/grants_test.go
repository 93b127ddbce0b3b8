package tenants

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestGrantRegistry(t *testing.T) {
	names := GrantNames()
	if want := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantDeviceCode, GrantTokenExchange}; !slices.Equal(names, want) {
		t.Fatalf("GrantNames = %v, want %v", names, want)
	}
	seen := map[string]bool{}
	for i, g := range GrantTypes() {
		if g.Name != names[i] {
			t.Errorf("GrantTypes()[%d] = %s, GrantNames()[%d] = %s", i, g.Name, i, names[i])
		}
		if seen[g.Name] {
			t.Errorf("%s registered twice", g.Name)
		}
		seen[g.Name] = true
		if g.Label == "" || g.Help == "" {
			t.Errorf("%s: a label and a help line are needed", g.Name)
		}
		if strings.ContainsAny(g.Help, "\n") {
			t.Errorf("%s: help is one line", g.Name)
		}
		if slices.Contains(retiredGrants, g.Name) {
			t.Errorf("%s is both registered and retired", g.Name)
		}
		for _, need := range g.Needs {
			n, ok := LookupGrant(need)
			if !ok {
				t.Errorf("%s needs %s, which is not registered", g.Name, need)
			}
			if need == g.Name || len(n.Needs) > 0 {
				t.Errorf("%s needs %s, which needs something itself", g.Name, need)
			}
		}
	}
	// The copy is the caller's.
	gs := GrantTypes()
	gs[0].Name = "changed"
	if GrantTypes()[0].Name != GrantAuthorizationCode {
		t.Fatal("GrantTypes returned the registry itself")
	}
}

func TestGrantProperties(t *testing.T) {
	tests := []struct {
		name                                 string
		public, redirect, machine, isDefault bool
		needs                                []string
	}{
		{GrantAuthorizationCode, true, true, false, true, nil},
		{GrantRefreshToken, true, false, false, true, []string{GrantAuthorizationCode, GrantDeviceCode}},
		{GrantClientCredentials, false, false, true, true, nil},
		{GrantDeviceCode, true, false, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ok := LookupGrant(tt.name)
			if !ok {
				t.Fatal("not registered")
			}
			if g.Public != tt.public || g.Redirect != tt.redirect || g.Machine != tt.machine || g.Default != tt.isDefault || !slices.Equal(g.Needs, tt.needs) {
				t.Fatalf("%+v", g)
			}
		})
	}
	for _, n := range []string{"", "implicit", "password", "AUTHORIZATION_CODE", "authorization_code ", "device_code", "urn:ietf:params:oauth:grant-type:device_code "} {
		if _, ok := LookupGrant(n); ok {
			t.Errorf("LookupGrant(%q) found a grant", n)
		}
	}
}

func TestDefaultGrantTypes(t *testing.T) {
	got := DefaultGrantTypes()
	if want := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}; !slices.Equal(got, want) {
		t.Fatalf("DefaultGrantTypes = %v, want %v", got, want)
	}
	if err := CheckGrantTypes(got); err != nil {
		t.Fatalf("the defaults do not pass their own check: %v", err)
	}
}

func TestCheckGrantTypes(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		name    string
		in      []string
		wantErr bool
		want    string // in the message
	}{
		{name: "none", in: nil},
		{name: "empty list", in: []string{}},
		{name: "all", in: GrantNames()},
		{name: "any order", in: []string{GrantClientCredentials, GrantAuthorizationCode}},
		{name: "refresh alone is a set question, not this one", in: []string{GrantRefreshToken}},
		{name: "unknown", in: []string{"magic"}, wantErr: true, want: `"magic"`},
		{name: "empty name", in: []string{""}, wantErr: true, want: `""`},
		{name: "case matters", in: []string{"Authorization_Code"}, wantErr: true, want: `"Authorization_Code"`},
		{name: "padded", in: []string{" refresh_token"}, wantErr: true, want: `" refresh_token"`},
		{name: "NUL", in: []string{"client_credentials\x00"}, wantErr: true, want: `"client_credentials\x00"`},
		{name: "implicit is retired", in: []string{GrantAuthorizationCode, "implicit"}, wantErr: true, want: "implicit grant is not supported"},
		{name: "password is retired", in: []string{"password"}, wantErr: true, want: "password grant is not supported"},
		{name: "repeated", in: []string{GrantAuthorizationCode, GrantRefreshToken, GrantAuthorizationCode}, wantErr: true, want: "authorization_code is listed twice"},
		{name: "first bad value is named", in: []string{GrantAuthorizationCode, "one", "two"}, wantErr: true, want: `"one"`},
		{name: "huge value is cut", in: []string{huge}, wantErr: true, want: `x"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckGrantTypes(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckGrantTypes(%.80q) = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil {
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "grant_types" {
				t.Fatalf("error %v is not a grant_types ValidationError", err)
			}
			if !strings.Contains(ve.Message, tt.want) {
				t.Fatalf("message %q does not contain %q", ve.Message, tt.want)
			}
			if len(ve.Message) > 300 {
				t.Fatalf("message is %d bytes long", len(ve.Message))
			}
		})
	}
}

func TestGrantNeeds(t *testing.T) {
	refresh, _ := LookupGrant(GrantRefreshToken)
	tests := []struct {
		name  string
		names []string
		want  bool
	}{
		{"with the code grant", []string{GrantAuthorizationCode, GrantRefreshToken}, true},
		{"with the device grant", []string{GrantDeviceCode, GrantRefreshToken}, true},
		{"alone", []string{GrantRefreshToken}, false},
		{"with client credentials only", []string{GrantClientCredentials, GrantRefreshToken}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refresh.NeedsMet(tt.names); got != tt.want {
				t.Fatalf("NeedsMet(%v) = %v, want %v", tt.names, got, tt.want)
			}
		})
	}
	if w := refresh.NeedsWords(); w != GrantAuthorizationCode+" or "+GrantDeviceCode {
		t.Errorf("NeedsWords = %q", w)
	}
	if code, _ := LookupGrant(GrantAuthorizationCode); !code.NeedsMet(nil) || code.NeedsWords() != "" {
		t.Error("a grant that needs nothing")
	}
	// The registry's Needs are not the caller's to change.
	GrantTypes()[1].Needs[0] = "changed"
	if g, _ := LookupGrant(GrantRefreshToken); g.Needs[0] != GrantAuthorizationCode {
		t.Fatal("GrantTypes shares Needs with the registry")
	}
}
