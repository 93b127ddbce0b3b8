package web

import "testing"

func TestLocalPath(t *testing.T) {
	for _, tt := range []struct{ next, want string }{
		{"/login?id=abc", "/login?id=abc"},
		{"/reset", "/reset"},
		{"", "/"},
		{"https://evil.test/", "/"},
		{"//evil.test/login", "/"},
		{"/\\evil.test", "/"},
		{"/login\r\nSet-Cookie: x=y", "/"},
		{"javascript:alert(1)", "/"},
		{"login", "/"},
		{"/" + string(make([]byte, 3000)), "/"},
	} {
		if got := LocalPath(tt.next); got != tt.want {
			t.Errorf("LocalPath(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}
