package samlidp

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/app/authn"
)

// TestContextNeed maps a RequestedAuthnContext to the class a sign-in must
// reach (SAML Core §3.3.2.2.1), or to NoAuthnContext.
func TestContextNeed(t *testing.T) {
	tests := []struct {
		name       string
		classes    []string
		comparison string
		want       string
		wantOK     bool
	}{
		{name: "nothing asked", wantOK: true},
		{name: "password, exact", classes: []string{acPasswordProtected}, wantOK: true},
		{name: "two-factor, exact by default", classes: []string{acMobileTwoFactor}, want: authn.ACRMFA, wantOK: true},
		{name: "two-factor or password, exact: the weaker is enough", classes: []string{acMobileTwoFactor, acPasswordProtected}, wantOK: true},
		{name: "minimum two-factor", classes: []string{acREFEDSMFA}, comparison: "minimum", want: authn.ACRMFA, wantOK: true},
		{name: "better than password", classes: []string{acPassword}, comparison: "better", want: authn.ACRMFA, wantOK: true},
		{name: "better than FIDO: nothing is", classes: []string{acFIDO}, comparison: "better"},
		{name: "maximum two-factor asks nothing more", classes: []string{acMobileTwoFactor}, comparison: "maximum", wantOK: true},
		{name: "FIDO", classes: []string{acFIDO}, want: authn.ACRPhishingResistant, wantOK: true},
		{name: "only unknown classes", classes: []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos"}},
		{name: "unknown and known", classes: []string{"urn:example:unknown", acMobileTwoFactorUnreg}, want: authn.ACRMFA, wantOK: true},
		{name: "unknown comparison", classes: []string{acPassword}, comparison: "sideways"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := contextNeed(tt.classes, tt.comparison)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("contextNeed = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestContextClass picks the AuthnContextClassRef an assertion states:
// a class the SP asked for when one describes the sign-in, otherwise the
// class of what was done.
func TestContextClass(t *testing.T) {
	tests := []struct {
		name       string
		classes    []string
		comparison string
		acr        string
		want       string
		wantOK     bool
	}{
		{name: "nothing asked, password", want: acPasswordProtected, wantOK: true},
		{name: "nothing asked, two factors", acr: authn.ACRMFA, want: acMFA, wantOK: true},
		{name: "nothing asked, passkey", acr: authn.ACRPhishingResistant, want: acFIDO, wantOK: true},
		{name: "exact two-factor after two factors: the class asked", classes: []string{acMobileTwoFactor}, acr: authn.ACRMFA,
			want: acMobileTwoFactor, wantOK: true},
		{name: "exact two-factor after a password only", classes: []string{acMobileTwoFactor}},
		{name: "exact: the strongest class asked that was reached", classes: []string{acPassword, acMobileTwoFactor}, acr: authn.ACRPhishingResistant,
			want: acMobileTwoFactor, wantOK: true},
		{name: "minimum password after two factors: what was done", classes: []string{acPassword}, comparison: "minimum", acr: authn.ACRMFA,
			want: acMFA, wantOK: true},
		{name: "minimum two-factor after two factors: the class asked", classes: []string{acREFEDSMFA}, comparison: "minimum", acr: authn.ACRMFA,
			want: acREFEDSMFA, wantOK: true},
		{name: "better than password", classes: []string{acPassword}, comparison: "better", acr: authn.ACRMFA, want: acMFA, wantOK: true},
		{name: "maximum two-factor after a password", classes: []string{acPasswordProtected, acMobileTwoFactor}, comparison: "maximum",
			want: acPasswordProtected, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := contextClass(tt.classes, tt.comparison, tt.acr)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("contextClass = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestAuthnContextOf reads every class of a RequestedAuthnContext and
// refuses what no SP means.
func TestAuthnContextOf(t *testing.T) {
	const head = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x" Version="2.0">`
	ok := head + `<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>` + acPassword +
		`</saml:AuthnContextClassRef><saml:AuthnContextClassRef>` + acMobileTwoFactor + `</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>`
	classes, cmp, err := authnContextOf([]byte(ok))
	if err != nil || cmp != "minimum" || len(classes) != 2 || classes[1] != acMobileTwoFactor {
		t.Fatalf("authnContextOf = %v, %q, %v", classes, cmp, err)
	}
	if classes, _, err := authnContextOf([]byte(head + `</samlp:AuthnRequest>`)); err != nil || classes != nil {
		t.Fatalf("no context: %v, %v", classes, err)
	}
	for name, x := range map[string]string{
		"bad comparison": head + `<samlp:RequestedAuthnContext Comparison="sideways"><saml:AuthnContextClassRef>a</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>`,
		"no class":       head + `<samlp:RequestedAuthnContext></samlp:RequestedAuthnContext></samlp:AuthnRequest>`,
	} {
		if _, _, err := authnContextOf([]byte(x)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
