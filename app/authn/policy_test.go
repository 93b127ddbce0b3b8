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
	single := &tenants.Session{UserID: "u1", SignInID: "s1", AuthTime: now.Add(-time.Hour), AMR: tenants.Strings{AMRPassword}}
	mfa := &tenants.Session{UserID: "u1", SignInID: "s1", AuthTime: now.Add(-time.Hour), AMR: tenants.Strings{AMRPassword, AMROTP, AMRMFA}, ACR: ACRMFA}
	passkey := &tenants.Session{UserID: "u1", SignInID: "s1", AuthTime: now.Add(-time.Hour), ACR: ACRPhishingResistant}
	age := func(n int64) *int64 { return &n }
	// The user's factors: an app they had before the session signed in,
	// a passkey too, and an app added in the session's own sign-in (by a
	// stolen session, say).
	app := []tenants.MFAFactor{{Type: tenants.FactorTOTP, Confirmed: true, AddedSignIn: "s0"}}
	key := []tenants.MFAFactor{{Type: tenants.FactorTOTP, Confirmed: true}, {Type: tenants.FactorWebAuthn, Confirmed: true, AddedSignIn: "s0"}}
	own := []tenants.MFAFactor{{Type: tenants.FactorTOTP, Confirmed: true, AddedSignIn: "s1"}}
	ownKey := []tenants.MFAFactor{{Type: tenants.FactorTOTP, Confirmed: true, AddedSignIn: "s0"}, {Type: tenants.FactorWebAuthn, Confirmed: true, AddedSignIn: "s1"}}
	pending := []tenants.MFAFactor{{Type: tenants.FactorTOTP, AddedSignIn: "s0"}}
	none := []string{PromptNone}
	tests := []struct {
		name   string
		s      *tenants.Session
		req    Requirement
		policy string
		fs     []tenants.MFAFactor
		want   Verdict
	}{
		{"no session", nil, Requirement{}, tenants.MFAOptional, nil, SignIn},
		{"a session answers", single, Requirement{}, tenants.MFAOptional, nil, Satisfied},
		{"another user's hint", single, Requirement{Subject: "u2"}, tenants.MFAOptional, nil, SignIn},
		{"the session user's hint", single, Requirement{Subject: "u1"}, tenants.MFAOptional, nil, Satisfied},
		{"prompt=login", mfa, Requirement{Prompt: []string{PromptLogin}}, tenants.MFAOptional, app, SignIn},
		// One session per browser: the account is chosen by signing in.
		{"prompt=select_account", mfa, Requirement{Prompt: []string{PromptSelectAccount}}, tenants.MFAOptional, app, SignIn},
		{"prompt=consent keeps the session", single, Requirement{Prompt: []string{PromptConsent}}, tenants.MFAOff, nil, Satisfied},
		{"max_age=0", mfa, Requirement{MaxAge: age(0)}, tenants.MFAOptional, app, SignIn},
		{"max_age exceeded", mfa, Requirement{MaxAge: age(3599)}, tenants.MFAOptional, app, SignIn},
		{"max_age exceeded, MFA asked: the password, not the code alone", single, Requirement{MaxAge: age(60), ACR: ACRMFA}, tenants.MFAOptional, app, SignIn},
		{"max_age, an auth_time in the future", &tenants.Session{UserID: "u1", AuthTime: now.Add(time.Hour)}, Requirement{MaxAge: age(3600)}, tenants.MFAOff, nil, SignIn},
		{"max_age met", mfa, Requirement{MaxAge: age(3600)}, tenants.MFAOptional, app, Satisfied},
		{"MFA asked of a single-factor session", single, Requirement{ACR: ACRMFA}, tenants.MFAOptional, app, StepUp},
		{"MFA asked, only a factor of this sign-in", single, Requirement{ACR: ACRMFA}, tenants.MFAOptional, own, SignIn},
		{"MFA asked, no factor", single, Requirement{ACR: ACRMFA}, tenants.MFAOff, nil, SignIn},
		{"MFA asked, an unconfirmed factor", single, Requirement{ACR: ACRMFA}, tenants.MFAOff, pending, SignIn},
		{"MFA asked of an MFA session", mfa, Requirement{ACR: ACRMFA}, tenants.MFAOptional, app, Satisfied},
		{"phishing resistance asked of an MFA session, a passkey", mfa, Requirement{ACR: ACRPhishingResistant}, tenants.MFAOptional, key, StepUp},
		{"phishing resistance asked, only an app", mfa, Requirement{ACR: ACRPhishingResistant}, tenants.MFAOptional, app, SignIn},
		{"phishing resistance asked, the passkey is of this sign-in", mfa, Requirement{ACR: ACRPhishingResistant}, tenants.MFAOptional, ownKey, SignIn},
		{"phishing resistance asked of a passkey session", passkey, Requirement{ACR: ACRPhishingResistant}, tenants.MFAOptional, nil, Satisfied},
		// The tenant raised its policy after the session signed in.
		{"policy now required, a factor from before", single, Requirement{}, tenants.MFARequired, app, StepUp},
		{"policy now required, no factor: sign in, then enrol", single, Requirement{}, tenants.MFARequired, nil, SignIn},
		{"policy now required, only a factor of this sign-in", single, Requirement{}, tenants.MFARequired, own, SignIn},
		{"policy now required, MFA session", mfa, Requirement{}, tenants.MFARequired, nil, Satisfied},
		{"optional, the user added a factor elsewhere since", single, Requirement{}, tenants.MFAOptional, app, StepUp},
		{"optional, a factor added in this sign-in", single, Requirement{}, tenants.MFAOptional, own, Satisfied},
		{"MFA off, a factor", single, Requirement{}, tenants.MFAOff, app, Satisfied},
		{"sign-in rules come before the policy", single, Requirement{Prompt: []string{PromptLogin}}, tenants.MFARequired, app, SignIn},
		// prompt=none never shows a page.
		{"prompt=none, satisfied", single, Requirement{Prompt: none}, tenants.MFAOptional, nil, Satisfied},
		{"prompt=none, no session", nil, Requirement{Prompt: none}, tenants.MFAOptional, nil, LoginRequired},
		{"prompt=none, max_age exceeded", mfa, Requirement{Prompt: none, MaxAge: age(60)}, tenants.MFAOptional, app, LoginRequired},
		{"prompt=none, a step-up", single, Requirement{Prompt: none, ACR: ACRMFA}, tenants.MFAOptional, app, InteractionRequired},
		{"prompt=none, policy required, no factor", single, Requirement{Prompt: none}, tenants.MFARequired, nil, InteractionRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Judge(tt.s, tt.req, tt.policy, tt.fs, now); got != tt.want {
				t.Errorf("Judge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProofWith(t *testing.T) {
	at := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)
	up := StepUpOf(&tenants.Session{AMR: tenants.Strings{AMRPassword}, AuthTime: at, SignInID: "s1"}).With(AMROTP, ACRMFA)
	if up.AuthTime != at || up.SignInID != "s1" || up.ACR != ACRMFA || len(up.AMR) != 3 {
		t.Fatalf("a step-up's proof = %+v: want the session's auth_time and sign-in kept", up)
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
