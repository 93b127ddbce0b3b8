package oidc

import (
	"net/http"
	"testing"
)

func TestWantsIntrospectionJWT(t *testing.T) {
	for _, tc := range []struct {
		name   string
		accept []string
		want   bool
	}{
		{"no Accept", nil, false},
		{"JSON", []string{"application/json"}, false},
		{"any", []string{"*/*"}, false},
		{"the JWT type", []string{"application/token-introspection+jwt"}, true},
		{"upper case", []string{"Application/Token-Introspection+JWT"}, true},
		{"in a list with parameters", []string{"application/json;q=0.9, application/token-introspection+jwt; charset=utf-8"}, true},
		{"in a second header", []string{"application/json", "application/token-introspection+jwt"}, true},
		{"q=0 refuses it", []string{"application/token-introspection+jwt;q=0"}, false},
		{"q=0.000 refuses it", []string{"application/token-introspection+jwt;q=0.000"}, false},
		{"a small q still asks", []string{"application/token-introspection+jwt;q=0.05"}, true},
		{"a bad q", []string{"application/token-introspection+jwt;q=x"}, false},
		{"a lookalike", []string{"application/token-introspection+jwt-not"}, false},
		{"garbage", []string{";;;,,,"}, false},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		for _, a := range tc.accept {
			r.Header.Add("Accept", a)
		}
		if got := wantsIntrospectionJWT(r); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
