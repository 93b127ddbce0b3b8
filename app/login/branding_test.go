package login

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/views"
)

func TestBrandingCSS(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a readable accent as it is", "#1b5e20", ":root { --accent: #1b5e20; --accent-ink: #ffffff; }\n"},
		{"an unreadable one darkened", "#ffeb3b", ":root { --accent: " + tenants.ReadableAccent("#ffeb3b").Color + "; --accent-ink: #ffffff; }\n"},
		{"none", "", ""},
		{"not a colour", "red; } body { display: none", ""},
		{"upper case is not the stored form", "#FFEB3B", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := brandingCSS(tt.in); got != tt.want {
				t.Errorf("brandingCSS(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if strings.Contains(brandingCSS("#ffeb3b"), "#ffeb3b") {
		t.Error("the unreadable colour is used")
	}
}

// TestPageColoursAreReadable measures the end-user stylesheet: input
// borders and the focus ring against the card at least 3:1 (WCAG 1.4.11),
// muted text 4.5:1 (1.4.3), and the card and page background are the ones
// ReadableAccent measures against.
func TestPageColoursAreReadable(t *testing.T) {
	css, err := views.Static.ReadFile("static/gatehouse.css")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-f]{6});`).FindAllStringSubmatch(string(css), -1) {
		if _, seen := vars[m[1]]; !seen {
			vars[m[1]] = m[2]
		}
	}
	if vars["card"] != tenants.PageCard || vars["bg"] != tenants.PageBackground || vars["accent-ink"] != tenants.AccentInk {
		t.Fatalf("the stylesheet's card/bg/ink %s %s %s are not tenants'", vars["card"], vars["bg"], vars["accent-ink"])
	}
	card, _ := tenants.ParseHex(vars["card"])
	for _, c := range []struct {
		name string
		min  float64
	}{{"field-line", 3}, {"accent", tenants.MinAccentContrast}, {"muted", 4.5}, {"ink", 4.5}} {
		hex, ok := vars[c.name]
		if !ok {
			t.Errorf("no --%s in the stylesheet", c.name)
			continue
		}
		col, _ := tenants.ParseHex(hex)
		if r := tenants.Contrast(col, card); r < c.min {
			t.Errorf("--%s %s on the card: %.2f, want %.1f", c.name, hex, r, c.min)
		}
	}
	if !strings.Contains(string(css), "border: 1px solid var(--field-line)") {
		t.Error("inputs do not use --field-line")
	}
}

func TestProviderLogo(t *testing.T) {
	tests := []struct {
		typ, issuer, want string
	}{
		{tenants.ConnectionGoogle, "", views.LogoGoogle},
		{tenants.ConnectionGitHub, "", views.LogoGitHub},
		{tenants.ConnectionMicrosoft, "", views.LogoMicrosoft},
		{tenants.ConnectionApple, "", views.LogoApple},
		{tenants.ConnectionOIDC, "https://appleid.apple.com", views.LogoApple},
		{tenants.ConnectionOIDC, "https://AppleID.apple.com/", views.LogoApple},
		{tenants.ConnectionOIDC, "https://login.microsoftonline.com/common/v2.0", views.LogoMicrosoft},
		{tenants.ConnectionOIDC, "http://appleid.apple.com", ""},
		{tenants.ConnectionOIDC, "https://appleid.apple.com.evil.test", ""},
		{tenants.ConnectionOIDC, "https://idp.corp.test", ""},
		{tenants.ConnectionSAML, "", ""},
	}
	for _, tt := range tests {
		if got := providerLogo(tt.typ, tt.issuer); got != tt.want {
			t.Errorf("providerLogo(%q, %q) = %q, want %q", tt.typ, tt.issuer, got, tt.want)
		}
	}
}
