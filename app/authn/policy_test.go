package authn

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

func TestNeed(t *testing.T) {
	none, some := Factors{}, Factors{Any: true}
	tests := []struct {
		name   string
		req    Requirement
		policy string
		f      Factors
		want   string
	}{
		{"nothing asked, MFA off", Requirement{}, tenants.MFAOff, some, ""},
		{"nothing asked, optional, no factor", Requirement{}, tenants.MFAOptional, none, ""},
		{"nothing asked, optional, a factor", Requirement{}, tenants.MFAOptional, some, ACRMFA},
		{"nothing asked, required", Requirement{}, tenants.MFARequired, none, ACRMFA},
		{"phishing resistance asked, MFA off", Requirement{ACR: ACRPhishingResistant}, tenants.MFAOff, none, ACRPhishingResistant},
		{"MFA asked, required", Requirement{ACR: ACRMFA}, tenants.MFARequired, some, ACRMFA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Need(tt.req, tt.policy, tt.f); got != tt.want {
				t.Errorf("Need = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	single := &tenants.Session{UserID: "u1", AuthTime: now.Add(-time.Hour), AMR: tenants.Strings{AMRPassword}}
	mfa := &tenants.Session{UserID: "u1", AuthTime: now.Add(-time.Hour), AMR: tenants.Strings{AMRPassword, AMROTP, AMRMFA}, ACR: ACRMFA}
	passkey := &tenants.Session{UserID: "u1", AuthTime: now.Add(-time.Hour), ACR: ACRPhishingResistant}
	age := func(n int64) *int64 { return &n }
	tests := []struct {
		name   string
		s      *tenants.Session
		req    Requirement
		policy string
		f      Factors
		want   Verdict
	}{
		{"no session", nil, Requirement{}, tenants.MFAOptional, Factors{}, SignIn},
		{"a session answers", single, Requirement{}, tenants.MFAOptional, Factors{}, Satisfied},
		{"another user's hint", single, Requirement{Subject: "u2"}, tenants.MFAOptional, Factors{}, SignIn},
		{"the session user's hint", single, Requirement{Subject: "u1"}, tenants.MFAOptional, Factors{}, Satisfied},
		{"prompt=login", mfa, Requirement{Prompt: []string{PromptLogin}}, tenants.MFAOptional, Factors{}, SignIn},
		{"max_age=0", mfa, Requirement{MaxAge: age(0)}, tenants.MFAOptional, Factors{}, SignIn},
		{"max_age exceeded", mfa, Requirement{MaxAge: age(3599)}, tenants.MFAOptional, Factors{}, SignIn},
		{"max_age met", mfa, Requirement{MaxAge: age(3600)}, tenants.MFAOptional, Factors{}, Satisfied},
		{"MFA asked of a single-factor session", single, Requirement{ACR: ACRMFA}, tenants.MFAOptional, Factors{Any: true}, StepUp},
		{"MFA asked of an MFA session", mfa, Requirement{ACR: ACRMFA}, tenants.MFAOptional, Factors{Any: true}, Satisfied},
		{"phishing resistance asked of an MFA session", mfa, Requirement{ACR: ACRPhishingResistant}, tenants.MFAOptional, Factors{Any: true}, StepUp},
		{"phishing resistance asked of a passkey session", passkey, Requirement{ACR: ACRPhishingResistant}, tenants.MFAOptional, Factors{Any: true}, Satisfied},
		// The tenant raised its policy after the session signed in.
		{"policy now required, single-factor session", single, Requirement{}, tenants.MFARequired, Factors{}, StepUp},
		{"policy now required, MFA session", mfa, Requirement{}, tenants.MFARequired, Factors{Any: true}, Satisfied},
		{"optional, the user added a factor since", single, Requirement{}, tenants.MFAOptional, Factors{Any: true}, StepUp},
		{"MFA off, a factor", single, Requirement{}, tenants.MFAOff, Factors{Any: true}, Satisfied},
		{"sign-in rules come before the policy", single, Requirement{Prompt: []string{PromptLogin}}, tenants.MFARequired, Factors{}, SignIn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Judge(tt.s, tt.req, tt.policy, tt.f, now); got != tt.want {
				t.Errorf("Judge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name          string
		need, reached string
		f             Factors
		want          Step
	}{
		{"nothing needed", "", "", Factors{}, Done},
		{"MFA needed, password reached, a code", ACRMFA, "", Factors{Any: true}, SecondFactor},
		{"MFA needed, nothing set up", ACRMFA, "", Factors{}, Enrol},
		{"MFA needed, a passkey login reached it", ACRMFA, ACRPhishingResistant, Factors{Any: true, WebAuthn: true}, Done},
		{"phishing resistance, only an app", ACRPhishingResistant, "", Factors{Any: true}, Unreachable},
		{"phishing resistance, a passkey", ACRPhishingResistant, "", Factors{Any: true, WebAuthn: true}, SecondFactor},
		{"phishing resistance, nothing set up", ACRPhishingResistant, "", Factors{}, Enrol},
		{"phishing resistance after a code", ACRPhishingResistant, ACRMFA, Factors{Any: true, WebAuthn: true}, SecondFactor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Next(tt.need, tt.reached, tt.f); got != tt.want {
				t.Errorf("Next = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStrongestAndMeets(t *testing.T) {
	if got := Strongest([]string{"urn:unknown", ACRMFA, ACRPhishingResistant}); got != ACRPhishingResistant {
		t.Errorf("Strongest = %q", got)
	}
	if got := Strongest([]string{"urn:unknown", "0"}); got != "" {
		t.Errorf("Strongest of unknown values = %q, want none", got)
	}
	for _, tt := range []struct {
		have, want string
		ok         bool
	}{
		{"", "", true}, {"", ACRMFA, false}, {ACRMFA, ACRMFA, true}, {ACRPhishingResistant, ACRMFA, true},
		{ACRMFA, ACRPhishingResistant, false}, {ACRPhishingResistant, ACRPhishingResistant, true},
	} {
		if got := Meets(tt.have, tt.want); got != tt.ok {
			t.Errorf("Meets(%q, %q) = %v", tt.have, tt.want, got)
		}
	}
}

func TestFamilyMeetsPolicy(t *testing.T) {
	for _, tc := range []struct {
		acr, policy string
		want        bool
	}{
		{"", tenants.MFAOff, true},
		{"", tenants.MFAOptional, true},
		{"", tenants.MFARequired, false},
		{ACRMFA, tenants.MFARequired, true},
		{ACRPhishingResistant, tenants.MFARequired, true},
		{"", "", true},
	} {
		if got := FamilyMeetsPolicy(tc.acr, tc.policy); got != tc.want {
			t.Errorf("FamilyMeetsPolicy(%q, %q) = %v, want %v", tc.acr, tc.policy, got, tc.want)
		}
	}
}
