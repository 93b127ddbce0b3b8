package samlidp

import (
	"slices"

	"github.com/gatehouse-id/gatehouse/app/authn"
)

// The authentication context vocabulary (SAML Authn Context §3.4): the one
// home of the classes Gatehouse understands in a RequestedAuthnContext and
// writes in an assertion's AuthnContextClassRef, and of the Gatehouse
// class (authn.ACR*) each one means. A request for a class outside this
// table cannot be satisfied.
const (
	acUnspec               = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
	acPassword             = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	acPasswordProtected    = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	acMFA                  = "urn:oasis:names:tc:SAML:2.0:ac:classes:MultifactorUnregistered"
	acMobileTwoFactor      = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
	acMobileTwoFactorUnreg = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered"
	acTimeSyncToken        = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"
	acREFEDSMFA            = "https://refeds.org/profile/mfa"
	acMicrosoftMFA         = "http://schemas.microsoft.com/claims/multipleauthn"
	acFIDO                 = "urn:rsa:names:tc:SAML:2.0:ac:classes:FIDO"
)

// Comparison methods of a RequestedAuthnContext (SAML Core §3.3.2.2.1).
const (
	compareExact   = "exact"
	compareMinimum = "minimum"
	compareMaximum = "maximum"
	compareBetter  = "better"
)

// levels orders Gatehouse's classes, weakest first: one factor, two
// factors, phishing-resistant.
var levels = []string{"", authn.ACRMFA, authn.ACRPhishingResistant}

// authnClasses maps each SAML class Gatehouse understands to the Gatehouse
// class a sign-in must reach for it.
var authnClasses = map[string]string{
	acUnspec:               "",
	acPassword:             "",
	acPasswordProtected:    "",
	acMFA:                  authn.ACRMFA,
	acMobileTwoFactor:      authn.ACRMFA,
	acMobileTwoFactorUnreg: authn.ACRMFA,
	acTimeSyncToken:        authn.ACRMFA,
	acREFEDSMFA:            authn.ACRMFA,
	acMicrosoftMFA:         authn.ACRMFA,
	acFIDO:                 authn.ACRPhishingResistant,
}

// reachedClass is the class an assertion names for a sign-in that reached
// Gatehouse class acr when the SP asked for nothing it understands.
func reachedClass(acr string) string {
	switch {
	case authn.Meets(acr, authn.ACRPhishingResistant):
		return acFIDO
	case authn.Meets(acr, authn.ACRMFA):
		return acMFA
	}
	return acPasswordProtected
}

func level(acr string) int { return slices.Index(levels, acr) }

// contextNeed returns the Gatehouse class a sign-in must reach to answer a
// RequestedAuthnContext of classes compared by comparison ("" is exact),
// and false when no sign-in could (only unknown classes, or "better" than
// the strongest): the request is answered NoAuthnContext. No classes ask
// for nothing.
func contextNeed(classes []string, comparison string) (string, bool) {
	if len(classes) == 0 {
		return "", true
	}
	lo, hi := len(levels), -1
	for _, c := range classes {
		if acr, ok := authnClasses[c]; ok {
			lo, hi = min(lo, level(acr)), max(hi, level(acr))
		}
	}
	if hi < 0 {
		return "", false
	}
	switch comparison {
	case compareMaximum:
		// As strong as possible without exceeding the strongest asked:
		// what the session already has is never too much to claim less.
		return "", true
	case compareBetter:
		if lo+1 >= len(levels) {
			return "", false
		}
		return levels[lo+1], true
	case compareMinimum, compareExact, "":
		return levels[lo], true
	}
	return "", false
}

// contextClass returns the AuthnContextClassRef of an assertion for a
// sign-in that reached Gatehouse class acr, for a request of classes
// compared by comparison (contextNeed passed): for exact and maximum the
// strongest class asked that the sign-in reached (the SP accepts only
// those); otherwise a class asked that names what was reached, or the
// class of what was reached. It returns false when the sign-in still does
// not answer the request (an exact request whose every class is stronger
// than what was done).
func contextClass(classes []string, comparison, acr string) (string, bool) {
	reached := level(acr)
	if reached < 0 {
		reached = 0
	}
	best, bestLevel := "", -1
	for _, c := range classes {
		x, ok := authnClasses[c]
		if ok && level(x) <= reached && level(x) > bestLevel {
			best, bestLevel = c, level(x)
		}
	}
	switch comparison {
	case compareExact, "", compareMaximum:
		if len(classes) == 0 {
			return reachedClass(acr), true
		}
		return best, best != ""
	}
	if bestLevel == reached {
		return best, true
	}
	return reachedClass(acr), true
}
