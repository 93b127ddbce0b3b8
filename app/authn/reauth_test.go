package authn

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestRecent(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    *tenants.Session
		want bool
	}{
		{"no session", nil, false},
		{"just signed in", &tenants.Session{AuthTime: now}, true},
		{"at the window's end", &tenants.Session{AuthTime: now.Add(-ReauthWindow)}, true},
		{"past the window", &tenants.Session{AuthTime: now.Add(-ReauthWindow - time.Second)}, false},
		{"an hour ago", &tenants.Session{AuthTime: now.Add(-time.Hour)}, false},
		{"in the future", &tenants.Session{AuthTime: now.Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Recent(tt.s, now); got != tt.want {
				t.Errorf("Recent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfirms(t *testing.T) {
	sess := &tenants.Session{SignInID: "sign-in-2"}
	tests := []struct {
		name string
		f    *tenants.MFAFactor
		want bool
	}{
		{"added in an earlier sign-in", &tenants.MFAFactor{Confirmed: true, AddedSignIn: "sign-in-1"}, true},
		{"from before sign-ins were recorded", &tenants.MFAFactor{Confirmed: true}, true},
		{"added in this sign-in", &tenants.MFAFactor{Confirmed: true, AddedSignIn: "sign-in-2"}, false},
		{"unconfirmed", &tenants.MFAFactor{AddedSignIn: "sign-in-1"}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Confirms(tt.f, sess); got != tt.want {
				t.Errorf("Confirms = %v, want %v", got, tt.want)
			}
		})
	}
}
