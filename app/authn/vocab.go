package authn

import "slices"

// Authentication context classes (OIDC Core §2, acr) Gatehouse reaches. A
// login with one factor reaches none ("").
const (
	// ACRMFA is multi-factor authentication.
	ACRMFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	// ACRPhishingResistant is authentication with a WebAuthn credential.
	ACRPhishingResistant = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant"
)

// SupportedACR lists the classes clients may ask for (acr_values), for
// discovery's acr_values_supported; any other requested value is ignored.
var SupportedACR = []string{ACRMFA, ACRPhishingResistant}

// KnownACR reports whether v is a class Gatehouse can reach.
func KnownACR(v string) bool { return slices.Contains(SupportedACR, v) }

// Authentication method references (RFC 8176) Gatehouse writes in amr.
const (
	AMRPassword  = "pwd"  // a password
	AMROTP       = "otp"  // a TOTP code, or a recovery code
	AMRHWK       = "hwk"  // a WebAuthn credential (security key or passkey)
	AMRUser      = "user" // user verification by the authenticator (PIN, biometric)
	AMRMFA       = "mfa"  // more than one factor
	AMRFederated = "fed"  // an upstream provider (the idp claim names it)
)

// Meets reports whether a login that reached class have satisfies a
// request for class want ("" is asked of every login).
func Meets(have, want string) bool {
	switch want {
	case ACRMFA:
		return have == ACRMFA || have == ACRPhishingResistant
	case ACRPhishingResistant:
		return have == ACRPhishingResistant
	}
	return true
}

// Strongest returns the strongest class among requested, or "" when it
// names none Gatehouse knows.
func Strongest(requested []string) string {
	switch {
	case slices.Contains(requested, ACRPhishingResistant):
		return ACRPhishingResistant
	case slices.Contains(requested, ACRMFA):
		return ACRMFA
	}
	return ""
}

// WithSecondFactor returns the methods of a first factor with method (a
// second factor) and "mfa" added.
func WithSecondFactor(first []string, method string) []string {
	out := slices.Clone(first)
	for _, m := range []string{method, AMRMFA} {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// Prompt values (OIDC Core §3.1.2.1).
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// SupportedPrompts lists the prompt values Gatehouse implements as OIDC
// Core §3.1.2.1 describes them, for discovery's prompt_values_supported.
var SupportedPrompts = []string{PromptNone, PromptLogin, PromptConsent}

// AcceptedPrompts lists the prompt values the authorization endpoint
// takes: SupportedPrompts and select_account, which is not advertised. A
// browser holds one session, so there is no chooser of several signed-in
// accounts to show; the account is chosen by signing in, as for login
// (ForcesSignIn). With none it is refused like any other value; no request
// reaches a point where account_selection_required would be the answer.
var AcceptedPrompts = []string{PromptNone, PromptLogin, PromptConsent, PromptSelectAccount}

// ForcesSignIn reports whether prompt values make the user sign in again,
// even with a session: login, and select_account (the sign-in page is
// where another account is chosen).
func ForcesSignIn(prompt []string) bool {
	return slices.Contains(prompt, PromptLogin) || slices.Contains(prompt, PromptSelectAccount)
}
