package web

import "testing"

func TestFormActionSource(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"https://app.example.com/cb?x=1", "https://app.example.com"},
		{"http://127.0.0.1:9000/cb", "http://127.0.0.1:9000"},
		{"http://[::1]:9000/cb", "http://[::1]:9000"},
		{"com.example.app:/callback", "com.example.app:"},
		{"https://app.example.com;script-src *", ""},
		{"https://a b/cb", ""},
		{"", ""},
		{"::", ""},
	} {
		if got := formActionSource(tc.uri); got != tc.want {
			t.Errorf("formActionSource(%q) = %q, want %q", tc.uri, got, tc.want)
		}
	}
}
